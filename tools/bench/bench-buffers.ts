// The GPU buffers of one benchmark case: filled on the GPU (no CPU generation of the hundreds of
// MB a full-size case needs) and all released together when the case ends, so the full-size run
// holds one case at a time.

import { invalidInput } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { GpuWeight, type LinearWeightType } from '../../src/engine/ops/weights';

export class BenchBuffers {
  private readonly owned: GPUBuffer[] = [];
  private seed: number;

  constructor(private readonly gpu: GpuRuntime, firstSeed: number) {
    this.seed = firstSeed;
  }

  /**
   * A dense row-major f32 [rows, cols] matrix of values in [-1, 1). An F32 GpuWeight whose cols
   * is a multiple of 32 has exactly that layout in its single part, so its random fill serves.
   */
  async randomMatrix(label: string, rows: number, cols: number): Promise<GPUBuffer> {
    if (cols % 32 !== 0) throw invalidInput(`Benchmark matrix "${label}" has ${cols} columns, not a multiple of 32.`, 'Choose benchmark shapes with K and widths that are multiples of 32.');
    const matrix = await this.weight(label, 'F32', rows, cols, 1, this.gpu.limits.maxBufferSize);
    return matrix.parts[0].buffer;
  }

  /** W [rows, cols] of `type`, random values of about `magnitude`. */
  async weight(label: string, type: LinearWeightType, rows: number, cols: number, magnitude: number, maxPartBytes?: number): Promise<GpuWeight> {
    const weight = await GpuWeight.create(this.gpu, label, type, rows, cols, maxPartBytes);
    this.owned.push(...weight.parts.map((part) => part.buffer));
    await weight.fillRandom(this.nextSeed(), magnitude);
    return weight;
  }

  /** Contents undefined until a kernel writes them. */
  async output(label: string, bytes: number): Promise<GPUBuffer> {
    return this.own(await this.gpu.memory.allocate(label, bytes));
  }

  async upload(label: string, data: Uint32Array): Promise<GPUBuffer> {
    return this.own(await this.gpu.memory.uploadNew(label, data));
  }

  releaseAll(): void {
    for (const buffer of this.owned.splice(0)) this.gpu.memory.release(buffer);
  }

  private own(buffer: GPUBuffer): GPUBuffer {
    this.owned.push(buffer);
    return buffer;
  }

  private nextSeed(): number {
    this.seed = (this.seed + 0x9e3779b9) >>> 0;
    return this.seed;
  }
}
