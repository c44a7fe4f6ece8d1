// The two things CharaConsist measures after a forward pass, built on the float64 references of
// the statistics: the foreground mask (spec/characonsist-official.md §5) and the point matches
// (§6).

import { maskCleanupReference, type TokenGrid } from './morphology';
import { bestMatches, meanCosineSimilarity, validMatches } from './similarity';
import { foregroundMaskReference, textAttentionScores, type RangeScores, type TextAttentionShape } from './text-attention';

/** Mask statistics of one pass: each single block's text-attention scores, summed. */
export class MaskStatistics {
  private readonly sums: RangeScores;
  private blocks = 0;

  constructor(private readonly shape: TextAttentionShape) {
    this.sums = { background: new Float64Array(shape.imageTokens), foreground: new Float64Array(shape.imageTokens) };
  }

  /** `imageQueries` [imageTokens, hidden] and `keys` [>= realLen, hidden], both after RoPE. */
  add(imageQueries: Float64Array, keys: Float64Array): void {
    const scores = textAttentionScores(imageQueries, keys, this.shape);
    scores.background.forEach((value, token) => (this.sums.background[token] += value));
    scores.foreground.forEach((value, token) => (this.sums.foreground[token] += value));
    this.blocks++;
  }

  /** mask = cleanup(block-mean background <= block-mean foreground), 1 = foreground; and the block means. */
  finish(grid: TokenGrid): { mask: Uint32Array; scores: RangeScores } {
    const raw = foregroundMaskReference(this.sums.background, this.sums.foreground, this.blocks);
    const mean = (sums: Float64Array) => sums.map((sum) => sum / this.blocks);
    return { mask: maskCleanupReference(raw, grid), scores: { background: mean(this.sums.background), foreground: mean(this.sums.foreground) } };
  }
}

export interface PointMatches {
  /** [frameTokens] the identity token of largest block-mean cosine similarity (argmax_indices) */
  bestMatch: Uint32Array;
  /** [frameTokens] that similarity (max_sim, S_max) */
  bestSimilarity: Float64Array;
  /** valid correspondences in ascending frame order: frame tokens (curr_fg_inds) ... */
  frameTokens: Uint32Array;
  /** ... and their identity tokens (id_fg_inds; repeats allowed) */
  identityTokens: Uint32Array;
}

/** Image attention outputs of one single block: the frame's now, the identity's at the mask step. */
export interface MatchingBlock {
  frame: Float64Array;
  identity: Float64Array;
}

/** get_cross_sim + get_shared_fg_mask: valid = frame fg AND identity fg at the match AND S_max > threshold. */
export function pointMatches(blocks: MatchingBlock[], channels: number, frameMask: ArrayLike<number>, identityMask: ArrayLike<number>, threshold: number): PointMatches {
  const best = bestMatches(meanCosineSimilarity(blocks, channels), identityMask.length);
  const valid = validMatches(frameMask, identityMask, best.similarity, best.match, threshold);
  const frameTokens = Uint32Array.from(valid.keys()).filter((token) => valid[token] !== 0);
  return { bestMatch: best.match, bestSimilarity: best.similarity, frameTokens, identityTokens: frameTokens.map((token) => best.match[token]) };
}
