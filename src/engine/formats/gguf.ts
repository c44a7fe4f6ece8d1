// GGUF reader (spec flux.md §6.1): header, metadata, tensor infos and the start of the data
// section, parsed from any ByteSource with every count, size and offset checked before it is
// trusted; tensor bytes are then streamed by TensorFile. K-quant tensors are reported like any
// other ggml type: refusing them is the loader's decision.

import { ByteCursor } from './byte-cursor';
import type { ByteSource } from './byte-source';
import { paddingFor } from './byte-writer';
import { ggmlTypeById, rowBytes, type GgmlType } from './ggml-types';
import { readGgufString, readGgufValue, type GgufValue } from './gguf-values';
import { malformedFile, quoted, REDOWNLOAD } from './model-file-errors';
import { TensorFile, type TensorSpan } from './tensor-file';

export interface GgufTensorInfo extends TensorSpan {
  /** ggml ne, ne[0] first: ne[0] is the contiguous dimension (the PyTorch shape reversed). */
  ne: number[];
  type: GgmlType;
}

export class GgufFile extends TensorFile<GgufTensorInfo> {
  constructor(
    cursor: ByteCursor,
    tensors: GgufTensorInfo[],
    /** 2 or 3 */
    readonly version: number,
    /** In file order. */
    readonly metadata: ReadonlyMap<string, GgufValue>,
    /** bytes */
    readonly alignment: number,
    /** Absolute byte offset of the data section. */
    readonly dataStart: number,
  ) {
    super(cursor, tensors);
  }
}

/** "GGUF" */
export const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGUF_MAX_DIMS = 4;
/** Headers (metadata and tensor infos) beyond this many bytes are refused: it bounds the memory a
 * damaged or hostile file can make us spend, even on a stream of unknown length. */
export const GGUF_MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** Smallest metadata entry: empty key (8) + type (4) + a one-byte value. */
const MIN_ENTRY_BYTES = 13;
/** Smallest tensor info: empty name (8) + n_dims (4) + type (4) + offset (8). */
const MIN_TENSOR_INFO_BYTES = 24;

const GGUF_ACTION = 'Choose a .gguf model file.';
const VERSION_ACTION = 'Download a current version of this model (GGUF version 3), or convert it again with a current gguf-py.';

/** A tensor info as read, before its offset is placed in the file. */
interface ParsedTensorInfo {
  name: string;
  section: string;
  ne: number[];
  type: GgmlType;
  rowBytes: number;
  byteLength: number;
  /** from the data section start */
  relativeOffset: bigint;
}

export async function readGguf(source: ByteSource): Promise<GgufFile> {
  const cursor = new ByteCursor(source);
  cursor.limit = GGUF_MAX_HEADER_BYTES;
  const { version, tensorCount, entryCount } = await readHeader(cursor);
  const metadata = await readMetadata(cursor, entryCount);
  const alignment = alignmentOf(cursor.name, metadata);
  const infos = await readTensorInfos(cursor, tensorCount);
  const dataStart = cursor.position + paddingFor(cursor.position, alignment);
  cursor.section = 'padding before the data section';
  cursor.limit = Infinity;
  await cursor.skipTo(dataStart);
  const tensors = placeTensors(cursor.name, source.size, infos, dataStart, alignment);
  return new GgufFile(cursor, tensors, version, metadata, alignment, dataStart);
}

async function readHeader(cursor: ByteCursor): Promise<{ version: number; tensorCount: number; entryCount: number }> {
  cursor.section = 'header';
  await cursor.need(4);
  const magic = cursor.take(4);
  if (!GGUF_MAGIC.every((byte, i) => magic[i] === byte)) {
    const hex = [...magic].map((byte) => byte.toString(16).padStart(2, '0')).join(' ');
    throw malformedFile(cursor.name, 'header', `this is not a GGUF file: it starts with ${hex}, not "GGUF"`, GGUF_ACTION);
  }
  await cursor.need(20);
  const version = checkVersion(cursor.name, cursor.u32());
  // Entries and infos are read one at a time: a file cut inside them is reported where it is cut.
  const tensorCount = cursor.claimUnderLimit(cursor.u64(), MIN_TENSOR_INFO_BYTES, 'tensor_count');
  const entryCount = cursor.claimUnderLimit(cursor.u64(), MIN_ENTRY_BYTES, 'kv_count');
  return { version, tensorCount, entryCount };
}

function checkVersion(file: string, version: number): number {
  if (version === 2 || version === 3) return version;
  // A big-endian file's version reads byte-swapped here (3 -> 0x03000000).
  const problem =
    version === 1 ? 'GGUF version 1 (32-bit counts) is obsolete and not supported'
    : version >>> 24 === 2 || version >>> 24 === 3 ? 'this is a big-endian GGUF file; only little-endian files are supported'
    : `GGUF version ${version} is not supported (versions 2 and 3 are)`;
  return raise(malformedFile(file, 'header', problem, VERSION_ACTION));
}

async function readMetadata(cursor: ByteCursor, entryCount: number): Promise<Map<string, GgufValue>> {
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < entryCount; i++) {
    cursor.section = `metadata entry ${i}`;
    const key = await readGgufString(cursor, 'the key');
    cursor.section = `metadata entry ${i} (${quoted(key)})`;
    if (metadata.has(key)) throw malformedFile(cursor.name, cursor.section, 'this key appears twice');
    await cursor.need(4);
    metadata.set(key, await readGgufValue(cursor, cursor.u32()));
  }
  return metadata;
}

/** The alignment `general.alignment` sets (default 32), or undefined when it is not a u32 power of two. */
export function ggufAlignment(value: GgufValue | undefined): number | undefined {
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const valid = value.type === 'u32' && value.value > 0 && Number.isInteger(Math.log2(value.value));
  return valid ? value.value : undefined;
}

