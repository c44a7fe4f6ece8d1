// The activation buffers of a text encoder for one sequence length: named storage buffers,
// allocated together (a failed allocation frees the ones before it) and released together when
// the length changes or the encoder is done.

import type { GpuRuntime } from '../gpu/runtime';

export class ActivationBuffers<Name extends string> {
  private constructor(
    private readonly gpu: GpuRuntime,
    /** the sequence length they are sized for */
    readonly tokens: number,
    readonly buffers: Readonly<Record<Name, GPUBuffer>>,
  ) {}

  /** `elements` gives each buffer's size in 4-byte elements. */
  static async allocate<Name extends string>(gpu: GpuRuntime, label: string, tokens: number, elements: Readonly<Record<Name, number>>): Promise<ActivationBuffers<Name>> {
    const buffers = {} as Record<Name, GPUBuffer>;
    try {
      for (const name of Object.keys(elements) as Name[]) buffers[name] = await gpu.memory.allocate(`${label} ${name} (${tokens} tokens)`, 4 * elements[name]);
    } catch (error) {
      for (const buffer of Object.values<GPUBuffer>(buffers)) gpu.memory.release(buffer);
      throw error;
    }
    return new ActivationBuffers(gpu, tokens, buffers);
  }

  release(): void {
    for (const buffer of Object.values<GPUBuffer>(this.buffers)) this.gpu.memory.release(buffer);
  }
}
