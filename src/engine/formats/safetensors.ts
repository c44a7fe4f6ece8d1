// safetensors reader: a u64 little-endian header length, a JSON header mapping each tensor name to
// {dtype, shape, data_offsets} (plus an optional "__metadata__" of strings), then the data, which
// the tensors must cover exactly, without gaps or overlaps, as the reference implementation
// requires. Every dtype of the format is recognised; the engine computes on F32, F16 and BF16,
// and `requireDtype` refuses the others with a clear message.

import { EngineError } from '../errors';
import { ByteCursor } from './byte-cursor';
import type { ByteSource } from './byte-source';
import { parseJsonText } from '../../schema/validate';
import { malformedFile, quoted, REDOWNLOAD } from './model-file-errors';
import { TensorFile, type TensorSpan } from './tensor-file';

/** Bits per element of each dtype the safetensors format defines. */
const DTYPE_BITS = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64,
} as const;

export type SafetensorsDtype = keyof typeof DTYPE_BITS;

/** The dtypes the engine reads. */
export const ENGINE_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

export interface SafetensorsTensorInfo extends TensorSpan {
  dtype: SafetensorsDtype;
  /** PyTorch order: the last dimension is contiguous. */
  shape: number[];
}

/** The reference implementation refuses larger headers (bytes). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsFile extends TensorFile<SafetensorsTensorInfo> {
  constructor(
    cursor: ByteCursor,
    tensors: SafetensorsTensorInfo[],
    /** The header's "__metadata__" ({} when absent). */
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    super(cursor, tensors);
  }

  /** Refuses a tensor whose dtype the caller cannot compute on. */
  requireDtype(tensor: SafetensorsTensorInfo, allowed: readonly SafetensorsDtype[] = ENGINE_DTYPES): void {
    if (allowed.includes(tensor.dtype)) return;
    throw new EngineError(
      'model-file',
      `${this.name}: tensor ${quoted(tensor.name)} is stored as ${tensor.dtype}; this app reads ${allowed.join(', ')}.`,
      `Choose a version of this model saved as ${allowed.join(' or ')}, or convert the file (e.g. with the safetensors Python package).`,
    );
  }
}

/** Bytes of a tensor of `dtype` and `shape`, or undefined when its bits do not fill whole bytes. */
export function safetensorsByteLength(dtype: SafetensorsDtype, shape: readonly number[]): number | undefined {
  const bits = shape.reduce((product, dim) => product * BigInt(dim), BigInt(DTYPE_BITS[dtype]));
  return bits % 8n === 0n && bits / 8n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bits / 8n) : undefined;
}

export function isSafetensorsDtype(name: string): name is SafetensorsDtype {
  return Object.hasOwn(DTYPE_BITS, name);
}

export async function readSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const cursor = new ByteCursor(source);
  cursor.section = 'header length';
  cursor.limit = 8 + SAFETENSORS_MAX_HEADER_BYTES;
  await cursor.need(8);
  const headerLength = cursor.claim(cursor.u64(), 1, 'the header length');
  cursor.section = 'header';
  await cursor.need(headerLength);
  const header = parseHeader(cursor.name, cursor.text(headerLength, 'the header'));
  const dataStart = 8 + headerLength;
  const tensors = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => tensorInfo(cursor.name, name, entry, dataStart));
  checkCoverage(cursor.name, tensors, dataStart, source.size);
  return new SafetensorsFile(cursor, tensors, metadataOf(cursor.name, header.__metadata__));
}

function parseHeader(file: string, text: string): Record<string, unknown> {
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw malformedFile(file, 'header', parsed.problems[0].message);
  if (!isObject(parsed.value)) throw malformedFile(file, 'header', `must be a JSON object, not ${describe(parsed.value)}`);
  return parsed.value;
}

function metadataOf(file: string, metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  const section = 'header entry "__metadata__"';
  if (!isObject(metadata)) throw malformedFile(file, section, `must be an object of strings, not ${describe(metadata)}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw malformedFile(file, section, `the value of ${quoted(key)} is ${describe(value)}, not a string`);
  }
  return { ...(metadata as Record<string, string>) };
}

function tensorInfo(file: string, name: string, entry: unknown, dataStart: number): SafetensorsTensorInfo {
  const section = `header entry ${quoted(name)}`;
  const fail = (problem: string): never => {
    throw malformedFile(file, section, problem);
  };
  if (!isObject(entry)) return fail(`must be an object with dtype, shape and data_offsets, not ${describe(entry)}`);
  const missing = ['dtype', 'shape', 'data_offsets'].filter((key) => !Object.hasOwn(entry, key));
  if (missing.length) return fail(`has no ${missing.join(', no ')} (each tensor needs dtype, shape and data_offsets)`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') return fail(`dtype is ${describe(dtype)}, not a string`);
  if (!isSafetensorsDtype(dtype)) return fail(`unknown dtype ${quoted(dtype)}`);
  if (!isCountList(shape)) return fail(`shape is ${describe(shape)}, not a list of non-negative integers`);
  if (!isCountList(offsets) || offsets.length !== 2 || offsets[0] > offsets[1]) {
    return fail(`data_offsets is ${describe(offsets)}, not [begin, end] with begin <= end`);
  }
  const byteLength = safetensorsByteLength(dtype, shape) ?? fail(`shape [${shape.join(', ')}] of ${dtype} does not fill a whole number of bytes that fits a file`);
  const [begin, end] = offsets;
  if (end - begin !== byteLength) return fail(`data_offsets span ${end - begin} bytes, but ${dtype} of shape [${shape.join(', ')}] needs ${byteLength}`);
  return { name, dtype, shape, offset: dataStart + begin, byteLength, rowBytes: rowBytesOf(dtype, shape, byteLength) };
}

/** Bytes of one innermost row; a sub-byte row that does not end on a byte makes the tensor one row. */
function rowBytesOf(dtype: SafetensorsDtype, shape: number[], byteLength: number): number {
  const row = ((shape.at(-1) ?? 1) * DTYPE_BITS[dtype]) / 8;
  return Number.isInteger(row) && row > 0 ? row : Math.max(1, byteLength);
}

/** The tensors must tile the data section from its start to the end of the file. */
function checkCoverage(file: string, tensors: SafetensorsTensorInfo[], dataStart: number, fileSize: number | undefined): void {
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let covered = dataStart;
  let previous: SafetensorsTensorInfo | undefined;
  for (const tensor of sorted) {
    const section = `header entry ${quoted(tensor.name)}`;
    const end = tensor.offset + tensor.byteLength;
    if (fileSize !== undefined && end > fileSize) {
      throw malformedFile(file, section, `the tensor's data ends at byte ${end}, past the end of the file (${fileSize} bytes)`, REDOWNLOAD);
    }
    if (tensor.offset < covered) throw malformedFile(file, section, `the tensor's data overlaps that of tensor ${quoted(previous!.name)}`);
    if (tensor.offset > covered) throw malformedFile(file, section, `bytes ${covered}..${tensor.offset} before this tensor belong to no tensor`);
    covered = end;
    previous = tensor;
  }
  if (fileSize !== undefined && covered < fileSize) {
    throw malformedFile(file, 'data', `the last ${fileSize - covered} bytes of the file belong to no tensor`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCountList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isSafeInteger(item) && item >= 0);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
