// GGUF metadata values (spec flux.md §6.2): twelve scalar types and arrays of any of them,
// arrays of arrays included, with the binary codec shared by the reader and the writer.
// Numeric arrays are typed arrays, so a large tokenizer table costs its file size, not an
// object per element.

import { invalidInput } from '../errors';
import type { ByteCursor } from './byte-cursor';
import type { ByteWriter } from './byte-writer';
import { malformedFile } from './model-file-errors';

interface ScalarValues {
  u8: number; i8: number; u16: number; i16: number; u32: number; i32: number;
  f32: number; f64: number; u64: bigint; i64: bigint; bool: boolean; string: string;
}

interface ArrayValues {
  u8: Uint8Array; i8: Int8Array; u16: Uint16Array; i16: Int16Array; u32: Uint32Array; i32: Int32Array;
  f32: Float32Array; f64: Float64Array; u64: BigUint64Array; i64: BigInt64Array;
  bool: boolean[]; string: string[]; array: GgufArray[];
}

export type GgufScalarType = keyof ScalarValues;
export type GgufScalar = { [K in GgufScalarType]: { type: K; value: ScalarValues[K] } }[GgufScalarType];
export type GgufArray = { [K in keyof ArrayValues]: { type: 'array'; elementType: K; values: ArrayValues[K] } }[keyof ArrayValues];
export type GgufValue = GgufScalar | GgufArray;
export type GgufValueType = GgufValue['type'];

/** Value type ids as stored in the file. */
const TYPE_IDS: Record<GgufValueType, number> = {
  u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12,
};
const TYPES_BY_ID = new Map(Object.entries(TYPE_IDS).map(([name, id]) => [id, name as GgufValueType]));

/** Arrays of arrays deeper than this are refused: real files have none, and each level recurses. */
const MAX_ARRAY_NESTING = 16;

type Fixed = number | bigint | boolean;

/** Codec of a fixed-size type: bytes per value, accessors, the array that holds many. */
interface FixedCodec {
  bytes: number;
  get(view: DataView, at: number): Fixed;
  set(view: DataView, at: number, value: Fixed): void;
  newArray(count: number): { [index: number]: Fixed; length: number };
  /** Inclusive bounds of integer types, checked by the writer (DataView setters wrap silently). */
  range?: [bigint, bigint];
}

const integerRange = (bits: number, signed: boolean): [bigint, bigint] =>
  signed ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n] : [0n, (1n << BigInt(bits)) - 1n];

const FIXED: Record<Exclude<GgufScalarType, 'string'>, FixedCodec> = {
  u8: { bytes: 1, get: (v, at) => v.getUint8(at), set: (v, at, x) => v.setUint8(at, x as number), newArray: (n) => new Uint8Array(n), range: integerRange(8, false) },
  i8: { bytes: 1, get: (v, at) => v.getInt8(at), set: (v, at, x) => v.setInt8(at, x as number), newArray: (n) => new Int8Array(n), range: integerRange(8, true) },
  u16: { bytes: 2, get: (v, at) => v.getUint16(at, true), set: (v, at, x) => v.setUint16(at, x as number, true), newArray: (n) => new Uint16Array(n), range: integerRange(16, false) },
  i16: { bytes: 2, get: (v, at) => v.getInt16(at, true), set: (v, at, x) => v.setInt16(at, x as number, true), newArray: (n) => new Int16Array(n), range: integerRange(16, true) },
  u32: { bytes: 4, get: (v, at) => v.getUint32(at, true), set: (v, at, x) => v.setUint32(at, x as number, true), newArray: (n) => new Uint32Array(n), range: integerRange(32, false) },
  i32: { bytes: 4, get: (v, at) => v.getInt32(at, true), set: (v, at, x) => v.setInt32(at, x as number, true), newArray: (n) => new Int32Array(n), range: integerRange(32, true) },
  u64: { bytes: 8, get: (v, at) => v.getBigUint64(at, true), set: (v, at, x) => v.setBigUint64(at, x as bigint, true), newArray: (n) => new BigUint64Array(n), range: integerRange(64, false) },
  i64: { bytes: 8, get: (v, at) => v.getBigInt64(at, true), set: (v, at, x) => v.setBigInt64(at, x as bigint, true), newArray: (n) => new BigInt64Array(n), range: integerRange(64, true) },
  f32: { bytes: 4, get: (v, at) => v.getFloat32(at, true), set: (v, at, x) => v.setFloat32(at, x as number, true), newArray: (n) => new Float32Array(n) },
  f64: { bytes: 8, get: (v, at) => v.getFloat64(at, true), set: (v, at, x) => v.setFloat64(at, x as number, true), newArray: (n) => new Float64Array(n) },
  // ggml writes 0 or 1; any other byte is read as true rather than refusing the file.
  bool: { bytes: 1, get: (v, at) => v.getUint8(at) !== 0, set: (v, at, x) => v.setUint8(at, x ? 1 : 0), newArray: (n) => new Array<boolean>(n) },
};

