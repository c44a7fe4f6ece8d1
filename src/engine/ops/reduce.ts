// Deterministic sum of a flat f32 buffer (shaders/reduce.wgsl): repeated fixed-tree passes,
// ping-ponging between two scratch buffers (one buffer cannot be read and written in one
// dispatch), the last pass writing straight into the result.

import reduceWgsl from '../../../shaders/reduce.wgsl';
import type { Kernel } from '../gpu/kernels';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { params, u32 } from './params';

const SOURCE = { file: 'shaders/reduce.wgsl', code: reduceWgsl };
const ITEMS = 4;
const PER_GROUP = 256 * ITEMS;

export class SumOp {
  private readonly partials: [ScratchBuffer, ScratchBuffer];

  private constructor(gpu: GpuRuntime, private readonly kernel: Kernel) {
    this.partials = [new ScratchBuffer(gpu, 'sum partials A'), new ScratchBuffer(gpu, 'sum partials B')];
  }

  static async create(gpu: GpuRuntime): Promise<SumOp> {
    const kernel = await gpu.kernels.get({ name: 'sum', sources: [SOURCE], entryPoint: 'sum', constants: { ITEMS }, storage: ['input', 'partials'], params: true });
    return new SumOp(gpu, kernel);
  }

  /** Records result[0] = sum(input[0..count)), count >= 1. */
  record(rec: Recorder, input: GPUBuffer, count: number, result: GPUBuffer): void {
    if (count === 1) {
      rec.copy(input, 0, result, 0, 4);
      return;
    }
    const bytes = 4 * Math.ceil(count / PER_GROUP);
    const scratch = this.partials.map((partial) => partial.get(rec, bytes));
    let source: Binding = input;
    let remaining = count;
    for (let level = 0; remaining > 1; level++) {
      const groups = Math.ceil(remaining / PER_GROUP);
      const target: Binding = groups === 1 ? { buffer: result, size: 4 } : { buffer: scratch[level % 2], size: 4 * groups };
      rec.dispatch(this.kernel, { input: source, partials: target }, params(u32(remaining)), [groups]);
      source = target;
      remaining = groups;
    }
  }
}
