// Reading the CLI's input tensors and encoding its outputs (safetensors, f32 out, any float dtype
// in). Every input is checked before any GPU work: present, a float dtype, the expected shape, and
// finite values; each refusal names the file and the tensor.

import { invalidInput } from '../../src/engine/errors';
import { dequantize } from '../../src/engine/formats/ggml-blocks';
import { readSafetensors, type SafetensorsFile } from '../../src/engine/formats/safetensors';
import { checkFiniteValues } from '../../src/engine/request-checks';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { nodeFileSource } from '../node-file-source';

export interface Tensor {
  shape: number[];
  values: Float32Array;
}

/** In an expected shape: any size of at least 1 in that dimension. */
export const ANY = -1;

const FIX_INPUTS = 'Write the inputs file again with the tensors README.md "Comparing with other implementations" lists.';

export class InputTensors {
  private constructor(private readonly file: SafetensorsFile) {}

  static async open(path: string): Promise<InputTensors> {
    return new InputTensors(await readSafetensors(await nodeFileSource(path)));
  }

  has(name: string): boolean {
    return this.file.tensor(name) !== undefined;
  }

  /** The named tensor as f32, refused unless it has `shape` (ANY: any size >= 1) and finite values. */
  async get(name: string, shape: readonly number[]): Promise<Tensor> {
    const info = this.file.tensor(name);
    if (!info) throw invalidInput(`${this.file.name}: input tensor "${name}" is missing.`, FIX_INPUTS);
    this.file.requireDtype(info);
    if (shape.length !== info.shape.length || shape.some((size, i) => (size === ANY ? info.shape[i] < 1 : size !== info.shape[i]))) {
      throw invalidInput(`${this.file.name}: tensor "${name}" has shape [${info.shape.join(', ')}], expected [${shape.map((s) => (s === ANY ? '*' : s)).join(', ')}].`, FIX_INPUTS);
    }
    const count = info.shape.reduce((a, b) => a * b, 1);
    const values = dequantize(info.dtype as 'F32' | 'F16' | 'BF16', await this.file.readTensor(name), count);
    checkFiniteValues(`${this.file.name}: tensor "${name}"`, values);
    return { shape: info.shape, values };
  }

  async optional(name: string, shape: readonly number[]): Promise<Tensor | undefined> {
    return this.has(name) ? this.get(name, shape) : undefined;
  }

  /** A [1] tensor's value, `fallback` when absent (required when there is no fallback). */
  async scalar(name: string, fallback?: number): Promise<number> {
    if (fallback === undefined || this.has(name)) return (await this.get(name, [1])).values[0];
    return fallback;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** An output tensor: f32 values, a U8 mask, or I32 indices. */
export type OutputTensor = Tensor | { shape: number[]; u8: Uint8Array } | { shape: number[]; i32: Int32Array };

/** The bytes of a safetensors file holding `tensors`. */
export function encodeOutputs(tensors: Record<string, OutputTensor>): Uint8Array[] {
  const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const entries = Object.entries(tensors).map(([name, tensor]) => {
    if ('u8' in tensor) return { name, dtype: 'U8' as const, shape: tensor.shape, bytes: tensor.u8 };
    if ('i32' in tensor) return { name, dtype: 'I32' as const, shape: tensor.shape, bytes: bytes(tensor.i32) };
    return { name, dtype: 'F32' as const, shape: tensor.shape, bytes: bytes(tensor.values) };
  });
  return encodeSafetensors(entries, { producer: 'characonsist-web cli' });
}
