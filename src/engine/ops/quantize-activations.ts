// Int8 quantization of activations for the int8 linear kernel (shaders/quantize-activations.wgsl):
// per row and 32-column block, d = max|x| / 127 and q = round(x / d), into one buffer holding the
// packed quants [rows, cols/4 words] followed by the (d, d·Σq) pairs [rows, cols/32].

import quantizeWgsl from '../../../shaders/quantize-activations.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import type { MatrixView } from './view';
import { viewBinding } from './view';

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

export class QuantizeActivationsOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<QuantizeActivationsOp> {
    const kernel = await gpu.kernels.get({ name: 'quantize-activations', sources: [SOURCE], entryPoint: 'quantize_activations', storage: ['x', 'quantized'], params: true });
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
