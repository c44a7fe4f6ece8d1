// safetensors writer, for the CLI's outputs and the tiny-model generator: tensors in the given
// order, contiguous, with the JSON header padded with spaces to a multiple of 8 bytes as the
// reference implementation pads it (so the data section starts 8-byte aligned).

import { invalidInput } from '../errors';
import { safetensorsByteLength, type SafetensorsDtype } from './safetensors';

export interface SafetensorsTensorInput {
  name: string;
  dtype: SafetensorsDtype;
  /** PyTorch order: the last dimension is contiguous. */
  shape: number[];
  /** Little-endian element bytes. */
  bytes: Uint8Array;
}

const WRITER_BUG = 'This is a bug in the tool writing the file: please report it.';

/** The file as consecutive parts: length and header, then each tensor's bytes (not copied). */
export function encodeSafetensors(tensors: readonly SafetensorsTensorInput[], metadata?: Readonly<Record<string, string>>): Uint8Array[] {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const tensor of tensors) {
    checkTensor(tensor, header);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  headerBytes.set(json);
  const length = new Uint8Array(8);
  new DataView(length.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [length, headerBytes, ...tensors.map((tensor) => tensor.bytes).filter((bytes) => bytes.length > 0)];
}

function checkTensor(tensor: SafetensorsTensorInput, header: Record<string, unknown>): void {
  const fail = (problem: string): never => {
    throw invalidInput(`safetensors tensor "${tensor.name}" (${tensor.dtype} [${tensor.shape.join(', ')}]): ${problem}.`, WRITER_BUG);
  };
  if (Object.hasOwn(header, tensor.name)) fail('the name is taken (by another tensor or by "__metadata__")');
  if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) fail('dimensions must be non-negative integers');
  const expected = safetensorsByteLength(tensor.dtype, tensor.shape);
  if (expected !== tensor.bytes.length) fail(`it has ${tensor.bytes.length} bytes, its dtype and shape need ${expected}`);
}
