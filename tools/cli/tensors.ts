// Reading the CLI's input tensors and writing its outputs (safetensors, f32 out, any float dtype in).

import { dequantize } from '../../src/engine/formats/ggml-blocks';
import { readSafetensors, type SafetensorsFile } from '../../src/engine/formats/safetensors';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { nodeFileSource, writeFileParts } from '../node-file-source';

export interface Tensor {
  shape: number[];
  values: Float32Array;
}

export class InputTensors {
  private constructor(private readonly file: SafetensorsFile) {}

  static async open(path: string): Promise<InputTensors> {
    return new InputTensors(await readSafetensors(await nodeFileSource(path)));
  }

  has(name: string): boolean {
    return this.file.tensor(name) !== undefined;
  }

  /** The named tensor as f32; `shape` checks it, with -1 for any size in that dimension. */
  async get(name: string, shape?: readonly number[]): Promise<Tensor> {
    const info = this.file.tensor(name);
    if (!info) throw new Error(`${this.file.name}: input tensor "${name}" is missing`);
    this.file.requireDtype(info);
    if (shape && (shape.length !== info.shape.length || shape.some((size, i) => size !== -1 && size !== info.shape[i]))) {
      throw new Error(`${this.file.name}: "${name}" has shape [${info.shape.join(', ')}], expected [${shape.map((s) => (s === -1 ? '*' : s)).join(', ')}]`);
    }
    const count = info.shape.reduce((a, b) => a * b, 1);
    return { shape: info.shape, values: dequantize(info.dtype as 'F32' | 'F16' | 'BF16', await this.file.readTensor(name), count) };
  }

  async optional(name: string, shape?: readonly number[]): Promise<Tensor | undefined> {
    return this.has(name) ? this.get(name, shape) : undefined;
  }
}

/** An output tensor: f32 values, a U8 mask, or I32 indices. */
export type OutputTensor = Tensor | { shape: number[]; u8: Uint8Array } | { shape: number[]; i32: Int32Array };

/** Writes the tensors to a safetensors file. */
export async function writeOutputs(path: string, tensors: Record<string, OutputTensor>): Promise<void> {
  const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const entries = Object.entries(tensors).map(([name, tensor]) => {
    if ('u8' in tensor) return { name, dtype: 'U8' as const, shape: tensor.shape, bytes: tensor.u8 };
    if ('i32' in tensor) return { name, dtype: 'I32' as const, shape: tensor.shape, bytes: bytes(tensor.i32) };
    return { name, dtype: 'F32' as const, shape: tensor.shape, bytes: bytes(tensor.values) };
  });
  await writeFileParts(path, encodeSafetensors(entries, { producer: 'characonsist-web cli' }));
}
