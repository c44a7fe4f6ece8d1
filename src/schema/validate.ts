// Turning a schema's verdict into what people read: every problem names the field by its path
// (`frames[2].width`) and says what was wrong, in one line. The engine throws these as
// 'invalid-input' errors, the CLI prints them, the UI shows each beside its field.

import * as v from 'valibot';

export interface FieldProblem {
  /** `frames[2].width`; '' for the document itself */
  path: string;
  /** `must be a multiple of 16, got 40` */
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problems: FieldProblem[] };

type AnySchema = v.GenericSchema<unknown, unknown>;

/** Validates `input`; never throws (a schema's own bug aside). */
export function check<S extends AnySchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, problems: result.issues.map(problemOf) };
}

/** `frames[2].width: must be a multiple of 16, got 40` (the first few, then how many more). */
export function describeProblems(problems: readonly FieldProblem[], shown = 3): string {
  const lines = problems.slice(0, shown).map(({ path, message }) => (path ? `${path}: ${message}` : message));
  const more = problems.length - shown;
  return more > 0 ? `${lines.join('; ')} (and ${more} more)` : lines.join('; ');
}

export function pathOf(keys: readonly PropertyKey[]): string {
  return keys.reduce<string>((path, key) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${String(key)}` : String(key)), '');
}

function problemOf(issue: v.BaseIssue<unknown>): FieldProblem {
  const keys = (issue.path ?? []).map((item) => item.key as PropertyKey);
  // An unknown key is reported on the object with the key as the input: name the key itself.
  if (issue.kind === 'schema' && issue.expected === 'never' && issue.path?.length) {
    return { path: pathOf(keys), message: 'is not a known field (check its spelling; unknown fields are refused)' };
  }
  return { path: pathOf(keys), message: issue.message };
}

/** Shows a received value in a message: short, quoted when a string, never raw HTML-ready text. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

// Building blocks with messages in the project's words.

const got = (issue: { input: unknown }) => `, got ${shown(issue.input)}`;

export const finiteNumber = () =>
  v.pipe(v.number((issue) => `must be a number${got(issue)}`), v.finite((issue) => `must be a finite number${got(issue)}`));

export const integerIn = (min: number, max: number) =>
  v.pipe(
    finiteNumber(),
    v.integer((issue) => `must be a whole number${got(issue)}`),
    v.minValue(min, (issue) => `must be at least ${min}${got(issue)}`),
    v.maxValue(max, (issue) => `must be at most ${max}${got(issue)}`),
  );

export const numberIn = (min: number, max: number) =>
  v.pipe(
    finiteNumber(),
    v.minValue(min, (issue) => `must be at least ${min}${got(issue)}`),
    v.maxValue(max, (issue) => `must be at most ${max}${got(issue)}`),
  );

export const flag = () => v.boolean((issue) => `must be true or false${got(issue)}`);

export const text = (maxLength: number) =>
  v.pipe(v.string((issue) => `must be text${got(issue)}`), v.maxLength(maxLength, (issue) => `is too long (${(issue.input as string).length} characters; at most ${maxLength})`));

export const nonEmptyText = (maxLength: number, what: string) =>
  v.pipe(text(maxLength), v.check((value) => value.trim().length > 0, `is empty: ${what}`));

export const oneOf = <const T extends readonly string[]>(options: T) =>
  v.picklist(options, (issue) => `must be one of ${options.map((o) => `"${o}"`).join(', ')}${got(issue)}`);

export const listOf = <S extends AnySchema>(item: S, min: number, max: number, what: string) =>
  v.pipe(
    v.array(item, (issue) => `must be a list of ${what}${got(issue)}`),
    v.minLength(min, `needs at least ${min} ${what}`),
    v.maxLength(max, (issue) => `has ${(issue.input as unknown[]).length} ${what}; at most ${max}`),
  );
