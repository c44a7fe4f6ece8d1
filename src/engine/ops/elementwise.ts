// Element-wise ops over flat f32 buffers (shaders/elementwise.wgsl).

import elementwiseWgsl from '../../../shaders/elementwise.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';

const SOURCE = { file: 'shaders/elementwise.wgsl', code: elementwiseWgsl };
const WORKGROUP = 256;

export class AxpyOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<AxpyOp> {
    const kernel = await gpu.kernels.get({ name: 'axpy', sources: [SOURCE], entryPoint: 'axpy', storage: ['x', 'y', 'out'], params: true });
    return new AxpyOp(gpu, kernel);
  }

  /** Records out[i] = a * x[i] + y[i] for i < count. */
  record(rec: Recorder, a: number, x: Binding, y: Binding, out: Binding, count: number): void {
    const grid = grid1d(count, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(this.kernel, { x, y, out }, params(u32(count), f32(a), u32(grid.rowStride)), grid.workgroups);
  }
}
