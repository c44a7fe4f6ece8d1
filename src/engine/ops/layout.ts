// Layout ops (shaders/layout.wgsl): token rows gathered, scattered or concatenated between
// MatrixViews, and FLUX's 2x2 latent packing. Exact copies.

import layoutWgsl from '../../../shaders/layout.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import { rows as rowsOf, type MatrixView } from './view';
import { bufferOf, requireCount, requireElements, checkDistinct, checkView } from './checks';

const SOURCE = { file: 'shaders/layout.wgsl', code: layoutWgsl };
const WORKGROUP = 256;
/** FLUX latent channels; a token holds one 2x2 patch of each: 64 features. */
export const LATENT_CHANNELS = 16;
const PATCH_FEATURES = 4 * LATENT_CHANNELS;

function layoutKernel(gpu: GpuRuntime, entryPoint: string, storage: string[]): Promise<Kernel> {
  return gpu.kernels.get({ name: `layout.${entryPoint}`, sources: [SOURCE], entryPoint, storage, params: true });
}

function elementGrid(gpu: GpuRuntime, elements: number) {
  return grid1d(elements, WORKGROUP, gpu.limits.maxComputeWorkgroupsPerDimension);
}

export interface GatherRowsArgs {
  source: MatrixView;
  sourceRows: number;
  /** [count] u32 source row of each target row */
  indices: Binding;
  count: number;
  /** [count, cols] */
  target: MatrixView;
  cols: number;
}

/** target[i, :] = source[indices[i], :] for i < count; an index >= sourceRows gives a row of zeros. */
export class GatherRowsOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<GatherRowsOp> {
    return new GatherRowsOp(gpu, await layoutKernel(gpu, 'gather_rows', ['source', 'indices', 'target']));
  }

  record(rec: Recorder, args: GatherRowsArgs): void {
    recordIndexedRows(this.gpu, rec, this.kernel, 'gather rows', { ...args, targetRows: args.count });
  }
}

export interface ScatterRowsArgs {
  /** [count, cols] */
  source: MatrixView;
  /** [count] u32 target row of each source row, distinct */
  indices: Binding;
  count: number;
  target: MatrixView;
  targetRows: number;
  cols: number;
}

/** target[indices[i], :] = source[i, :] for i < count; indices must be distinct; one >= targetRows is skipped. */
export class ScatterRowsOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<ScatterRowsOp> {
    return new ScatterRowsOp(gpu, await layoutKernel(gpu, 'scatter_rows', ['source', 'indices', 'target']));
  }

  record(rec: Recorder, args: ScatterRowsArgs): void {
    recordIndexedRows(this.gpu, rec, this.kernel, 'scatter rows', { ...args, sourceRows: args.count });
  }
}

/** Gather and scatter share bindings and parameters; the views must hold sourceRows and targetRows rows. */
function recordIndexedRows(gpu: GpuRuntime, rec: Recorder, kernel: Kernel, op: string, args: GatherRowsArgs & ScatterRowsArgs): void {
  const { source, target, indices, count, cols } = args;
  requireCount(`${op} cols`, cols);
  requireCount(`${op} count`, count, 0);
  checkView(`${op} source`, source, args.sourceRows, cols);
  checkView(`${op} target`, target, args.targetRows, cols);
  requireElements(`${op} indices`, indices, count);
  checkDistinct(`${op} target`, target.buffer, { source: { buffer: source.buffer } });
  checkDistinct(`${op} target`, target.buffer, { indices: { buffer: bufferOf(indices) } });
  const grid = elementGrid(gpu, count * cols);
  rec.dispatch(
    kernel,
    { source: source.buffer, indices, target: target.buffer },
    params(
      u32(count),
      u32(cols),
      u32(source.offset),
      u32(source.stride),
      u32(args.sourceRows),
      u32(target.offset),
      u32(target.stride),
      u32(args.targetRows),
      u32(grid.rowStride),
    ),
    grid.workgroups,
  );
}

export interface RowRange {
  view: MatrixView;
  rows: number;
}

