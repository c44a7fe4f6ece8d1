// GGUF writer (version 3), laid out as gguf-py's GGUFWriter lays it out (spec flux.md §6.1):
// header, metadata in the given order, tensor infos, zero padding to the alignment, then each
// tensor's bytes padded to the alignment, the last one included. Used by the tiny-model generator
// and the CLI.

import { invalidInput } from '../errors';
import { ByteWriter, paddingFor } from './byte-writer';
import { ggmlType, type GgmlTypeName } from './ggml-types';
import { GGUF_MAGIC, GGUF_MAX_DIMS, ggufAlignment, ggufTensorBytes } from './gguf';
import { writeGgufValue, type GgufValue } from './gguf-values';

export interface GgufTensorInput {
  name: string;
  /** ggml ne, ne[0] first (the PyTorch shape reversed) */
  ne: number[];
  type: GgmlTypeName;
  /** The tensor's bytes, already in its ggml type (blocks for quantized types). */
  bytes: Uint8Array;
}

export interface GgufInput {
  /** Written in this order. A `general.alignment` entry (u32) sets the alignment, else 32. */
  metadata: Iterable<readonly [string, GgufValue]>;
  tensors: readonly GgufTensorInput[];
}

const GGUF_VERSION = 3;
const WRITER_BUG = 'This is a bug in the tool writing the file: please report it.';

/**
 * The file as consecutive parts: the header (metadata, tensor infos, padding), then each tensor's
 * bytes and its padding. Tensor bytes are not copied; write the parts one after the other.
 */
export function encodeGguf(input: GgufInput): Uint8Array[] {
  const metadata = [...input.metadata];
  checkUnique(metadata.map(([key]) => key), 'metadata key');
  checkUnique(input.tensors.map((tensor) => tensor.name), 'tensor name');
  const alignment = ggufAlignment(metadata.find(([key]) => key === 'general.alignment')?.[1]);
  if (alignment === undefined) throw invalidInput('GGUF metadata "general.alignment" must be a u32 power of two.', WRITER_BUG);
  const header = new ByteWriter();
  header.bytes(new Uint8Array(GGUF_MAGIC));
  header.u32(GGUF_VERSION);
  header.u64(input.tensors.length);
  header.u64(metadata.length);
  for (const [key, value] of metadata) {
    header.ggufString(key);
    writeGgufValue(header, key, value);
  }
  let offset = 0;
  for (const tensor of input.tensors) {
    writeTensorInfo(header, tensor, offset);
    offset += tensor.bytes.length + paddingFor(tensor.bytes.length, alignment);
  }
  header.padTo(alignment);
  const zeros = new Uint8Array(alignment);
  const data = input.tensors.flatMap((tensor) => [tensor.bytes, zeros.subarray(0, paddingFor(tensor.bytes.length, alignment))]);
  return [header.finish(), ...data].filter((part) => part.length > 0);
}

function writeTensorInfo(header: ByteWriter, tensor: GgufTensorInput, offset: number): void {
  const problem = tensorProblem(tensor);
  if (problem) throw invalidInput(`GGUF tensor "${tensor.name}" (${tensor.type}, ne [${tensor.ne.join(', ')}]): ${problem}.`, WRITER_BUG);
  header.ggufString(tensor.name);
  header.u32(tensor.ne.length);
  for (const dim of tensor.ne) header.u64(dim);
  header.u32(ggmlType(tensor.type).id);
  header.u64(offset);
}

function tensorProblem(tensor: GgufTensorInput): string | undefined {
  if (tensor.name === '') return 'the name is empty';
  if (tensor.ne.length < 1 || tensor.ne.length > GGUF_MAX_DIMS) return `it needs 1 to ${GGUF_MAX_DIMS} dimensions`;
  if (!tensor.ne.every((dim) => Number.isSafeInteger(dim) && dim > 0)) return 'every dimension must be a positive integer';
  const expected = ggufTensorBytes(tensor.ne, ggmlType(tensor.type));
  if (expected === undefined) return `ne[0] is not a multiple of the ${tensor.type} block size`;
  if (expected.byteLength !== tensor.bytes.length) return `it has ${tensor.bytes.length} bytes, its shape needs ${expected.byteLength}`;
  return undefined;
}

function checkUnique(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw invalidInput(`GGUF ${what} "${name}" appears twice.`, WRITER_BUG);
    seen.add(name);
  }
}
