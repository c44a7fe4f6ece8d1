// GroupNorm (32 groups, affine; spec/flux.md §3.6) of an HWC image stored whole or in row bands
// (shaders/group-norm.wgsl). The op computes the statistics over the whole image and writes a
// per-channel scale and shift; the convolution that consumes the normalised image applies them
// (with SiLU) as it loads its input (ConvCall.prologue), so the normalised image is never stored.

import groupNormWgsl from '../../../shaders/group-norm.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import { checkDistinct, checkVector, requireThat } from './checks';
import { checkBand, type ImageBand, type ImageSize } from './image-band';
import { f32, params, u32 } from './params';
import { vectorBinding, viewBinding, type VectorView } from './view';

export const NORM_GROUPS = 32;
/** The VAE's GroupNorm epsilon. */
const DEFAULT_EPS = 1e-6;

const SOURCE = { file: 'shaders/group-norm.wgsl', code: groupNormWgsl };
/** bytes of one (mean, M2) partial */
const PARTIAL_BYTES = 8;

export interface GroupNormArgs {
  /** channels: a multiple of 32 */
  size: ImageSize;
  /** bands holding every image row exactly once (e.g. the rows each part of a banded image owns) */
  bands: readonly ImageBand[];
  /** gamma [channels] then beta [channels] */
  weight: VectorView;
  /** written: scale [channels] then shift [channels], for ConvCall.prologue */
  affine: VectorView;
}

export class GroupNormOp {
  /** (mean, M2) per image row and group */
  private readonly partials: ScratchBuffer;

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly rowStatistics: Kernel,
    private readonly channelAffine: Kernel,
    private readonly eps: number,
  ) {
    this.partials = new ScratchBuffer(gpu, 'group norm row partials');
  }

  static async create(gpu: GpuRuntime, options: { eps?: number } = {}): Promise<GroupNormOp> {
    const [rowStatistics, channelAffine] = await Promise.all([
      gpu.kernels.get({ name: 'group norm row statistics', sources: [SOURCE], entryPoint: 'row_statistics', storage: ['source', 'partials'], params: true }),
      gpu.kernels.get({ name: 'group norm channel affine', sources: [SOURCE], entryPoint: 'channel_affine', storage: ['row_partials', 'norm_weight', 'affine_target'], params: true }),
    ]);
    return new GroupNormOp(gpu, rowStatistics, channelAffine, options.eps ?? DEFAULT_EPS);
  }

  /** Frees the row partials (a later record() allocates them again); call once nothing recorded with them is pending. */
  release(): void {
    this.partials.release();
  }

  record(rec: Recorder, args: GroupNormArgs): void {
    const { size } = args;
    this.check(args);
    const alignment = this.gpu.limits.minStorageBufferOffsetAlignment;
    const partialBytes = size.height * NORM_GROUPS * PARTIAL_BYTES;
    const partials = this.partials.get(rec, partialBytes);
    for (const band of args.bands) {
      const source = viewBinding(band.view, band.rows * size.width, size.channels, alignment);
      const block = params(u32(size.width), u32(size.channels), u32(source.offset), u32(band.view.stride), u32(band.firstRow));
      rec.dispatch(this.rowStatistics, { source: source.binding, partials: { buffer: partials, size: partialBytes } }, block, [band.rows]);
    }
    const weight = vectorBinding(args.weight, 2 * size.channels, alignment);
    const affine = vectorBinding(args.affine, 2 * size.channels, alignment);
    const block = params(u32(size.height), u32(size.width), u32(size.channels), u32(weight.offset), u32(affine.offset), f32(this.eps));
    rec.dispatch(this.channelAffine, { row_partials: { buffer: partials, size: partialBytes }, norm_weight: weight.binding, affine_target: affine.binding }, block, [1]);
  }

  private check({ size, bands, weight, affine }: GroupNormArgs): void {
    requireThat('group norm', size.channels % NORM_GROUPS === 0 && size.channels > 0, `${size.channels} channels do not split into ${NORM_GROUPS} groups`);
    const sorted = [...bands].sort((a, b) => a.firstRow - b.firstRow);
    let next = 0;
    for (const band of sorted) {
      checkBand('group norm band', band, size);
      requireThat('group norm bands', band.firstRow === next, `row ${next} is ${band.firstRow < next ? 'covered twice' : 'missing'}`);
      next += band.rows;
    }
    requireThat('group norm bands', next === size.height, `they cover ${next} of ${size.height} rows`);
    checkVector('group norm weight', weight, 2 * size.channels);
    checkVector('group norm affine', affine, 2 * size.channels);
    checkDistinct('group norm affine', affine.buffer, { weight, ...Object.fromEntries(bands.map((band, i) => [`band ${i}`, band.view])) });
  }
}
