// The LayerNorm family (FLUX's modulated LayerNorm, CLIP's affine LayerNorm) and RMSNorm
// (shaders/norm.wgsl) on matrix views. Each op compiles two pipelines: source and target in
// separate buffers, or one buffer normalised in place (the QK norm on the q/k columns of a fused
// projection); record() picks by the views. The modulated LayerNorm can also write int8
// activations for the int8 linear kernels (shaders/norm-quantize.wgsl).

import normWgsl from '../../../shaders/norm.wgsl';
import entriesWgsl from '../../../shaders/norm-entries.wgsl';
import inPlaceWgsl from '../../../shaders/norm-io-in-place.wgsl';
import separateWgsl from '../../../shaders/norm-io-separate.wgsl';
import quantizeWgsl from '../../../shaders/norm-quantize.wgsl';
import { invalidInput } from '../errors';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';
import { type MatrixView, type VectorView } from './view';
import { checkVector, checkView, requireCount, requireThat } from './checks';
import { INT8_BLOCKS, quantizedActivationsLayout, type QuantizedActivations } from './quantize-activations';

const BODY = { file: 'shaders/norm.wgsl', code: normWgsl };
const ENTRIES = { file: 'shaders/norm-entries.wgsl', code: entriesWgsl };
const SEPARATE = { file: 'shaders/norm-io-separate.wgsl', code: separateWgsl };
const IN_PLACE = { file: 'shaders/norm-io-in-place.wgsl', code: inPlaceWgsl };
const QUANTIZE = { file: 'shaders/norm-quantize.wgsl', code: quantizeWgsl };

/** FLUX and T5 both use 1e-6 (spec/flux.md §1.1, §4.1). */
const DEFAULT_EPS = 1e-6;
/** CLIP's LayerNorm (spec/flux.md §4.2). */
const CLIP_EPS = 1e-5;

type NormEntryPoint = 'layer_norm' | 'rms_norm';

interface NormGroups {
  source: MatrixView;
  target: MatrixView;
  rows: number;
  groupsPerRow: number;
  groupSize: number;
  /** buffer bound as `affine` and the element offsets of shift and scale (or weight) in it */
  affine: GPUBuffer;
  shiftOffset: number;
  scaleOffset: number;
  /** layer norm: added to every scale */
  scaleBase: number;
  /** norm-quantize.wgsl: word offset of the block scales in the output */
  scalesBase?: number;
}

/** The separate and in-place pipelines of one norm entry point, and how to dispatch them. */
class NormKernels {
  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly separate: Kernel,
    private readonly inPlace: Kernel,
    private readonly eps: number,
  ) {}

  static async create(gpu: GpuRuntime, entryPoint: NormEntryPoint, eps: number): Promise<NormKernels> {
    const [separate, inPlace] = await Promise.all([
      gpu.kernels.get({ name: entryPoint, sources: [BODY, SEPARATE, ENTRIES], entryPoint, storage: ['affine', 'source', 'target'], params: true }),
      gpu.kernels.get({ name: `${entryPoint} (in place)`, sources: [BODY, IN_PLACE, ENTRIES], entryPoint, storage: ['affine', 'rows'], params: true }),
    ]);
    return new NormKernels(gpu, separate, inPlace, eps);
  }

  record(rec: Recorder, groups: NormGroups): void {
    const { source, target, rows, groupsPerRow, groupSize } = groups;
    const cols = groupsPerRow * groupSize;
    requireCount('norm rows', rows, 0);
    checkView('norm source', source, rows, cols);
    checkView('norm target', target, rows, cols);
    const inPlace = source.buffer === target.buffer;
    if (inPlace && (source.offset !== target.offset || source.stride !== target.stride)) {
      throw invalidInput('A norm whose source and target share a buffer must write over its source (same offset and stride).', 'This is a bug in the app: please report it with this message.');
    }
    const bindings: Record<string, Binding> = inPlace ? { affine: groups.affine, rows: source.buffer } : { affine: groups.affine, source: source.buffer, target: target.buffer };
    this.dispatch(rec, inPlace ? this.inPlace : this.separate, groups, bindings);
  }

  /** Records `kernel` over the groups of `groups` with the given bindings (the parameter block is common to all norm kernels). */
  dispatch(rec: Recorder, kernel: Kernel, groups: Omit<NormGroups, 'target'> & { target?: MatrixView }, bindings: Record<string, Binding>): void {
    const { source, target, rows, groupsPerRow, groupSize } = groups;
    const groupCount = rows * groupsPerRow;
    const grid = grid1d(groupCount, 1, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const block = params(
      u32(groupCount), u32(groupsPerRow), u32(groupSize),
      u32(source.offset), u32(source.stride), u32(target?.offset ?? 0), u32(target?.stride ?? 0),
      u32(groups.shiftOffset), u32(groups.scaleOffset), f32(this.eps), u32(grid.rowStride), f32(groups.scaleBase), u32(groups.scalesBase ?? 0),
    );
    rec.dispatch(kernel, bindings, block, grid.workgroups);
  }
}

