// A JSON file given on the command line, checked by its schema: every problem is one line naming
// the file and the field (`story.json: frames[2].width: must be a multiple of 16, got 40`).

import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type * as v from 'valibot';
import { formatBytes, invalidInput } from '../../src/engine/errors';
import { check, describeProblems, parseJsonText } from '../../src/schema/validate';

/** A story of 32 frames is a few kB; anything this large is not one. */
export const MAX_JSON_BYTES = 4 * 2 ** 20;

/** `guide` says where the format is described, for the action sentence. */
export async function readJsonFile<S extends v.GenericSchema<unknown, unknown>>(file: string, schema: S, guide: string): Promise<v.InferOutput<S>> {
  const action = `Correct the file as ${guide} describes, then run the command again.`;
  const bytes = statSync(file).size;
  if (bytes > MAX_JSON_BYTES) throw invalidInput(`${file}: is ${formatBytes(bytes)}; a JSON file here is at most ${formatBytes(MAX_JSON_BYTES)}.`, action);
  const parsed = parseJsonText(await readFile(file, 'utf8'));
  const checked = parsed.ok ? check(schema, parsed.value) : parsed;
  if (!checked.ok) throw invalidInput(`${file}: ${describeProblems(checked.problems)}`, action);
  return checked.value;
}
