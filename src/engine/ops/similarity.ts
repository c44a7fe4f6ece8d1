// CharaConsist's point matching (shaders/similarity.wgsl, spec/characonsist-official.md §6):
//   CosineSimilarityOp  per single block: similaritySums (+)= cos(frame token, identity token)
//   BestMatchOp         after the last block: per frame token, the best identity token by the
//                       mean over blocks, and that mean
//   ValidMatchOp        which matches CharaConsist uses (get_shared_fg_mask), as 0/1 flags

import similarityWgsl from '../../../shaders/similarity.wgsl';
import dotTileWgsl from '../../../shaders/token-dot-tile.wgsl';
import type { Kernel } from '../gpu/kernels';
import type { Binding, Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { grid1d } from './grid';
import { f32, params, u32 } from './params';
import { ScratchBuffer } from '../gpu/scratch-buffer';
import type { MatrixView } from './view';
import { requireCount, requireElements, checkView } from './checks';

const SOURCES = [
  { file: 'shaders/token-dot-tile.wgsl', code: dotTileWgsl },
  { file: 'shaders/similarity.wgsl', code: similarityWgsl },
];
/** Tokens per side of an accumulate_similarity workgroup's tile (TILE in token-dot-tile.wgsl). */
const TOKEN_TILE = 64;
const WORKGROUP = 256;
/** The official sim_thr: a match counts only above this mean cosine similarity. */
export const MATCH_THRESHOLD = 0.5;

export interface SimilarityBlock {
  /** Frame image-token attention outputs [frameTokens, channels], heads concatenated. */
  frame: MatrixView;
  frameTokens: number;
  /** Identity image-token attention outputs [identityTokens, channels] of the same block and step. */
  identity: MatrixView;
  identityTokens: number;
  /** heads * 128 (3072 in FLUX) */
  channels: number;
  /**
   * [frameTokens, identityTokens] f32 sums over blocks (64 MiB at 1024²). It has to live across
   * all blocks: the match is the argmax of the mean over blocks, not of any one block.
   */
  similaritySums: Binding;
  /** Overwrite similaritySums instead of adding to them (the first block of the step). */
  firstBlock: boolean;
}

export class CosineSimilarityOp {
  private readonly frameInverseNorms: ScratchBuffer;
  private readonly identityInverseNorms: ScratchBuffer;

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly normKernel: Kernel,
    private readonly accumulateKernel: Kernel,
  ) {
    this.frameInverseNorms = new ScratchBuffer(gpu, 'frame inverse norms');
    this.identityInverseNorms = new ScratchBuffer(gpu, 'identity inverse norms');
  }

  static async create(gpu: GpuRuntime): Promise<CosineSimilarityOp> {
    const [norms, accumulate] = await Promise.all([
      gpu.kernels.get({ name: 'similarity.inverse-norms', sources: SOURCES, entryPoint: 'inverse_norms', storage: ['rows', 'inverseNorms'], params: true }),
      gpu.kernels.get({
        name: 'similarity.accumulate',
        sources: SOURCES,
        entryPoint: 'accumulate_similarity',
        storage: ['frame', 'identity', 'frameInverseNorms', 'identityInverseNorms', 'similaritySums'],
        params: true,
      }),
    ]);
    return new CosineSimilarityOp(gpu, norms, accumulate);
  }

  /** Records one block: inverse row norms of both sides, then the tiled product with them applied. */
  record(rec: Recorder, block: SimilarityBlock): void {
    const { frame, identity, frameTokens, identityTokens, channels } = block;
    checkBlock(block);
    const frameInverseNorms = this.frameInverseNorms.get(rec, 4 * frameTokens);
    const identityInverseNorms = this.identityInverseNorms.get(rec, 4 * identityTokens);
    this.recordInverseNorms(rec, frame, frameTokens, channels, frameInverseNorms);
    this.recordInverseNorms(rec, identity, identityTokens, channels, identityInverseNorms);
    rec.dispatch(
      this.accumulateKernel,
      { frame: frame.buffer, identity: identity.buffer, frameInverseNorms, identityInverseNorms, similaritySums: block.similaritySums },
      params(
        u32(frameTokens),
        u32(identityTokens),
        u32(channels),
        u32(frame.offset),
        u32(frame.stride),
        u32(identity.offset),
        u32(identity.stride),
        u32(block.firstBlock ? 1 : 0),
      ),
      [Math.ceil(identityTokens / TOKEN_TILE), Math.ceil(frameTokens / TOKEN_TILE)],
    );
  }

  private recordInverseNorms(rec: Recorder, rows: MatrixView, count: number, channels: number, inverseNorms: GPUBuffer): void {
    // One workgroup per row.
    const grid = grid1d(count, 1, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(this.normKernel, { rows: rows.buffer, inverseNorms }, params(u32(count), u32(channels), u32(rows.offset), u32(rows.stride), u32(grid.rowStride)), grid.workgroups);
  }
}

function checkBlock(block: SimilarityBlock): void {
  const op = 'cosine similarity';
  requireCount(`${op} frameTokens`, block.frameTokens);
  requireCount(`${op} identityTokens`, block.identityTokens);
  requireCount(`${op} channels`, block.channels);
  checkView(`${op} frame`, block.frame, block.frameTokens, block.channels);
  checkView(`${op} identity`, block.identity, block.identityTokens, block.channels);
  requireElements(`${op} similaritySums`, block.similaritySums, block.frameTokens * block.identityTokens);
}

export interface BestMatchArgs {
  /** [frameTokens, identityTokens] f32 similarity summed over `blocks` blocks. */
  similaritySums: Binding;
  frameTokens: number;
  identityTokens: number;
  blocks: number;
  /** out: [frameTokens] f32 mean similarity of the best identity token (S_max). */
  bestSimilarity: Binding;
  /** out: [frameTokens] u32 best identity token; on equal values the lowest index wins. */
  bestMatch: Binding;
}

export class BestMatchOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<BestMatchOp> {
    const kernel = await gpu.kernels.get({ name: 'similarity.best-match', sources: SOURCES, entryPoint: 'best_match', storage: ['similaritySums', 'bestSimilarity', 'bestMatch'], params: true });
    return new BestMatchOp(gpu, kernel);
  }

  record(rec: Recorder, args: BestMatchArgs): void {
    const op = 'best match';
    requireCount(`${op} frameTokens`, args.frameTokens);
    requireCount(`${op} identityTokens`, args.identityTokens);
    requireCount(`${op} blocks`, args.blocks);
    requireElements(`${op} similaritySums`, args.similaritySums, args.frameTokens * args.identityTokens);
    requireElements(`${op} bestSimilarity`, args.bestSimilarity, args.frameTokens);
    requireElements(`${op} bestMatch`, args.bestMatch, args.frameTokens);
    // One workgroup per frame token.
    const grid = grid1d(args.frameTokens, 1, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    rec.dispatch(
      this.kernel,
      { similaritySums: args.similaritySums, bestSimilarity: args.bestSimilarity, bestMatch: args.bestMatch },
      params(u32(args.frameTokens), u32(args.identityTokens), u32(args.blocks), u32(grid.rowStride)),
      grid.workgroups,
    );
  }
}

export interface ValidMatchArgs {
  /** [frameTokens] u32 0/1 current frame foreground mask */
  frameForeground: Binding;
  /** [identityTokens] u32 0/1 identity foreground mask */
  identityForeground: Binding;
  /** [frameTokens] f32 from BestMatchOp */
  bestSimilarity: Binding;
  /** [frameTokens] u32 from BestMatchOp */
  bestMatch: Binding;
  frameTokens: number;
  identityTokens: number;
  /** MATCH_THRESHOLD in the official setting; a match needs a strictly larger similarity. */
  threshold: number;
  /** out: [frameTokens] u32, 1 where the frame token takes part in point tracking and token merge */
  valid: Binding;
}

export class ValidMatchOp {
  private constructor(private readonly gpu: GpuRuntime, private readonly kernel: Kernel) {}

  static async create(gpu: GpuRuntime): Promise<ValidMatchOp> {
    const kernel = await gpu.kernels.get({
      name: 'similarity.valid-matches',
      sources: SOURCES,
      entryPoint: 'valid_matches',
      storage: ['frameForeground', 'identityForeground', 'bestSimilarity', 'bestMatch', 'valid'],
      params: true,
    });
    return new ValidMatchOp(gpu, kernel);
  }

  record(rec: Recorder, args: ValidMatchArgs): void {
    const op = 'valid matches';
    requireCount(`${op} frameTokens`, args.frameTokens);
    requireCount(`${op} identityTokens`, args.identityTokens);
    for (const name of ['frameForeground', 'bestSimilarity', 'bestMatch', 'valid'] as const) requireElements(`${op} ${name}`, args[name], args.frameTokens);
    requireElements(`${op} identityForeground`, args.identityForeground, args.identityTokens);
    const grid = grid1d(args.frameTokens, WORKGROUP, this.gpu.limits.maxComputeWorkgroupsPerDimension);
    const { frameForeground, identityForeground, bestSimilarity, bestMatch, valid } = args;
    rec.dispatch(
      this.kernel,
      { frameForeground, identityForeground, bestSimilarity, bestMatch, valid },
      params(u32(args.frameTokens), u32(args.identityTokens), f32(args.threshold), u32(grid.rowStride)),
      grid.workgroups,
    );
  }
}