/** Concatenation of row ranges: the parts' rows, in order, written from row 0 of the target. */
export class ConcatRowsOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<ConcatRowsOp> {
    return new ConcatRowsOp(gpu, await layoutKernel(gpu, 'copy_rows', ['source', 'target']));
  }

  /** One dispatch per part; `cols` columns of each. */
  record(rec: Recorder, parts: readonly RowRange[], target: MatrixView, cols: number): void {
    const op = 'concat rows';
    requireCount(`${op} cols`, cols);
    // Everything is checked before anything is recorded, so bad input leaves the recording untouched.
    for (const [index, part] of parts.entries()) {
      requireCount(`${op} part ${index} rows`, part.rows, 0);
      checkView(`${op} part ${index}`, part.view, part.rows, cols);
      checkDistinct(`${op} target`, target.buffer, { [`part ${index}`]: { buffer: part.view.buffer } });
    }
    checkView(`${op} target`, target, parts.reduce((total, part) => total + part.rows, 0), cols);
    let firstRow = 0;
    for (const part of parts) {
      this.recordCopy(rec, part, rowsOf(target, firstRow), cols);
      firstRow += part.rows;
    }
  }

  private recordCopy(rec: Recorder, part: RowRange, target: MatrixView, cols: number): void {
    const grid = elementGrid(this.gpu, part.rows * cols);
    rec.dispatch(
      this.kernel,
      { source: part.view.buffer, target: target.buffer },
      params(u32(part.rows), u32(cols), u32(part.view.offset), u32(part.view.stride), u32(target.offset), u32(target.stride), u32(grid.rowStride)),
      grid.workgroups,
    );
  }
}

export interface PatchGrid {
  /** token rows: latent height / 2 */
  rows: number;
  /** token columns: latent width / 2 */
  cols: number;
}

/** latent [16, 2 rows, 2 cols] (f32, channel-major) -> tokens [rows * cols, 64] (spec/flux.md §3.1). */
export class PatchifyOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<PatchifyOp> {
    return new PatchifyOp(gpu, await layoutKernel(gpu, 'patchify', ['source', 'target']));
  }

  record(rec: Recorder, latent: Binding, tokens: MatrixView, grid: PatchGrid): void {
    recordPatchKernel(this.gpu, rec, this.kernel, 'patchify', { latent, tokens, grid });
  }
}

/** tokens [rows * cols, 64] -> latent [16, 2 rows, 2 cols]: the inverse of PatchifyOp. */
export class UnpatchifyOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<UnpatchifyOp> {
    return new UnpatchifyOp(gpu, await layoutKernel(gpu, 'unpatchify', ['source', 'target']));
  }

  record(rec: Recorder, tokens: MatrixView, latent: Binding, grid: PatchGrid): void {
    recordPatchKernel(this.gpu, rec, this.kernel, 'unpatchify', { latent, tokens, grid });
  }
}

interface PatchTensors {
  /** [16, 2 rows, 2 cols] */
  latent: Binding;
  /** [rows * cols, 64] */
  tokens: MatrixView;
  grid: PatchGrid;
}

/** Both directions share bindings (source, target) and parameters. */
function recordPatchKernel(gpu: GpuRuntime, rec: Recorder, kernel: Kernel, direction: 'patchify' | 'unpatchify', { latent, tokens, grid }: PatchTensors): void {
  requireCount(`${direction} rows`, grid.rows);
  requireCount(`${direction} cols`, grid.cols);
  const tokenCount = grid.rows * grid.cols;
  requireElements(`${direction} latent`, latent, tokenCount * PATCH_FEATURES);
  checkView(`${direction} tokens`, tokens, tokenCount, PATCH_FEATURES);
  checkDistinct(`${direction} latent`, bufferOf(latent), { tokens: { buffer: tokens.buffer } });
  const bindings = direction === 'patchify' ? { source: latent, target: tokens.buffer } : { source: tokens.buffer, target: latent };
  const dispatch = elementGrid(gpu, tokenCount * PATCH_FEATURES);
  rec.dispatch(
    kernel,
    bindings,
    params(u32(grid.rows), u32(grid.cols), u32(LATENT_CHANNELS), u32(tokens.offset), u32(tokens.stride), u32(dispatch.rowStride)),
    dispatch.workgroups,
  );
}
