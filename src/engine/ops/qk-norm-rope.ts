// FLUX's QK norm and RoPE on q and k together, in place, in one dispatch
// (shaders/qk-norm-rope.wgsl): what RmsNormOp (one group per head) then RopeOp at the sequence
// positions compute, without the passes in between.

import qkNormRopeWgsl from '../../../shaders/qk-norm-rope.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { checkDistinct, checkVector, checkView, requireCount, requireThat } from './checks';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';
import type { GpuRopeTable } from './rope';
import type { MatrixView, VectorView } from './view';

const SOURCE = { file: 'shaders/qk-norm-rope.wgsl', code: qkNormRopeWgsl };

/** FLUX's RMSNorm epsilon (spec/flux.md §1.3). */
const DEFAULT_EPS = 1e-6;

export interface QkNormRopeArgs {
  /** q [rows, heads · 2·table.pairs], normalised and rotated in place */
  queries: MatrixView;
  /** k, the same shape, in another buffer */
  keys: MatrixView;
  rows: number;
  heads: number;
  /** RMSNorm scales [2·table.pairs] of q and of k */
  queryScale: VectorView;
  keyScale: VectorView;
  table: GpuRopeTable;
  /** table row of view row 0 */
  tableOffset: number;
}

export class QkNormRopeOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel, private readonly eps: number) {}

  static async create(gpu: GpuRuntime, options: { eps?: number } = {}): Promise<QkNormRopeOp> {
    const kernel = await gpu.kernels.get({ name: 'qk_norm_rope', sources: [SOURCE], entryPoint: 'qk_norm_rope', storage: ['queries', 'keys', 'query_scale', 'key_scale', 'table'], params: true });
    return new QkNormRopeOp(gpu, kernel, options.eps ?? DEFAULT_EPS);
  }

  record(rec: Recorder, args: QkNormRopeArgs): void {
    const { queries, keys, rows, heads, table, tableOffset } = args;
    requireCount('QK norm + RoPE rows', rows, 0);
    requireCount('QK norm + RoPE heads', heads);
    const headDim = 2 * table.pairs;
    checkView('QK norm + RoPE queries', queries, rows, heads * headDim);
    checkView('QK norm + RoPE keys', keys, rows, heads * headDim);
    checkVector('QK norm query scale', args.queryScale, headDim);
    checkVector('QK norm key scale', args.keyScale, headDim);
    checkDistinct('QK norm + RoPE queries', queries.buffer, { keys, 'query scale': args.queryScale, 'key scale': args.keyScale, 'rope table': table });
    checkDistinct('QK norm + RoPE keys', keys.buffer, { 'query scale': args.queryScale, 'key scale': args.keyScale, 'rope table': table });
    requireCount('QK norm + RoPE table offset', tableOffset, 0);
    requireThat('QK norm + RoPE', tableOffset + rows <= table.positions, `rows ${tableOffset}..${tableOffset + rows} run past the table's ${table.positions} positions`);
    const grid = grid1d(2 * rows * heads, 1, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(
      u32(rows), u32(heads), u32(table.pairs), u32(queries.offset), u32(queries.stride), u32(keys.offset), u32(keys.stride),
      u32(args.queryScale.offset), u32(args.keyScale.offset), u32(tableOffset), f32(this.eps), u32(grid.rowStride),
    );
    const bindings = { queries: queries.buffer, keys: keys.buffer, query_scale: args.queryScale.buffer, key_scale: args.keyScale.buffer, table: table.buffer };
    rec.dispatch(this.kernel, bindings, block, grid.workgroups);
  }
}
