// The property-based fuzz suite's tools (fast-check). Every external format gets one entry:
//
//   fuzzDocuments({ name, examples, check })  values (parsed JSON, structured-cloned requests)
//   fuzzTexts({ name, examples, check })      text (JSON files, share links)
//   fuzzBytes({ name, examples, read })       bytes (model files, PNG chunks)
//
// Each registers a vitest test that mutates the valid examples and runs every case through the
// real validator or reader: it must end in a valid result or a typed refusal (a `problems` list,
// or an error of one of `typed`), never another exception, a hang (each case is bounded by
// CASE_TIMEOUT_MS) or memory growth. A failure prints fast-check's seed and path, and the
// project's `TEST_SEED=<seed>` line that replays it.

import fc from 'fast-check';
import { expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import type { Checked } from '../../../src/schema/validate';
import { freshSeed } from '../../helpers/random';

/** ms; a validator or reader that takes longer on a small input has a bug */
export const CASE_TIMEOUT_MS = 5_000;
/** FUZZ_RUNS=10 runs ten times as many cases (a long local session) */
const RUN_SCALE = Number(process.env.FUZZ_RUNS ?? 1);

/**
 * Messages must not show JavaScript's internals; "NaN" only where the input itself was NaN ("got
 * NaN") or where the message names non-finite input values ("(NaN or infinity)").
 */
const INTERNALS = /undefined|\[object|NaN(?<!got NaN)(?! or infinity\))/;
/** Model files: no value of theirs is ever shown as a number that could be NaN. */
export const MODEL_FILE_INTERNALS = /undefined|\[object|NaN/;
/** Quoted text comes from the input (a key, a file name, a value): it may say anything. */
const QUOTED = /"(?:[^"\\]|\\.)*"/g;

type ErrorClass = abstract new (...args: never[]) => Error;

/** What a case ended in: accepted, or refused with messages people read. */
export type Outcome = { valid: true } | { valid: false; messages: string[] };

/** A `check` result as an outcome; its problems must each name a path (a string) and say something. */
export function outcomeOfChecked(result: Checked<unknown>): Outcome {
  if (result.ok) return { valid: true };
  expect(result.problems.length, 'a refusal without problems').toBeGreaterThan(0);
  for (const problem of result.problems) {
    expect(typeof problem.path).toBe('string');
    expect(problem.message.length).toBeGreaterThan(0);
  }
  return { valid: false, messages: result.problems.map(({ message }) => message) };
}

/** Runs `work`; a thrown error of a `typed` class is a refusal, any other error fails the case. */
export async function outcomeOfCall(work: () => unknown, typed: readonly ErrorClass[] = [EngineError]): Promise<Outcome> {
  try {
    await work();
    return { valid: true };
  } catch (error) {
    if (!typed.some((kind) => error instanceof kind)) throw error;
    const { message } = error as Error;
    const action = (error as { action?: unknown }).action;
    expect(message.length).toBeGreaterThan(0);
    return { valid: false, messages: typeof action === 'string' ? [message, action] : [message] };
  }
}

export function expectReadableMessages(outcome: Outcome, internals = INTERNALS): void {
  if (outcome.valid) return;
  for (const message of outcome.messages) expect(message.replace(QUOTED, '""'), 'a message showing JavaScript internals').not.toMatch(internals);
}

/** Registers a fast-check property as a test; `runs` cases, seed from TEST_SEED or fresh. */
export function fuzzTest<T>(name: string, arbitrary: fc.Arbitrary<T>, property: (value: T) => Promise<void>, runs: number, timeout = 60_000): void {
  it(
    name,
    async () => {
      const seed = freshSeed(`fuzz ${name}`) | 0;
      await fc.assert(fc.asyncProperty(arbitrary, property), { seed, numRuns: Math.max(1, Math.round(runs * RUN_SCALE)), plugins: [fc.timeout(CASE_TIMEOUT_MS)] });
      expect(({} as Record<string, unknown>).polluted, 'Object.prototype was polluted').toBeUndefined();
    },
    timeout * RUN_SCALE,
  );
}

