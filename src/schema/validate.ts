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

const OBJECT_TYPES = new Set(['object', 'strict_object', 'loose_object']);

function problemOf(issue: v.BaseIssue<unknown>): FieldProblem {
  const keys = (issue.path ?? []).map((item) => item.key as PropertyKey);
  const path = pathOf(keys);
  if (issue.kind === 'schema' && issue.path?.length) {
    // An unknown key is reported on the object with the key as the input: name the key itself.
    if (issue.expected === 'never') return { path, message: 'is not a known field (check its spelling; unknown fields are refused)' };
    if (issue.input === undefined) return { path, message: 'is missing' };
  }
  // valibot's own words for objects without a message of ours ("Invalid type: Expected Object…").
  if (issue.kind === 'schema' && OBJECT_TYPES.has(issue.type)) return { path, message: `must be an object${got(issue)}` };
  return { path, message: issue.message };
}

/** Shows a received value in a message: short, quoted when a string, never raw HTML-ready text. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'a list' : 'an object';
}

// Building blocks with messages in the project's words.

/** `, got 40` — the tail of a message about a received value. */
export const got = (issue: { input: unknown }) => `, got ${shown(issue.input)}`;

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

/** The count is checked before the items: a list of a million items is refused at once. */
export const listOf = <S extends AnySchema>(item: S, min: number, max: number, what: string) =>
  v.pipe(
    v.array(v.unknown(), (issue) => `must be a list of ${what}${got(issue)}`),
    v.minLength(min, `needs at least ${min} ${what}`),
    v.maxLength(max, (issue) => `has ${(issue.input as unknown[]).length} ${what}; at most ${max}`),
    v.array(item),
  );

/** A web address the app may fetch: http(s), or relative to the page (no javascript:, data:, file:…). */
export const webAddress = (maxLength: number) =>
  v.pipe(
    text(maxLength),
    v.check((value) => value.trim().length > 0, 'is empty: give the address of the file'),
    v.check((value) => !/[\s\u0000-\u001f]/.test(value), 'must not contain spaces or control characters (encode them as %20…)'),
    v.check((value) => !/^[a-z][a-z0-9+.-]*:/i.test(value) || /^https?:\/\/[^/]/i.test(value), (issue) => `must be an http(s) address or a relative one${got(issue)}`),
  );

// JSON text from files, links and pasted documents.

const BYTE_ORDER_MARK = '\ufeff';

/**
 * Parses JSON text (a leading byte-order mark is allowed, as editors write one). Invalid text gives
 * one problem that says where: `not valid JSON (line 3, column 9: expected a value, found "}")`.
 */
export function parseJsonText(text: string): Checked<unknown> {
  const body = text.startsWith(BYTE_ORDER_MARK) ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const fault = jsonSyntaxFault(body);
    const where = fault ? `${lineAndColumn(body, fault.at)}: expected ${fault.expected}, found ${found(body, fault.at)}` : (error as Error).message;
    return { ok: false, problems: [{ path: '', message: `not valid JSON (${where})` }] };
  }
}

function lineAndColumn(text: string, at: number): string {
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return `line ${line}, column ${at - before.lastIndexOf('\n')}`;
}

function found(text: string, at: number): string {
  if (at >= text.length) return 'the end of the text';
  const character = text.codePointAt(at)!;
  return character < 0x20 ? `a control character (code ${character})` : JSON.stringify(String.fromCodePoint(character));
}

/** Where JSON.parse gave up and what it wanted there; JSON.parse's own messages often do not say. */
function jsonSyntaxFault(text: string): { at: number; expected: string } | undefined {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return undefined;
  } catch (fault) {
    if (fault instanceof JsonFault) return fault;
    throw fault;
  }
}

class JsonFault {
  constructor(readonly at: number, readonly expected: string) {}
}

const JSON_NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const JSON_ESCAPE = /\\(["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/** JSON's grammar (RFC 8259), checked without building values; iterative, so any depth is fine. */
class JsonScanner {
  private at = 0;
  constructor(private readonly text: string) {}

  document(): void {
    // Each entry: the closing bracket awaited by an open array or object.
    const open: string[] = [];
    this.value(open);
    while (open.length > 0) {
      this.space();
      const close = open[open.length - 1];
      if (this.text[this.at] === close) {
        this.at++;
        open.pop();
        continue;
      }
      this.expect(',', `"," or "${close}"`);
      if (close === '}') this.member();
      this.value(open);
    }
    this.space();
    if (this.at < this.text.length) throw new JsonFault(this.at, 'the end of the text');
  }

  /** A value; an array or object is opened (its first member read) and left on `open`. */
  private value(open: string[]): void {
    for (;;) {
      this.space();
      const character = this.text[this.at];
      if (character === '[' || character === '{') {
        this.at++;
        this.space();
        const close = character === '[' ? ']' : '}';
        if (this.text[this.at] === close) {
          this.at++;
          return;
        }
        open.push(close);
        if (close === '}') this.member();
        continue;
      }
      if (character === '"') return this.string();
      if (character === '-' || (character >= '0' && character <= '9')) return this.number();
      for (const literal of ['true', 'false', 'null']) {
        if (this.text.startsWith(literal, this.at)) {
          this.at += literal.length;
          return;
        }
      }
      throw new JsonFault(this.at, 'a value');
    }
  }

  /** `"key":` before an object member's value. */
  private member(): void {
    this.space();
    if (this.text[this.at] !== '"') throw new JsonFault(this.at, 'a field name in double quotes');
    this.string();
    this.space();
    this.expect(':', '":"');
  }

  private string(): void {
    this.at++;
    for (;;) {
      const character = this.text[this.at];
      if (character === undefined) throw new JsonFault(this.at, 'a closing "');
      if (character === '"') break;
      if (character < ' ') throw new JsonFault(this.at, 'text without control characters (write \\n for a new line)');
      if (character === '\\') {
        this.at += this.match(JSON_ESCAPE, 'an escape such as \\n, \\" or \\u00e9');
      } else {
        this.at++;
      }
    }
    this.at++;
  }

  private number(): void {
    this.at += this.match(JSON_NUMBER, 'a number');
  }

  /** Length of `pattern` (sticky) matched at the current position. */
  private match(pattern: RegExp, what: string): number {
    pattern.lastIndex = this.at;
    const length = pattern.exec(this.text)?.[0].length;
    if (length === undefined) throw new JsonFault(this.at, what);
    return length;
  }

  private space(): void {
    while (' \t\n\r'.includes(this.text[this.at] ?? 'x')) this.at++;
  }

  private expect(character: string, what: string): void {
    if (this.text[this.at] !== character) throw new JsonFault(this.at, what);
    this.at++;
  }
}
