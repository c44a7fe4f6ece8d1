// Int8 quantization of activations for the int8 linear kernel (shaders/quantize-activations.wgsl):
// per row and 32-column block, d = max|x| / 127 and q = round(x / d), into one buffer holding the
// packed quants [rows, cols/4 words] followed by the (d, d·Σq) pairs [rows, cols/32].

import int8BlocksWgsl from '../../../shaders/int8-blocks.wgsl';
import quantizeWgsl from '../../../shaders/quantize-activations.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import { invalidInput } from '../errors';
import type { MatrixView } from './view';
import { viewBinding } from './view';

/** The block layout and its helpers, for every kernel that writes int8 activations. */
export const INT8_BLOCKS = { file: 'shaders/int8-blocks.wgsl', code: int8BlocksWgsl };
const SOURCE = { file: 'shaders/quantize-activations.wgsl', code: quantizeWgsl };
const WORKGROUP = 64;

export interface QuantizedActivationsLayout {
  /** word offset of the (d, d·Σq) pairs */
  scalesBase: number;
  totalWords: number;
}

/** Layout for [rows, cols] activations; cols must be a multiple of 32. */
export function quantizedActivationsLayout(rows: number, cols: number): QuantizedActivationsLayout {
  const scalesBase = (rows * cols) / 4;
  // Whole vec4s: the linear kernel binds the buffer as array<vec4<u32>>.
  return { scalesBase, totalWords: Math.ceil((scalesBase + (rows * cols) / 16) / 4) * 4 };
}

/**
 * Rows [firstRow, firstRow + rows) of activations [layoutRows, cols] quantized into `buffer`
 * (quantizedActivationsLayout(layoutRows, cols)), for the int8 linear kernel.
 */
export interface QuantizedActivations {
  buffer: GPUBuffer;
  rows: number;
  cols: number;
  firstRow: number;
  layoutRows: number;
}

/** Rows [first, first + count) of `x` (relative to its own first row). */
export function quantizedRows(x: QuantizedActivations, first: number, count: number): QuantizedActivations {
  if (first < 0 || first + count > x.rows) throw invalidInput(`Rows ${first}..${first + count} of quantized activations with ${x.rows} rows do not exist.`, 'This is a bug in the app: please report it with this message.');
  return { ...x, firstRow: x.firstRow + first, rows: count };
}

/**
 * Where the int8 kernel finds rows `x`: the first quant's byte (a multiple of 16, as cols is of
 * 32) and the word of its first (d, d·Σq) pair.
 */
export function quantizedStart(x: QuantizedActivations): { quantsByte: number; scalesWord: number } {
  return { quantsByte: x.firstRow * x.cols, scalesWord: quantizedActivationsLayout(x.layoutRows, x.cols).scalesBase + (2 * x.firstRow * x.cols) / 32 };
}

/** Tells quantized activations from an f32 matrix view. */
export function isQuantized(x: MatrixView | QuantizedActivations): x is QuantizedActivations {
  return !('stride' in x);
}

export class QuantizeActivationsOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<QuantizeActivationsOp> {
    const kernel = await gpu.kernels.get({ name: 'quantize-activations', sources: [INT8_BLOCKS, SOURCE], entryPoint: 'quantize_activations', storage: ['x', 'quantized'], params: true });
    return new QuantizeActivationsOp(gpu, kernel);
  }

  /** Records the quantization of X [rows, cols] (cols a multiple of 32) into `out` (quantizedActivationsLayout words). */
  record(rec: Recorder, x: MatrixView, rows: number, cols: number, out: GPUBuffer): void {
    if (rows === 0) return;
    const { scalesBase } = quantizedActivationsLayout(rows, cols);
    const grid = grid1d((rows * cols) / 32, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const input = viewBinding(x, rows, cols, this.gpu.limits.minStorageBufferOffsetAlignment);
    rec.dispatch(this.kernel, { x: input.binding, quantized: out }, params(u32(rows), u32(cols), u32(input.offset), u32(x.stride), u32(scalesBase), u32(grid.rowStride)), grid.workgroups);
  }
}
