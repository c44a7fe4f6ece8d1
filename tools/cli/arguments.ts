// From a command line to a command's validated options, never throwing: node's parseArgs splits
// the words (in its lenient mode, which reports instead of throwing), this file turns each
// unknown option, missing value, value given to a flag, repeated option or stray word into a
// problem naming it, and the command's schema (src/schema/cli.ts) checks the values.

import { parseArgs } from 'node:util';
import type * as v from 'valibot';
import { FLAG, type RawArgument } from '../../src/schema/cli';
import { check, type Checked } from '../../src/schema/validate';

/** Option names (`--steps`) and positional names (`STORY.json`) the command knows, with their schemas. */
export type CommandEntries = Readonly<Record<string, unknown>>;

/** The raw arguments: option or positional name -> the text typed (flags: true). */
export function rawArguments(command: string, entries: CommandEntries, argv: readonly string[]): Checked<Record<string, RawArgument>> {
  const names = Object.keys(entries);
  const options = Object.fromEntries(
    names.filter((name) => name.startsWith('--')).map((name) => [name.slice(2), { type: entries[name] === FLAG ? ('boolean' as const) : ('string' as const) }]),
  );
  const positionals = names.filter((name) => !name.startsWith('--'));
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const raw: Record<string, RawArgument> = {};
  const fail = (path: string, message: string): Checked<Record<string, RawArgument>> => ({ ok: false, problems: [{ path, message }] });
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      const name = positionals.find((candidate) => !(candidate in raw));
      if (!name) return fail(JSON.stringify(token.value), `is not an argument of ${command} (options start with --)`);
      raw[name] = token.value;
      continue;
    }
    const key = `--${token.name}`;
    if (!token.rawName.startsWith('--') || !Object.hasOwn(options, token.name)) return fail(token.rawName, `is not an option of ${command}`);
    if (key in raw) return fail(key, 'is given twice');
    const problem = valueProblem(options[token.name].type, token.value, token.inlineValue);
    if (problem) return fail(key, problem);
    raw[key] = token.value ?? true;
  }
  return { ok: true, value: raw };
}

function valueProblem(type: 'boolean' | 'string', value: string | undefined, inline: boolean | undefined): string | undefined {
  if (type === 'boolean') return value === undefined ? undefined : 'takes no value';
  // Lenient parseArgs takes the next word even when it is another option: `--steps --grid 2,3`.
  if (value === undefined || (!inline && value.startsWith('--'))) return 'needs a value';
  return undefined;
}

/** The command line checked by the command's schema: its options object, or problems naming each option. */
export function commandArguments<S extends v.GenericSchema<Record<string, RawArgument>, unknown>>(
  command: string,
  entries: CommandEntries,
  schema: S,
  argv: readonly string[],
): Checked<v.InferOutput<S>> {
  const raw = rawArguments(command, entries, argv);
  return raw.ok ? check(schema, raw.value) : raw;
}
