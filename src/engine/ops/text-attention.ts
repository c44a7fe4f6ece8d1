// CharaConsist's foreground mask from image-to-text attention (shaders/text-attention.wgsl,
// spec/characonsist-official.md §5). Per single block, TextAttentionScoresOp adds every image
// token's background and foreground score to running sums; after the last block,
// ForegroundMaskOp turns the sums into the raw 0/1 mask (MaskCleanupOp then erodes and dilates it).

import textAttentionWgsl from '../../../shaders/text-attention.wgsl';
import dotTileWgsl from '../../../shaders/token-dot-tile.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { params, u32 } from './params';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import type { MatrixView } from './view';
import { requireCount, requireElements, requireThat, checkView } from './checks';

const SOURCES = [
  { file: 'shaders/token-dot-tile.wgsl', code: dotTileWgsl },
  { file: 'shaders/text-attention.wgsl', code: textAttentionWgsl },
];
/** FLUX's attention head size (features per head). */
export const HEAD_DIM = 128;
/** Image tokens per head_mass workgroup (TILE in token-dot-tile.wgsl). */
const TOKEN_TILE = 64;
const WORKGROUP = 256;
/** Bytes of one (background, foreground) f32 pair. */
const PAIR_BYTES = 8;

export interface TextAttentionBlock {
  /** Image queries [imageTokens, heads * 128] after QK-norm and RoPE. */
  queries: MatrixView;
  /** Text keys [>= realLen, heads * 128] after QK-norm (RoPE is the identity for text tokens). */
  keys: MatrixView;
  imageTokens: number;
  heads: number;
  /** Prompt tokens without EOS and padding: keys [0, realLen) share the softmax. */
  realLen: number;
  /** Background prompt tokens [0, bgLen); the foreground (character and action) is [bgLen, realLen). */
  bgLen: number;
  /** [imageTokens] (background, foreground) f32 pairs: sums of the per-block scores. */
  scoreSums: Binding;
  /** Overwrite scoreSums instead of adding to them (the first block of a step). */
  firstBlock: boolean;
}

export class TextAttentionScoresOp {
  /** [heads, imageTokens] (background, foreground) probability mass of one block. */
  private readonly headMass: ScratchBuffer;

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly massKernel: Kernel,
    private readonly accumulateKernel: Kernel,
  ) {
    this.headMass = new ScratchBuffer(gpu, 'text-attention head mass');
  }

  static async create(gpu: GpuRuntime): Promise<TextAttentionScoresOp> {
    const [mass, accumulate] = await Promise.all([
      gpu.kernels.get({ name: 'text-attention.head-mass', sources: SOURCES, entryPoint: 'head_mass', constants: { HEAD_DIM }, storage: ['queries', 'keys', 'headMass'], params: true }),
      gpu.kernels.get({ name: 'text-attention.accumulate', sources: SOURCES, entryPoint: 'accumulate_scores', storage: ['headMass', 'scoreSums'], params: true }),
    ]);
    return new TextAttentionScoresOp(gpu, mass, accumulate);
  }

  /** Records one single block's contribution to the per-token score sums. */
  record(rec: Recorder, block: TextAttentionBlock): void {
    const { queries, keys, imageTokens, heads, realLen, bgLen } = block;
    checkBlock(block);
    const headMass = this.headMass.get(rec, heads * imageTokens * PAIR_BYTES);
    rec.dispatch(
      this.massKernel,
      { queries: queries.buffer, keys: keys.buffer, headMass },
      params(u32(imageTokens), u32(queries.offset), u32(queries.stride), u32(keys.offset), u32(keys.stride), u32(realLen), u32(bgLen)),
      [Math.ceil(imageTokens / TOKEN_TILE), heads],
    );
    const grid = grid1d(imageTokens, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(
      this.accumulateKernel,
      { headMass, scoreSums: block.scoreSums },
      params(u32(imageTokens), u32(heads), u32(bgLen), u32(realLen), u32(block.firstBlock ? 1 : 0), u32(grid.rowStride)),
      grid.workgroups,
    );
  }
}

function checkBlock(block: TextAttentionBlock): void {
  const op = 'text-attention scores';
  requireCount(`${op} imageTokens`, block.imageTokens);
  requireCount(`${op} heads`, block.heads);
  requireCount(`${op} realLen`, block.realLen, 0);
  requireCount(`${op} bgLen`, block.bgLen, 0);
  requireThat(op, block.bgLen <= block.realLen, `bgLen ${block.bgLen} exceeds realLen ${block.realLen}`);
  checkView(`${op} queries`, block.queries, block.imageTokens, block.heads * HEAD_DIM);
  checkView(`${op} keys`, block.keys, block.realLen, block.heads * HEAD_DIM);
  requireElements(`${op} scoreSums`, block.scoreSums, 2 * block.imageTokens);
}

export class ForegroundMaskOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<ForegroundMaskOp> {
    const kernel = await gpu.kernels.get({ name: 'text-attention.foreground-mask', sources: SOURCES, entryPoint: 'foreground_mask', storage: ['scoreSums', 'mask'], params: true });
    return new ForegroundMaskOp(gpu, kernel);
  }

  /** Records mask[i] = 1 where background score <= foreground score (ties -> foreground), else 0; u32 [imageTokens]. */
  record(rec: Recorder, scoreSums: Binding, mask: Binding, imageTokens: number): void {
    requireCount('foreground mask imageTokens', imageTokens);
    requireElements('foreground mask scoreSums', scoreSums, 2 * imageTokens);
    requireElements('foreground mask mask', mask, imageTokens);
    const grid = grid1d(imageTokens, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(this.kernel, { scoreSums, mask }, params(u32(imageTokens), u32(grid.rowStride)), grid.workgroups);
  }
}
