// 2-D convolutions of HWC images (shaders/conv.wgsl), stride 1, 3x3 with zero padding 1 or 1x1,
// as an implicit GEMM on F32/F16/BF16 weights with f32 accumulation. Fused: nearest x2
// upsampling of the input (the VAE's Upsample), a per-channel affine + SiLU prologue on the input
// (GroupNorm with statistics from GroupNormOp), the bias, and a residual epilogue (a view, or
// the output itself: ResnetBlock's `x' + h`). A call computes a band of output rows from a band of
// input rows, so images larger than a storage binding are convolved band by band.

import tileWgsl from '../../../shaders/linear-tile.wgsl';
import quantWgsl from '../../../shaders/quant.wgsl';
import convWgsl from '../../../shaders/conv.wgsl';
import weightPlanesWgsl from '../../../shaders/weight-planes.wgsl';
import type { Kernel, ShaderSource } from '../gpu/kernels';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { checkDistinct, checkVector, checkView, requireThat } from './checks';
import { grid1d } from './grid';
import { checkBand, type ImageBand, type ImageSize } from './image-band';
import { BASELINE_TILE, workgroupBytes, type TileShape } from './linear-config';
import { params, u32 } from './params';
import { vectorBinding, viewBinding, type MatrixView, type VectorView } from './view';
import { WEIGHT_TYPE_CODES, type GpuWeight } from './weights';

export type ConvWeightType = 'F32' | 'F16' | 'BF16';

/**
 * 'auto': register-tiled 128x128 outputs per workgroup for convolutions large enough to fill a GPU
 * with them, 64x64 otherwise (and on adapters with little workgroup memory), and 128x16 for few
 * output channels; on a software adapter (a CPU), the direct kernel. 'baseline': 16x16 tiles, one
 * output per thread; 'direct': eight output channels of one pixel per thread, no workgroup memory;
 * a TileShape: that one for every call (tests, tuning).
 */
export type ConvTiles = 'auto' | 'baseline' | 'direct' | TileShape;

export interface ConvOptions {
  type: ConvWeightType;
  /** default 'auto' */
  tiles?: ConvTiles;
}

export interface ConvInput {
  /** the whole input image, before upsampling */
  size: ImageSize;
  /** rows of it bound for this call: at least every row the output band's taps read */
  band: ImageBand;
}

export interface ConvCall {
  /** W [outChannels, kernelSize² · inChannels] with K tap-major (tapMajorWeights) */
  weight: GpuWeight;
  kernelSize: 1 | 3;
  /** [outChannels] */
  bias: VectorView;
  input: ConvInput;
  /** nearest x2 upsampling of the input before the convolution */
  upsample?: boolean;
  /** applied to every input value before the convolution: x · scale[c] + shift[c] (then SiLU); affine = scale [inChannels], shift [inChannels] */
  prologue?: { affine: VectorView; silu: boolean };
  /** output rows to compute (output resolution), [rows · outWidth, outChannels] */
  output: ImageBand;
  /** added to the result: a [rows · outWidth, outChannels] view of another buffer, or the output's own values */
  residual?: MatrixView | 'accumulate';
}

const PROLOGUE = { none: 0, affine: 1, affineSilu: 2 };
const RESIDUAL = { none: 0, view: 1, accumulate: 2 };
const STORAGE = ['y', 'bias', 'affine', 'residual_source', 'weights', 'x'];

export const CONV_TILES = {
  large: { rows: 128, cols: 128, depth: 32, threadTile: 8, swizzle: 7, scalar: 'f32' },
  medium: { rows: 64, cols: 64, depth: 32, threadTile: 4, swizzle: 7, scalar: 'f32' },
  /** for convolutions with few output channels (conv_out: 3), where a square tile would compute mostly padding */
  narrow: { rows: 128, cols: 16, depth: 32, threadTile: 4, swizzle: 3, scalar: 'f32' },
} as const satisfies Record<string, TileShape>;
/** Workgroups of the large tile below which a dispatch takes the medium one (more workgroups, less padding). */
const MIN_LARGE_TILES = 64;

const source = (file: string, code: string): ShaderSource => ({ file: `shaders/${file}`, code });
const QUANT = source('quant.wgsl', quantWgsl);
const WEIGHT_PLANES = source('weight-planes.wgsl', weightPlanesWgsl);
const CONV = source('conv.wgsl', convWgsl);
const TILE = source('linear-tile.wgsl', tileWgsl);

interface CompiledTile {
  /** undefined: the direct kernel */
  tile: TileShape | undefined;
  kernel: Kernel;
}

/** Threads per workgroup of conv_direct, and output channels per thread (shaders/conv.wgsl). */
const DIRECT_THREADS = 64;
const DIRECT_OUTPUTS = 8;

