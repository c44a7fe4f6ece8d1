// Binary morphology on the image-token grid (shaders/morphology.wgsl): MorphologyOp runs one
// erosion or dilation; MaskCleanupOp is the official remove_small_holes_and_points (erode 3x3,
// then dilate 5x5; spec/characonsist-official.md §5). Masks are u32 0/1 [rows * cols], row-major.

import morphologyWgsl from '../../../shaders/morphology.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import { bufferOf, requireCount, requireElements, checkDistinct } from './checks';

const SOURCE = { file: 'shaders/morphology.wgsl', code: morphologyWgsl };
const WORKGROUP = 256;
/** 3x3 and 5x5 all-ones kernels of the official clean-up. */
const CLEANUP_ERODE_RADIUS = 1;
const CLEANUP_DILATE_RADIUS = 2;

export interface TokenGrid {
  rows: number;
  cols: number;
}

export type MorphologyOperation = 'erode' | 'dilate';

export class MorphologyOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernels: Record<MorphologyOperation, Kernel>) {}

  static async create(gpu: GpuRuntime): Promise<MorphologyOp> {
    const kernel = (operation: MorphologyOperation) =>
      gpu.kernels.get({ name: `morphology.${operation}`, sources: [SOURCE], entryPoint: operation, storage: ['input', 'output'], params: true });
    const [erode, dilate] = await Promise.all([kernel('erode'), kernel('dilate')]);
    return new MorphologyOp(gpu, { erode, dilate });
  }

  /**
   * Records one erosion or dilation with a (2 radius + 1)² all-ones window; pixels outside the
   * grid are ignored (OpenCV's default border). Input and output must be different buffers.
   */
  record(rec: Recorder, operation: MorphologyOperation, radius: number, input: Binding, output: Binding, grid: TokenGrid): void {
    const op = `morphology ${operation}`;
    requireCount(`${op} rows`, grid.rows);
    requireCount(`${op} cols`, grid.cols);
    requireCount(`${op} radius`, radius, 0);
    requireElements(`${op} input`, input, grid.rows * grid.cols);
    requireElements(`${op} output`, output, grid.rows * grid.cols);
    checkDistinct(`${op} output`, bufferOf(output), { input: { buffer: bufferOf(input) } });
    const dispatch = grid1d(grid.rows * grid.cols, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(this.kernels[operation], { input, output }, params(u32(grid.rows), u32(grid.cols), u32(radius), u32(dispatch.rowStride)), dispatch.workgroups);
  }
}

export class MaskCleanupOp {
  /** The eroded mask between the two passes. */
  private readonly eroded: ScratchBuffer;

  private constructor(gpu: GpuRuntime, private readonly morphology: MorphologyOp) {
    this.eroded = new ScratchBuffer(gpu, 'eroded mask');
  }

  static async create(gpu: GpuRuntime): Promise<MaskCleanupOp> {
    return new MaskCleanupOp(gpu, await MorphologyOp.create(gpu));
  }

  /** Records cleaned = dilate5x5(erode3x3(mask)); mask and cleaned must be different buffers. */
  record(rec: Recorder, mask: Binding, cleaned: Binding, grid: TokenGrid): void {
    const eroded = this.eroded.get(rec, 4 * grid.rows * grid.cols);
    this.morphology.record(rec, 'erode', CLEANUP_ERODE_RADIUS, mask, eroded, grid);
    this.morphology.record(rec, 'dilate', CLEANUP_DILATE_RADIUS, eroded, cleaned, grid);
  }
}
