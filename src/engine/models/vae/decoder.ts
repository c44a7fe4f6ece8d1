// FLUX.1's VAE decoder on the GPU (spec/flux.md §3.5, §3.6): packed latent tokens
// [rows · cols, 64] -> RGBA8 image [16 rows, 16 cols].
//
// Activations are f32 HWC tensors split into row parts (BandedTensor), so they may exceed a
// storage binding, and every convolution runs band by band. The result equals an unsplit decode
// bit for bit: each output value is computed by the same arithmetic whatever band it falls in,
// parts carry a halo row for the 3x3 taps, and GroupNorm statistics are taken over the whole
// tensor (per-row partials merged in row order) before the convolution that normalises its input
// on load. Every convolution output is stored once (no recomputation); ResnetBlocks add their
// residual in place, and a pass frees each part of its input as soon as its last reader is done.
// Activations then peak at 1.16 GiB at 1024² with the default 64 MiB parts (0.38 GiB at 512²):
// the 1 GiB 256-channel output of up.1's upsample, plus the first parts of the next block's
// outputs; an exact decode that stores each convolution's output cannot go below that 1 GiB. The
// mid-block attention runs unsplit at latent resolution (16384 tokens × 512 at 1024²: 128 MiB of
// q, k, v and output).

import type { KernelTiming } from '../../gpu/profiler';
import type { GpuRuntime } from '../../gpu/runtime';
import { AttentionOp } from '../../ops/attention';
import { requireThat } from '../../ops/checks';
import { ConvOp, type ConvTiles, type ConvWeightType } from '../../ops/conv';
import { GroupNormOp } from '../../ops/group-norm';
import type { ImageSize } from '../../ops/image-band';
import type { PatchGrid } from '../../ops/layout';
import { LatentUnpackOp, RgbaPackOp } from '../../ops/vae-io';
import { columns, dense, type MatrixView, type VectorView } from '../../ops/view';
import { BandedTensor } from './banded-tensor';
import { decoderLayout } from './config';
import { runConvPass, type ConvPass } from './conv-pass';
import { Submissions } from './submissions';
import type { ConvWeights, ResnetWeights, VaeDecoderWeights } from './weights';

export interface VaeDecoderOptions {
  /** Largest row part of an activation in bytes; default: 64 MiB or the device's binding and buffer limits if lower. */
  maxPartBytes?: number;
  /** Convolution tiles; 'baseline' is the benchmark's reference point. */
  convTiles?: ConvTiles;
}

export interface DecodeTarget {
  /** u32 [16 rows · 16 cols]: RGBA8 pixels, row-major, R in the low byte, alpha 255 */
  rgba: VectorView;
  /** optional f32 [16 rows · 16 cols, 3]: the decoder's output before clamping and packing */
  pixels?: GPUBuffer;
}

/** The largest row part of an activation the decoder allocates by default (the memory estimate uses it too). */
export const DEFAULT_MAX_PART_BYTES = 64 * 2 ** 20;

interface Ops {
  conv: ReadonlyMap<ConvWeightType, ConvOp>;
  groupNorm: GroupNormOp;
  attention: AttentionOp;
  unpack: LatentUnpackOp;
  pack: RgbaPackOp;
}

