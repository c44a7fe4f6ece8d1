// Element-wise ops (shaders/elementwise.wgsl): axpy over flat f32 buffers; activations and the
// gated residual over matrix views.

import elementwiseWgsl from '../../../shaders/elementwise.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';
import { type MatrixView, type VectorView } from './view';
import { checkDistinct, checkVector, checkView } from './checks';

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

export type Activation = 'silu' | 'gelu-tanh';

/** Values of the ACTIVATION override in shaders/elementwise.wgsl. */
const ACTIVATION_IDS: Record<Activation, number> = { silu: 0, 'gelu-tanh': 1 };

/** target = f(source) element-wise on [rows, cols] views in two different buffers. */
export class ActivationOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime, activation: Activation): Promise<ActivationOp> {
    const kernel = await gpu.kernels.get({
      name: activation,
      sources: [SOURCE],
      entryPoint: 'activation',
      constants: { ACTIVATION: ACTIVATION_IDS[activation] },
      storage: ['activation_source', 'activation_target'],
      params: true,
    });
    return new ActivationOp(gpu, kernel);
  }

  /** e.g. source = the MLP columns of linear1's output [L, 12288], target = columns 3072.. of linear2's input [L, 15360]. */
  record(rec: Recorder, source: MatrixView, target: MatrixView, rows: number, cols: number): void {
    checkView('activation source', source, rows, cols);
    checkView('activation target', target, rows, cols);
    checkDistinct('activation target', target.buffer, { 'activation source': source });
    const grid = grid1d(rows * cols, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(u32(rows), u32(cols), u32(source.offset), u32(source.stride), u32(target.offset), u32(target.stride), u32(grid.rowStride));
    rec.dispatch(this.kernel, { activation_source: source.buffer, activation_target: target.buffer }, block, grid.workgroups);
  }
}

/** residual += gate · update on [rows, cols] views, gate [cols] at an element offset of a modulation buffer. */
export class GatedResidualOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<GatedResidualOp> {
    const kernel = await gpu.kernels.get({ name: 'gated residual', sources: [SOURCE], entryPoint: 'gated_residual', storage: ['residual', 'update', 'modulation'], params: true });
    return new GatedResidualOp(gpu, kernel);
  }

  record(rec: Recorder, residual: MatrixView, update: MatrixView, gate: VectorView, rows: number, cols: number): void {
    checkView('residual', residual, rows, cols);
    checkView('residual update', update, rows, cols);
    checkVector('residual gate', gate, cols);
    checkDistinct('residual', residual.buffer, { 'residual update': update, 'residual gate': gate });
    const grid = grid1d(rows * cols, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(u32(rows), u32(cols), u32(residual.offset), u32(residual.stride), u32(update.offset), u32(update.stride), u32(gate.offset), u32(grid.rowStride));
    rec.dispatch(this.kernel, { residual: residual.buffer, update: update.buffer, modulation: gate.buffer }, block, grid.workgroups);
  }
}