export interface ModulatedLayerNormArgs {
  /** [rows, cols] */
  source: MatrixView;
  /** [rows, cols]; may be `source` itself (normalised in place) */
  target: MatrixView;
  rows: number;
  cols: number;
  /** buffer holding the adaLN modulation chunks, and the element offsets of shift [cols] and scale [cols] in it */
  modulation: { buffer: GPUBuffer; shiftOffset: number; scaleOffset: number };
}

export interface ModulatedLayerNormOptions {
  eps?: number;
  /** also compile recordQuantized (needs the WGSL language feature packed_4x8_integer_dot_product) */
  quantized?: boolean;
}

/** `target = (1 + scale) · (source − mean) / sqrt(var + eps) + shift` per row (biased variance, no affine). */
export class ModulatedLayerNormOp {
  private constructor(private readonly kernels: NormKernels, private readonly quantizer: Kernel | undefined) {}

  static async create(gpu: GpuRuntime, options: ModulatedLayerNormOptions = {}): Promise<ModulatedLayerNormOp> {
    const [kernels, quantizer] = await Promise.all([
      NormKernels.create(gpu, 'layer_norm', options.eps ?? DEFAULT_EPS),
      options.quantized ? gpu.kernels.get({ name: 'layer_norm_quantize', sources: [BODY, INT8_BLOCKS, QUANTIZE], entryPoint: 'layer_norm_quantize', storage: ['affine', 'source', 'quantized'], params: true }) : undefined,
    ]);
    return new ModulatedLayerNormOp(kernels, quantizer);
  }

  record(rec: Recorder, args: ModulatedLayerNormArgs): void {
    recordLayerNorm(this.kernels, rec, args, modulationParameters(args.modulation));
  }

  /**
   * The same norm written as int8 activations into `target` (rows and cols as `args`; cols a
   * multiple of 32), bit for bit what QuantizeActivationsOp makes of record()'s output.
   */
  recordQuantized(rec: Recorder, args: Omit<ModulatedLayerNormArgs, 'target'> & { target: QuantizedActivations }): void {
    const { source, rows, cols, target } = args;
    requireThat('quantized layer norm', this.quantizer !== undefined, 'the op was created without `quantized`');
    requireCount('layer norm rows', rows, 0);
    requireThat('quantized layer norm', cols % 32 === 0 && target.rows === rows && target.cols === cols, `cannot write [${rows}, ${cols}] as int8 blocks into [${target.rows}, ${target.cols}]`);
    const layout = quantizedActivationsLayout(rows, cols);
    requireThat('quantized layer norm', target.buffer.size >= 4 * layout.totalWords, `the output buffer "${target.buffer.label}" is smaller than ${4 * layout.totalWords} bytes`);
    checkView('layer norm source', source, rows, cols);
    const parameters = modulationParameters(args.modulation);
    checkLayerNormParameters(parameters, cols);
    if (rows === 0) return;
    const groups = { ...parameters, source, rows, groupsPerRow: 1, groupSize: cols, scalesBase: layout.scalesBase };
    this.kernels.dispatch(rec, this.quantizer!, groups, { affine: parameters.affine, source: source.buffer, quantized: target.buffer });
  }
}