export class ConvOp {
  private constructor(
    private readonly gpu: GpuRuntime,
    readonly type: ConvWeightType,
    private readonly large: CompiledTile,
    private readonly medium: CompiledTile,
    private readonly narrow: CompiledTile,
  ) {}

  static async create(gpu: GpuRuntime, options: ConvOptions): Promise<ConvOp> {
    const compile = async (tile: TileShape | undefined): Promise<CompiledTile> => {
      // The direct kernel shares the module; the baseline tile's constants complete it.
      const shape = tile ?? BASELINE_TILE;
      const kernel = await gpu.kernels.get({
        name: tile ? `conv.${options.type}.${tile.rows}x${tile.cols}x${tile.depth}/${tile.threadTile}` : `conv.${options.type}.direct`,
        sources: [tileConstants(shape), QUANT, WEIGHT_PLANES, CONV, TILE],
        entryPoint: tile ? 'conv' : 'conv_direct',
        constants: { WEIGHT_TYPE: WEIGHT_TYPE_CODES[options.type] },
        storage: STORAGE,
        params: true,
      });
      return { tile, kernel };
    };
    const requested = options.tiles ?? 'auto';
    const tiles = requested === 'auto' && gpu.report.isSoftware ? 'direct' : requested;
    if (tiles !== 'auto') {
      const only = await compile(tiles === 'baseline' ? BASELINE_TILE : tiles === 'direct' ? undefined : tiles);
      return new ConvOp(gpu, options.type, only, only, only);
    }
    const largeFits = workgroupBytes(CONV_TILES.large) <= gpu.limits.maxComputeWorkgroupStorageSize;
    const [large, medium, narrow] = await Promise.all([compile(largeFits ? CONV_TILES.large : CONV_TILES.medium), compile(CONV_TILES.medium), compile(CONV_TILES.narrow)]);
    return new ConvOp(gpu, options.type, large, medium, narrow);
  }

  record(rec: Recorder, call: ConvCall): void {
    const { inChannels, outChannels, outputSize } = this.check(call);
    const { input, output, weight } = call;
    const pixels = output.rows * outputSize.width;
    const { tile, kernel } = this.choose(pixels, outChannels);
    const alignment = this.gpu.limits.minStorageBufferOffsetAlignment;
    const x = viewBinding(input.band.view, input.band.rows * input.size.width, inChannels, alignment);
    const y = viewBinding(output.view, pixels, outChannels, alignment);
    const bias = vectorBinding(call.bias, outChannels, alignment);
    const affine = call.prologue && vectorBinding(call.prologue.affine, 2 * inChannels, alignment);
    const residualView = typeof call.residual === 'object' ? call.residual : undefined;
    const residual = residualView && viewBinding(residualView, pixels, outChannels, alignment);
    const [part] = weight.parts;
    const tilesM = tile ? Math.ceil(pixels / tile.rows) : 0;
    const tilesN = tile ? Math.ceil(outChannels / tile.cols) : 0;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const grid = tile ? grid1d(tilesM * tilesN, 1, max) : grid1d(pixels * Math.ceil(outChannels / DIRECT_OUTPUTS), DIRECT_THREADS, max);
    const prologue = !call.prologue ? PROLOGUE.none : call.prologue.silu ? PROLOGUE.affineSilu : PROLOGUE.affine;
    const residualMode = call.residual === undefined ? RESIDUAL.none : call.residual === 'accumulate' ? RESIDUAL.accumulate : RESIDUAL.view;
    const block = params(
      u32(pixels), u32(outChannels), u32(call.kernelSize ** 2 * inChannels),
      u32(outputSize.width), u32(output.firstRow),
      u32(input.size.height), u32(input.size.width), u32(inChannels),
      u32(x.offset), u32(input.band.view.stride), u32(input.band.firstRow),
      u32(call.kernelSize), u32(call.upsample ? 1 : 0), u32(prologue), u32(affine?.offset ?? 0),
      u32(y.offset), u32(output.view.stride), u32(bias.offset),
      u32(residualMode), u32(residual?.offset ?? 0), u32(residualView?.stride ?? 0),
      u32(part.layout.rowWords), u32(part.layout.groupsPerRow),
      u32(tilesM), u32(tilesN), u32(grid.rowStride),
    );
    // Unused inputs are bound to the (read-only) weights so every binding is valid.
    const bindings = {
      y: y.binding, bias: bias.binding, affine: affine?.binding ?? part.buffer, residual_source: residual?.binding ?? part.buffer, weights: part.buffer, x: x.binding,
    };
    rec.dispatch(kernel, bindings, block, grid.workgroups);
  }