/** Smallest encoding of one element of each array element type (bytes): bounds announced counts. */
const MIN_ELEMENT_BYTES = { string: 8, array: 12 } as const;

// ---- reading ----

/** Reads the value of a metadata entry whose u32 type id was just read. */
export async function readGgufValue(cursor: ByteCursor, typeId: number): Promise<GgufValue> {
  const type = typeById(cursor, typeId);
  if (type === 'array') return readArray(cursor, 0);
  return { type, value: await readScalar(cursor, type) } as GgufScalar;
}

/** GGUF string: u64 byte length, then UTF-8 bytes. */
export async function readGgufString(cursor: ByteCursor, what: string): Promise<string> {
  await cursor.need(8);
  const length = cursor.claim(cursor.u64(), 1, `the length of ${what}`);
  await cursor.need(length);
  return cursor.text(length, what);
}

async function readScalar(cursor: ByteCursor, type: GgufScalarType): Promise<ScalarValues[GgufScalarType]> {
  if (type === 'string') return readGgufString(cursor, 'a string value');
  const codec = FIXED[type];
  await cursor.need(codec.bytes);
  return codec.get(viewOf(cursor.take(codec.bytes)), 0);
}

async function readArray(cursor: ByteCursor, depth: number): Promise<GgufArray> {
  if (depth >= MAX_ARRAY_NESTING) {
    throw malformedFile(cursor.name, cursor.section, `arrays are nested more than ${MAX_ARRAY_NESTING} deep`);
  }
  await cursor.need(12);
  const elementType = typeById(cursor, cursor.u32());
  const announced = cursor.u64();
  if (elementType === 'string' || elementType === 'array') {
    const count = cursor.claim(announced, MIN_ELEMENT_BYTES[elementType], 'an array length');
    const values: unknown[] = [];
    for (let i = 0; i < count; i++) {
      values.push(elementType === 'string' ? await readGgufString(cursor, `array element ${i}`) : await readArray(cursor, depth + 1));
    }
    return { type: 'array', elementType, values } as GgufArray;
  }
  const codec = FIXED[elementType];
  const count = cursor.claim(announced, codec.bytes, 'an array length');
  await cursor.need(count * codec.bytes);
  const view = viewOf(cursor.take(count * codec.bytes));
  const values = codec.newArray(count);
  for (let i = 0; i < count; i++) values[i] = codec.get(view, i * codec.bytes);
  return { type: 'array', elementType, values } as GgufArray;
}

function typeById(cursor: ByteCursor, id: number): GgufValueType {
  const type = TYPES_BY_ID.get(id);
  if (type === undefined) throw malformedFile(cursor.name, cursor.section, `unknown metadata value type ${id} (known: 0 to 12)`);
  return type;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- writing ----

/** Writes a metadata value: u32 type id, then the value. `key` names it in errors. */
export function writeGgufValue(out: ByteWriter, key: string, value: GgufValue): void {
  out.u32(TYPE_IDS[value.type]);
  if (value.type === 'array') writeArray(out, key, value);
  else writeScalar(out, key, value.type, value.value);
}

function writeScalar(out: ByteWriter, key: string, type: GgufScalarType, value: Fixed | string): void {
  if (type === 'string') return out.ggufString(value as string);
  const codec = FIXED[type];
  checkRange(key, type, codec, value as Fixed);
  const { view, at } = out.reserve(codec.bytes);
  codec.set(view, at, value as Fixed);
}

function writeArray(out: ByteWriter, key: string, array: GgufArray): void {
  out.u32(TYPE_IDS[array.elementType]);
  out.u64(array.values.length);
  for (const element of array.values) {
    if (array.elementType === 'array') writeArray(out, key, element as GgufArray);
    else writeScalar(out, key, array.elementType, element as Fixed | string);
  }
}

function checkRange(key: string, type: GgufScalarType, codec: FixedCodec, value: Fixed): void {
  if (!codec.range) return;
  const [min, max] = codec.range;
  const integral = typeof value === 'bigint' || Number.isInteger(value);
  if (integral && BigInt(value) >= min && BigInt(value) <= max) return;
  throw invalidInput(`GGUF metadata "${key}": ${value} is not a valid ${type} value.`, 'This is a bug in the tool writing the file: please report it.');
}