function modulationParameters(modulation: ModulatedLayerNormArgs['modulation']): LayerNormParameters {
  return { affine: modulation.buffer, shiftOffset: modulation.shiftOffset, scaleOffset: modulation.scaleOffset, scaleBase: 1 };
}

export interface LayerNormArgs {
  /** [rows, cols] */
  source: MatrixView;
  /** [rows, cols]; may be `source` itself (normalised in place) */
  target: MatrixView;
  rows: number;
  cols: number;
  /** buffer holding the learned parameters, and the element offsets of weight [cols] and bias [cols] in it */
  affine: { buffer: GPUBuffer; weightOffset: number; biasOffset: number };
}

/** `target = (source − mean) / sqrt(var + eps) · weight + bias` per row (biased variance): CLIP's LayerNorm. */
export class LayerNormOp {
  private constructor(private readonly kernels: NormKernels) {}

  /** eps: default 1e-5 (CLIP). */
  static async create(gpu: GpuRuntime, options: { eps?: number } = {}): Promise<LayerNormOp> {
    return new LayerNormOp(await NormKernels.create(gpu, 'layer_norm', options.eps ?? CLIP_EPS));
  }

  record(rec: Recorder, args: LayerNormArgs): void {
    const { affine } = args;
    recordLayerNorm(this.kernels, rec, args, { affine: affine.buffer, shiftOffset: affine.biasOffset, scaleOffset: affine.weightOffset, scaleBase: 0 });
  }
}

type LayerNormParameters = Pick<NormGroups, 'affine' | 'shiftOffset' | 'scaleOffset' | 'scaleBase'>;

function recordLayerNorm(kernels: NormKernels, rec: Recorder, args: { source: MatrixView; target: MatrixView; rows: number; cols: number }, parameters: LayerNormParameters): void {
  checkLayerNormParameters(parameters, args.cols);
  kernels.record(rec, { ...args, ...parameters, groupsPerRow: 1, groupSize: args.cols });
}

function checkLayerNormParameters(parameters: LayerNormParameters, cols: number): void {
  requireCount('layer norm columns', cols);
  checkVector('layer norm shift', { buffer: parameters.affine, offset: parameters.shiftOffset }, cols);
  checkVector('layer norm scale', { buffer: parameters.affine, offset: parameters.scaleOffset }, cols);
}

export interface RmsNormArgs {
  /** [rows, groupsPerRow · groupSize], e.g. the q columns of a fused projection [L, heads · 128] */
  source: MatrixView;
  /** same shape; may be `source` itself (normalised in place) */
  target: MatrixView;
  rows: number;
  /** groups normalised independently in each row: heads for the QK norm, 1 for a full-row norm */
  groupsPerRow: number;
  /** learnable scale [groupSize], shared by all groups */
  weight: VectorView;
}

/** `v · rsqrt(mean(v²) + eps) · weight` over each group of `groupSize` consecutive values. */
export class RmsNormOp {
  private constructor(private readonly kernels: NormKernels, readonly groupSize: number) {}

  /** groupSize: 128 for FLUX's per-head QK norm, 4096 for T5's LayerNorm. */
  static async create(gpu: GpuRuntime, options: { groupSize: number; eps?: number }): Promise<RmsNormOp> {
    requireCount('RMS norm group size', options.groupSize);
    return new RmsNormOp(await NormKernels.create(gpu, 'rms_norm', options.eps ?? DEFAULT_EPS), options.groupSize);
  }

  record(rec: Recorder, args: RmsNormArgs): void {
    requireCount('RMS norm groups per row', args.groupsPerRow);
    checkVector('RMS norm weight', args.weight, this.groupSize);
    this.kernels.record(rec, { ...args, groupSize: this.groupSize, affine: args.weight.buffer, shiftOffset: 0, scaleOffset: args.weight.offset, scaleBase: 0 });
  }
}