  private choose(pixels: number, outChannels: number): CompiledTile {
    if (!this.large.tile || outChannels <= CONV_TILES.narrow.cols) return this.narrow;
    const { rows, cols } = this.large.tile;
    return Math.ceil(pixels / rows) * Math.ceil(outChannels / cols) >= MIN_LARGE_TILES ? this.large : this.medium;
  }

  private check(call: ConvCall) {
    const { weight, kernelSize, input, output } = call;
    const what = `conv ${kernelSize}x${kernelSize} [${weight.rows}, ${weight.cols}]`;
    requireThat(what, weight.type === this.type, `this op was created for ${this.type} weights, not ${weight.type}`);
    requireThat(what, weight.parts.length === 1, 'the weight must be a single part');
    requireThat(what, kernelSize === 1 || kernelSize === 3, 'the kernel size must be 1 or 3');
    requireThat(what, weight.cols % kernelSize ** 2 === 0, `its ${weight.cols} columns are not whole taps`);
    const inChannels = weight.cols / kernelSize ** 2;
    const outChannels = weight.rows;
    requireThat(what, input.size.channels === inChannels, `the input has ${input.size.channels} channels, the weight ${inChannels}`);
    requireThat(what, input.size.height < 32768 && input.size.width < 32768, 'images are limited to 32767 pixels a side');
    const scale = call.upsample ? 2 : 1;
    const outputSize: ImageSize = { height: input.size.height * scale, width: input.size.width * scale, channels: outChannels };
    checkBand(`${what} input`, input.band, input.size);
    checkBand(`${what} output`, output, outputSize);
    const [first, last] = neededInputRows(output, kernelSize, scale, input.size.height);
    requireThat(`${what} input`, input.band.firstRow <= first && input.band.firstRow + input.band.rows > last, `rows ${first}..${last} are needed, ${input.band.firstRow}..${input.band.firstRow + input.band.rows - 1} are bound`);
    checkVector(`${what} bias`, call.bias, outChannels);
    const read: Record<string, { buffer: GPUBuffer }> = { input: input.band.view, bias: call.bias, weight: weight.parts[0] };
    if (call.prologue) {
      checkVector(`${what} prologue affine`, call.prologue.affine, 2 * inChannels);
      read['prologue affine'] = call.prologue.affine;
    }
    if (typeof call.residual === 'object') {
      checkView(`${what} residual`, call.residual, output.rows * outputSize.width, outChannels);
      read.residual = call.residual;
    }
    checkDistinct(`${what} output`, output.view.buffer, read);
    return { inChannels, outChannels, outputSize };
  }
}

/** First and last input rows (before upsampling) that output rows `band` read. */
export function neededInputRows(band: { firstRow: number; rows: number }, kernelSize: number, scale: number, inputHeight: number): [number, number] {
  const pad = (kernelSize - 1) / 2;
  const first = Math.max(0, band.firstRow - pad);
  const last = Math.min(inputHeight * scale - 1, band.firstRow + band.rows - 1 + pad);
  return [Math.floor(first / scale), Math.floor(last / scale)];
}

/**
 * PyTorch's conv weight [out, in, k, k] reordered to the [out, k, k, in] rows the kernel reads
 * (K tap-major, so consecutive K are consecutive channels of one input pixel).
 */
export function tapMajorWeights(values: ArrayLike<number>, outChannels: number, inChannels: number, kernelSize: number): Float32Array {
  const taps = kernelSize * kernelSize;
  const out = new Float32Array(outChannels * taps * inChannels);
  for (let o = 0; o < outChannels; o++) {
    for (let c = 0; c < inChannels; c++) {
      for (let tap = 0; tap < taps; tap++) out[(o * taps + tap) * inChannels + c] = values[(o * inChannels + c) * taps + tap];
    }
  }
  return out;
}

/** The constants linear-tile.wgsl and conv.wgsl are written against, as a generated first chunk. */
function tileConstants(tile: TileShape): ShaderSource {
  const lines = [
    `alias TileScalar = ${tile.scalar};`,
    `const BM = ${tile.rows}u;`,
    `const BN = ${tile.cols}u;`,
    `const BK = ${tile.depth}u;`,
    `const TILE_DEPTH = ${tile.depth}u;`,
    `const THREAD_TILE = ${tile.threadTile}u;`,
    `const SWIZZLE = ${tile.swizzle}u;`,
    // conv.wgsl keeps each thread on one K column of the A tile.
    `const_assert (BM / THREAD_TILE) * (BN / THREAD_TILE) % (4u * BK) == 0u;`,
  ];
  return { file: `generated: conv tile ${tile.rows}x${tile.cols}x${tile.depth}/${tile.threadTile}`, code: lines.join('\n') };
}