export class VaeDecoder {
  private decoding = false;

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly weights: VaeDecoderWeights,
    private readonly ops: Ops,
    /** scale [C] then shift [C] of the GroupNorm being applied; one at a time */
    private readonly affine: GPUBuffer,
    private readonly maxPartBytes: number,
  ) {}

  static async create(gpu: GpuRuntime, weights: VaeDecoderWeights, options: VaeDecoderOptions = {}): Promise<VaeDecoder> {
    const layout = decoderLayout(weights.config);
    const types = new Set(allConvs(weights).map((conv) => conv.weight.type as ConvWeightType));
    const convOps = await Promise.all([...types].map(async (type) => [type, await ConvOp.create(gpu, { type, tiles: options.convTiles })] as const));
    const [groupNorm, attention, unpack, pack] = await Promise.all([
      GroupNormOp.create(gpu),
      AttentionOp.create(gpu, { headDim: layout.mid.attention.channels }),
      LatentUnpackOp.create(gpu),
      RgbaPackOp.create(gpu),
    ]);
    const { limits } = gpu;
    const maxPartBytes = Math.min(options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const affine = await gpu.memory.allocate('VAE GroupNorm scale and shift', 8 * layout.mid.attention.channels);
    return new VaeDecoder(gpu, weights, { conv: new Map(convOps), groupNorm, attention, unpack, pack }, affine, maxPartBytes);
  }

  /**
   * Decodes tokens [rows · cols, 64] into target.rgba; resolves with the dispatches' GPU timings
   * when profiling is on. One decode at a time: they share the GroupNorm scale and shift.
   */
  async decode(tokens: MatrixView, grid: PatchGrid, target: DecodeTarget): Promise<KernelTiming[]> {
    requireThat('VAE decode', !this.decoding, 'the previous decode on this decoder has not finished');
    this.decoding = true;
    const run = new DecodeRun(this.gpu, this.weights, this.ops, this.affine, this.maxPartBytes);
    try {
      return await run.decode(tokens, grid, target);
    } finally {
      run.releaseAll();
      this.decoding = false;
    }
  }

  release(): void {
    this.gpu.memory.release(this.affine);
    this.ops.groupNorm.release();
  }
}

/** One decode: the tensors it allocated (released at the end, whatever happens) and its submissions. */
class DecodeRun {
  private readonly tensors: BandedTensor[] = [];
  private readonly submissions: Submissions;

  constructor(
    private readonly gpu: GpuRuntime,
    private readonly weights: VaeDecoderWeights,
    private readonly ops: Ops,
    private readonly affine: GPUBuffer,
    private readonly maxPartBytes: number,
  ) {
    this.submissions = new Submissions(gpu);
  }

  async decode(tokens: MatrixView, grid: PatchGrid, target: DecodeTarget): Promise<KernelTiming[]> {
    const { weights } = this;
    let x = await this.latent(tokens, grid);
    x = await this.convolve(x, weights.convIn, false);
    x = await this.resnet(x, weights.mid.block1);
    x = await this.attention(x);
    x = await this.resnet(x, weights.mid.block2);
    for (const level of weights.levels) {
      for (const block of level.blocks) x = await this.resnet(x, block);
      if (level.upsample) x = await this.convolve(x, level.upsample, true);
    }
    const pixels = await this.output(x, target.pixels);
    const rec = this.gpu.recorder('VAE RGBA');
    const size = pixels.size;
    this.ops.pack.record(rec, dense(pixels.parts[0].buffer!, 3), size.height * size.width, target.rgba);
    await this.submissions.submit(rec);
    return this.submissions.finish();
  }

  releaseAll(): void {
    this.tensors.forEach((tensor) => tensor.releaseAll());
  }

  /** tokens -> z [2 rows, 2 cols, 16], scaled and shifted. */
  private async latent(tokens: MatrixView, grid: PatchGrid): Promise<BandedTensor> {
    const z = this.whole('VAE latent', { height: 2 * grid.rows, width: 2 * grid.cols, channels: this.weights.config.zChannels });
    await z.allocateAll();
    const rec = this.gpu.recorder('VAE latent');
    this.ops.unpack.record(rec, tokens, grid, dense(z.parts[0].buffer!, z.size.channels));
    await this.submissions.submit(rec);
    return z;
  }

  /** conv(input) (of the upsampled input) into a new tensor; `input` is freed as it is read. */
  private async convolve(input: BandedTensor, conv: ConvWeights, upsample: boolean): Promise<BandedTensor> {
    const output = this.outputFor(input, conv, upsample ? 2 : 1);
    await this.run({ input, steps: [{ conv, output }], upsample, consumeInput: true });
    return output;
  }

  private async resnet(x: BandedTensor, block: ResnetWeights): Promise<BandedTensor> {
    const norm1 = await this.groupNorm(x, block.norm1);
    const h = this.outputFor(x, block.conv1, 1);
    const conv1 = { conv: block.conv1, output: h, prologue: { affine: norm1, silu: true } };
    // The block's output starts as its shortcut (x itself, or nin_shortcut(x)); conv2 adds into it.
    let out = x;
    if (block.shortcut) {
      out = this.outputFor(x, block.shortcut, 1);
      await this.run({ input: x, steps: [{ conv: block.shortcut, output: out }, conv1], consumeInput: true });
    } else {
      await this.run({ input: x, steps: [conv1] });
    }
    const norm2 = await this.groupNorm(h, block.norm2);
    await this.run({ input: h, steps: [{ conv: block.conv2, output: out, prologue: { affine: norm2, silu: true }, accumulate: true }], consumeInput: true });
    return out;
  }