// ---------------------------------------------------------------------------------------------
// Values: mutations of valid documents

/** An object with an own `__proto__` key, as JSON.parse makes one. */
const PROTO_BOMB = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');

/** Values that break validators: edges of numbers, strings that look like other types, objects that are not plain. */
export const awkwardValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 1.5, 15, 16, 17, 40, 1023, 1e9, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 31), NaN, Infinity, -Infinity, 5e-324),
  fc.constantFrom('', ' ', 'yes', 'true', '1', '1e9', 'NaN', 'abc', '__proto__', 'dev-50 ', 'javascript:alert(1)', '\u0000', '\u202e', 'x'.repeat(5000)),
  fc.constantFrom(true, false, null, undefined),
  fc.constantFrom<unknown>([], {}, [[]], { '': 1 }),
  fc.constant(PROTO_BOMB),
  fc.constant(Object.create(null)),
  fc.constantFrom<unknown>(new Date(0), new Uint8Array(4), 12n, new Blob(['x'])),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 2 }),
);

const awkwardKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' mode', 'Width', 'frames '), fc.string({ maxLength: 12 }));

interface Mutation {
  /** which node of the document (taken modulo the number of nodes) */
  at: number;
  kind: 'replace' | 'delete' | 'add-key' | 'wrap' | 'repeat' | 'nudge';
  value: unknown;
  key: string;
  /** 'repeat': copies of an array's items; 'nudge': which change */
  count: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'replace', 'delete', 'add-key', 'wrap', 'repeat', 'nudge'),
  value: awkwardValue,
  key: awkwardKey,
  count: fc.integer({ min: 1, max: 40 }),
});

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/** Sets an own property even for `__proto__` (as JSON.parse does), never the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy of plain objects and arrays; other values (Blobs, typed arrays) are shared. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) setOwn(out, key, copy(value[key]));
  return out;
}

type Path = (string | number)[];

function nodePaths(value: unknown, path: Path = []): Path[] {
  const children = Array.isArray(value) ? value.map((item, i) => nodePaths(item, [...path, i])) : isPlainObject(value) ? Object.keys(value).map((key) => nodePaths(value[key], [...path, key])) : [];
  return [path, ...children.flat()];
}

function nudged(value: unknown, count: number): unknown {
  if (typeof value === 'number') return [value + 1, value - 1, value + 0.5, value * 16, -value, value * 1e6, value + 2 ** 32][count % 7];
  if (typeof value === 'string') return [`${value} `, value.toUpperCase(), value.slice(1), value.repeat(count * 50), `${value}\u0000`][count % 5];
  if (typeof value === 'boolean') return [String(value), Number(value)][count % 2];
  return value;
}

function apply(document: unknown, change: Mutation): unknown {
  const paths = nodePaths(document);
  const path = paths[change.at % paths.length];
  const target = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], document);
  const replaced = (): unknown => {
    switch (change.kind) {
      case 'replace':
        return copy(change.value);
      case 'wrap':
        return change.count % 2 ? [target] : { value: target };
      case 'nudge':
        return nudged(target, change.count);
      case 'repeat':
        return Array.isArray(target) && target.length ? Array.from({ length: target.length * change.count }, (_, i) => copy(target[i % target.length])) : target;
      case 'add-key':
        if (isPlainObject(target)) setOwn(target, change.key, copy(change.value));
        return target;
      case 'delete':
        return undefined;
    }
  };
  if (path.length === 0) return change.kind === 'delete' ? undefined : replaced();
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], document) as Record<string | number, unknown> | unknown[];
  const key = path[path.length - 1];
  if (change.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else if (Array.isArray(parent)) {
    parent[key as number] = replaced();
  } else {
    setOwn(parent, key as string, replaced());
  }
  return document;
}

/** Valid examples, each changed by one to four mutations; now and then an example as it is, or anything at all. */
export function mutatedDocuments(examples: readonly unknown[]): fc.Arbitrary<unknown> {
  const mutated = fc.tuple(fc.nat({ max: examples.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([index, changes]) =>
    changes.reduce((document, change) => apply(document, change), copy(examples[index])),
  );
  return fc.oneof({ weight: 16, arbitrary: mutated }, { weight: 1, arbitrary: fc.constantFrom(...examples).map(copy) }, { weight: 1, arbitrary: fc.anything() });
}

export interface DocumentFormat {
  name: string;
  /** valid documents, to be mutated (they must pass `check`) */
  examples: readonly unknown[];
  /** the format's real validator; must not throw */
  check(input: unknown): Checked<unknown>;
  runs?: number;
}

export function fuzzDocuments(format: DocumentFormat): void {
  it(`${format.name}: the examples are valid`, () => {
    for (const example of format.examples) expect(format.check(example)).toMatchObject({ ok: true });
  });
  fuzzTest(`${format.name}: mutated documents are accepted or refused with readable problems`, mutatedDocuments(format.examples), async (document) => {
    const outcome = outcomeOfChecked(format.check(document));
    expectReadableMessages(outcome);
  }, format.runs ?? 400);
}

// ---------------------------------------------------------------------------------------------
// Text

const textEdit = fc.record({ at: fc.nat(), length: fc.nat({ max: 40 }), insert: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\n', '\u0000', 'NaN', '1e999', '-', '\ufeff')) });

/** Valid texts cut, spliced and garbled; now and then a random string. */
export function mutatedTexts(examples: readonly string[]): fc.Arbitrary<string> {
  const edited = fc.tuple(fc.constantFrom(...examples), fc.array(textEdit, { minLength: 1, maxLength: 3 })).map(([text, edits]) =>
    edits.reduce((current, { at, length, insert }) => {
      const start = at % (current.length + 1);
      return current.slice(0, start) + insert + current.slice(start + length);
    }, text),
  );
  return fc.oneof({ weight: 12, arbitrary: edited }, { weight: 1, arbitrary: fc.string() });
}

export interface TextFormat {
  name: string;
  examples: readonly string[];
  /** the format's real reader: a `check` result, or a typed error thrown */
  check(text: string): Checked<unknown> | Promise<Checked<unknown>>;
  typed?: readonly ErrorClass[];
  runs?: number;
}

export function fuzzTexts(format: TextFormat): void {
  fuzzTest(`${format.name}: mutated texts are accepted or refused with readable problems`, mutatedTexts(format.examples), async (text) => {
    let checked: Checked<unknown> | undefined;
    const outcome = await outcomeOfCall(async () => (checked = await format.check(text)), format.typed);
    expectReadableMessages(checked ? outcomeOfChecked(checked) : outcome);
  }, format.runs ?? 400);
}

// ---------------------------------------------------------------------------------------------
// Bytes

/** Edges of 32- and 64-bit counts, lengths and offsets. */
const EDGE_U32 = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const EDGE_U64 = [2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];

export type ByteMutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'u64'; at: number; value: bigint }
  | { kind: 'bytes'; at: number; bytes: Uint8Array };

/** Mutations aimed at the first `headerBytes` bytes (where every count and offset is), truncations anywhere. */
export function byteMutations(headerBytes: number, fileBytes: number): fc.Arbitrary<ByteMutation[]> {
  const inHeader = fc.nat({ max: Math.max(0, headerBytes - 1) });
  const aligned = (width: number) => fc.oneof(inHeader.map((at) => at - (at % width)), inHeader);
  const one: fc.Arbitrary<ByteMutation> = fc.oneof(
    fc.oneof(inHeader, fc.nat({ max: fileBytes })).map((at): ByteMutation => ({ kind: 'truncate', at })),
    fc.tuple(inHeader, fc.nat({ max: 7 })).map(([at, bit]): ByteMutation => ({ kind: 'flip', at, bit })),
    fc.tuple(aligned(4), fc.oneof(fc.constantFrom(...EDGE_U32), fc.nat())).map(([at, value]): ByteMutation => ({ kind: 'u32', at, value })),
    fc.tuple(aligned(8), fc.constantFrom(...EDGE_U64)).map(([at, value]): ByteMutation => ({ kind: 'u64', at, value })),
    fc.tuple(inHeader, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, bytes]): ByteMutation => ({ kind: 'bytes', at, bytes })),
  );
  return fc.array(one, { minLength: 1, maxLength: 4 });
}

/** `original` with the mutations applied: a sparse patch over a shared buffer, so a case costs no copy of the file. */
export interface MutatedBytes {
  /** bytes */
  size: number;
  /** a copy of bytes [offset, offset + length) that lie before `size` */
  read(offset: number, length: number): Uint8Array;
}

export function mutatedBytes(original: Uint8Array, mutations: readonly ByteMutation[]): MutatedBytes {
  const patches = new Map<number, number>();
  let size = original.length;
  const put = (at: number, bytes: Uint8Array) => bytes.forEach((byte, i) => at + i < size && patches.set(at + i, byte));
  for (const change of mutations) {
    if (change.kind === 'truncate') size = Math.min(size, change.at);
    else if (change.kind === 'flip') put(change.at, Uint8Array.of((patches.get(change.at) ?? original[change.at]) ^ (1 << change.bit)));
    else if (change.kind === 'bytes') put(change.at, change.bytes);
    else {
      const field = new DataView(new ArrayBuffer(change.kind === 'u32' ? 4 : 8));
      if (change.kind === 'u32') field.setUint32(0, change.value, true);
      else field.setBigUint64(0, change.value, true);
      put(change.at, new Uint8Array(field.buffer));
    }
  }
  return {
    size,
    read(offset, length) {
      const bytes = original.slice(offset, Math.min(offset + length, size));
      for (const [at, byte] of patches) if (at >= offset && at < offset + bytes.length) bytes[at - offset] = byte;
      return bytes;
    },
  };
}

export interface ByteExample {
  name: string;
  bytes: Uint8Array;
  /** bytes at the start that hold the format's counts, lengths and offsets (mutations aim there) */
  headerBytes: number;
}

export interface ByteFormat {
  name: string;
  /** built once, when the test runs (tiny model files take seconds) */
  examples(): ByteExample[] | Promise<ByteExample[]>;
  /**
   * The real reader, on mutated bytes: returns anything, or throws a typed error. `choice` is a
   * random 32-bit number it may use to vary how it reads (a stream or random access, piece sizes).
   */
  read(example: ByteExample, bytes: MutatedBytes, choice: number): Promise<unknown>;
  typed?: readonly ErrorClass[];
  runs?: number;
  /** more memory than this over the starting point after a case is a leak or a premature allocation (bytes) */
  memoryBudget?: number;
}

export function fuzzBytes(format: ByteFormat): void {
  it(`${format.name}: mutated bytes are read or refused with typed errors`, async () => {
    const examples = await format.examples();
    for (const example of examples) await format.read(example, mutatedBytes(example.bytes, []), 0);
    // Garbage of earlier cases counts until the next collection, so the budget is generous; what it
    // catches is an allocation sized by a hostile count before the count was checked.
    const budget = format.memoryBudget ?? 2 ** 30;
    const baseline = process.memoryUsage().arrayBuffers;
    const seed = freshSeed(`fuzz ${format.name}`) | 0;
    const cases = fc.nat({ max: examples.length - 1 }).chain((index) => fc.tuple(fc.constant(examples[index]), byteMutations(examples[index].headerBytes, examples[index].bytes.length), fc.nat()));
    await fc.assert(
      fc.asyncProperty(cases, async ([example, mutations, choice]) => {
        const outcome = await outcomeOfCall(() => format.read(example, mutatedBytes(example.bytes, mutations), choice), format.typed);
        expectReadableMessages(outcome, MODEL_FILE_INTERNALS);
        expect(process.memoryUsage().arrayBuffers - baseline, 'memory held after a case').toBeLessThan(budget);
      }),
      { seed, numRuns: Math.max(1, Math.round((format.runs ?? 200) * RUN_SCALE)), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
  }, 120_000 * RUN_SCALE);
}