function alignmentOf(file: string, metadata: ReadonlyMap<string, GgufValue>): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const shown = value.type === 'array' ? `an array of ${value.elementType}` : `${value.type} ${value.value}`;
  return ggufAlignment(value) ?? raise(malformedFile(file, 'metadata entry "general.alignment"', `must be a u32 power of two, but is ${shown}`));
}

async function readTensorInfos(cursor: ByteCursor, tensorCount: number): Promise<ParsedTensorInfo[]> {
  const infos: ParsedTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    cursor.section = `tensor info ${i}`;
    const name = await readGgufString(cursor, 'the tensor name');
    const section = (cursor.section = `tensor info ${i} (${quoted(name)})`);
    if (name === '') throw malformedFile(cursor.name, section, 'the tensor name is empty');
    if (names.has(name)) throw malformedFile(cursor.name, section, 'an earlier tensor has the same name');
    names.add(name);
    await cursor.need(4);
    const dimCount = cursor.u32();
    if (dimCount > GGUF_MAX_DIMS) throw malformedFile(cursor.name, section, `n_dims is ${dimCount}, at most ${GGUF_MAX_DIMS} are allowed`);
    await cursor.need(8 * dimCount + 12);
    const ne = readDims(cursor, dimCount);
    const typeId = cursor.u32();
    const type = ggmlTypeById(typeId) ?? raise(unknownType(cursor.name, section, typeId));
    const relativeOffset = cursor.u64();
    infos.push({ name, section, ne, type, relativeOffset, ...checkedTensorBytes(cursor.name, section, ne, type) });
  }
  return infos;
}

function readDims(cursor: ByteCursor, dimCount: number): number[] {
  const dims = Array.from({ length: dimCount }, () => cursor.u64());
  const elements = dims.reduce((product, dim) => product * dim, 1n);
  const problem =
    dims.includes(0n) ? 'has a dimension of 0'
    : dims.some((dim) => dim >= 1n << 63n) ? 'has a negative dimension (as int64)'
    : elements > BigInt(Number.MAX_SAFE_INTEGER) ? `has ${elements} elements, more than any file can hold`
    : undefined;
  if (problem) throw malformedFile(cursor.name, cursor.section, `ne = [${dims.join(', ')}] ${problem}`);
  return dims.map(Number);
}

function unknownType(file: string, section: string, typeId: number): Error {
  return malformedFile(
    file,
    section,
    `unknown ggml type ${typeId}`,
    'This file uses a tensor type this app does not know: choose a file quantized as F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 or Q2_K…Q6_K.',
  );
}

/** Row and total bytes of a tensor, or undefined when ne[0] is not whole blocks of its type (spec §6.1). */
export function ggufTensorBytes(ne: readonly number[], type: GgmlType): { rowBytes: number; byteLength: number } | undefined {
  const bytesPerRow = rowBytes(type, ne[0] ?? 1);
  if (bytesPerRow === undefined) return undefined;
  return { rowBytes: bytesPerRow, byteLength: bytesPerRow * ne.slice(1).reduce((product, dim) => product * dim, 1) };
}

function checkedTensorBytes(file: string, section: string, ne: number[], type: GgmlType): { rowBytes: number; byteLength: number } {
  const bytes = ggufTensorBytes(ne, type);
  if (bytes === undefined) {
    const row = ne.length === 0 ? 'a tensor without dimensions (one value)' : `ne[0] = ${ne[0]}`;
    throw malformedFile(file, section, `${row} is not a multiple of the ${type.name} block size ${type.blockElements}`);
  }
  if (!Number.isSafeInteger(bytes.byteLength)) {
    throw malformedFile(file, section, `the tensor would take ${bytes.byteLength} bytes, more than any file can hold`);
  }
  return bytes;
}

/** Turns offsets into absolute positions and checks alignment, bounds and overlaps. */
function placeTensors(
  file: string,
  fileSize: number | undefined,
  infos: ParsedTensorInfo[],
  dataStart: number,
  alignment: number,
): GgufTensorInfo[] {
  const tensors = infos.map((info) => {
    if (info.relativeOffset % BigInt(alignment) !== 0n) {
      throw malformedFile(file, info.section, `the offset ${info.relativeOffset} is not a multiple of the alignment ${alignment}`);
    }
    // Streams of unknown length have no file size to check against; no file reaches 2^53 bytes.
    if (info.relativeOffset + BigInt(dataStart + info.byteLength) > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformedFile(file, info.section, `the offset ${info.relativeOffset} lies beyond the end of any file`);
    }
    const offset = dataStart + Number(info.relativeOffset);
    const end = offset + info.byteLength;
    if (fileSize !== undefined && end > fileSize) {
      const where = offset >= fileSize ? `starts at byte ${offset}` : `ends at byte ${end}`;
      throw malformedFile(file, info.section, `the tensor's data ${where}, past the end of the file (${fileSize} bytes)`, REDOWNLOAD);
    }
    const { name, ne, type, rowBytes, byteLength } = info;
    return { name, ne, type, rowBytes, byteLength, offset };
  });
  checkNoOverlap(file, infos, tensors);
  return tensors;
}

function checkNoOverlap(file: string, infos: ParsedTensorInfo[], tensors: GgufTensorInfo[]): void {
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[a].offset - tensors[b].offset);
  for (let k = 1; k < order.length; k++) {
    const previous = tensors[order[k - 1]];
    const current = tensors[order[k]];
    if (current.offset < previous.offset + previous.byteLength) {
      throw malformedFile(file, infos[order[k]].section, `the tensor's data overlaps that of tensor ${quoted(previous.name)}`);
    }
  }
}

function raise(error: Error): never {
  throw error;
}