  /** x + proj_out(attention(q, k, v of GroupNorm(x))), single head over the pixels. */
  private async attention(x: BandedTensor): Promise<BandedTensor> {
    const { norm, qkv, projOut } = this.weights.mid.attention;
    const { height, width, channels } = x.size;
    const affine = await this.groupNorm(x, norm);
    const projections = this.whole('VAE attention q, k, v', { height, width, channels: 3 * channels });
    await this.run({ input: x, steps: [{ conv: qkv, output: projections, prologue: { affine, silu: false } }] });
    const attended = this.whole('VAE attention output', x.size);
    await attended.allocateAll();
    const tokens = dense(projections.parts[0].buffer!, 3 * channels);
    const rec = this.gpu.recorder('VAE attention');
    this.ops.attention.record(rec, {
      queries: tokens, keys: columns(tokens, channels), values: columns(tokens, 2 * channels), output: dense(attended.parts[0].buffer!, channels),
      queryCount: height * width, keyCount: height * width, heads: 1,
    });
    rec.afterSubmit(() => projections.releaseAll());
    await this.submissions.submit(rec);
    await this.run({ input: attended, steps: [{ conv: projOut, output: x, accumulate: true }], consumeInput: true });
    return x;
  }

  /** conv_out(SiLU(GroupNorm(x))) into one f32 [H · W, 3] tensor (the caller's buffer if given). */
  private async output(x: BandedTensor, pixels: GPUBuffer | undefined): Promise<BandedTensor> {
    const { convOut, normOut } = this.weights;
    const affine = await this.groupNorm(x, normOut);
    const size = { height: x.size.height, width: x.size.width, channels: convOut.weight.rows };
    const image = pixels ? BandedTensor.wholeIn(this.gpu, pixels, size) : this.whole('VAE image', size);
    await this.run({ input: x, steps: [{ conv: convOut, output: image, prologue: { affine, silu: true } }], consumeInput: true });
    return image;
  }

  /** Records the GroupNorm statistics of `x` and returns the scale/shift they fold into. */
  private async groupNorm(x: BandedTensor, weight: VectorView): Promise<VectorView> {
    const affine = { buffer: this.affine, offset: 0 };
    const rec = this.gpu.recorder('VAE GroupNorm statistics');
    this.ops.groupNorm.record(rec, { size: x.size, bands: x.ownedBands(), weight, affine });
    await this.submissions.submit(rec);
    return affine;
  }

  private run(pass: ConvPass): Promise<void> {
    return runConvPass(this.gpu, this.ops.conv, this.submissions, pass);
  }

  private outputFor(input: BandedTensor, conv: ConvWeights, scale: number): BandedTensor {
    const size = { height: input.size.height * scale, width: input.size.width * scale, channels: conv.weight.rows };
    return this.track(BandedTensor.banded(this.gpu, `VAE activation ${size.channels}x${size.height}x${size.width}`, size, this.maxPartBytes));
  }

  private whole(label: string, size: ImageSize): BandedTensor {
    return this.track(BandedTensor.whole(this.gpu, label, size));
  }

  private track(tensor: BandedTensor): BandedTensor {
    this.tensors.push(tensor);
    return tensor;
  }
}

function allConvs(weights: VaeDecoderWeights): ConvWeights[] {
  const resnet = (block: ResnetWeights) => [block.conv1, block.conv2, ...(block.shortcut ? [block.shortcut] : [])];
  const { mid } = weights;
  return [
    weights.convIn, ...resnet(mid.block1), mid.attention.qkv, mid.attention.projOut, ...resnet(mid.block2),
    ...weights.levels.flatMap((level) => [...level.blocks.flatMap(resnet), ...(level.upsample ? [level.upsample] : [])]),
    weights.convOut,
  ];
}
