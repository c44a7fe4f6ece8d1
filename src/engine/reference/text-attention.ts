// Float64 reference of CharaConsist's foreground-mask statistics (spec/characonsist-official.md
// §5), written from the spec with plain loops: per image token, the softmax of unscaled q·k over
// the real prompt tokens, per head, summed over heads; its mean over the background prompt range
// and over the foreground range; mask = block-averaged background <= block-averaged foreground.

export interface TextAttentionShape {
  imageTokens: number;
  heads: number;
  headDim: number;
  realLen: number;
  bgLen: number;
}

export interface RangeScores {
  /** [imageTokens] */
  background: Float64Array;
  /** [imageTokens] */
  foreground: Float64Array;
}

/**
 * One block's scores. `queries` [imageTokens, heads * headDim] and `keys` [>= realLen, heads * headDim]
 * are dense row-major. The mean over an empty range is 0.
 */
export function textAttentionScores(queries: ArrayLike<number>, keys: ArrayLike<number>, shape: TextAttentionShape): RangeScores {
  const { imageTokens, realLen, bgLen } = shape;
  const background = new Float64Array(imageTokens);
  const foreground = new Float64Array(imageTokens);
  for (let token = 0; token < imageTokens; token++) {
    const probabilities = headSummedProbabilities(queries, keys, token, shape);
    background[token] = mean(probabilities, 0, bgLen);
    foreground[token] = mean(probabilities, bgLen, realLen);
  }
  return { background, foreground };
}

/** P(token, j) = sum over heads of softmax_j(q_token · k_j), j < realLen. */
function headSummedProbabilities(queries: ArrayLike<number>, keys: ArrayLike<number>, token: number, shape: TextAttentionShape): Float64Array {
  const { heads, headDim, realLen } = shape;
  const width = heads * headDim;
  const summed = new Float64Array(realLen);
  const logits = new Float64Array(realLen);
  for (let head = 0; head < heads; head++) {
    for (let key = 0; key < realLen; key++) {
      let dot = 0;
      for (let d = 0; d < headDim; d++) dot += queries[token * width + head * headDim + d] * keys[key * width + head * headDim + d];
      logits[key] = dot;
    }
    const largest = Math.max(...logits);
    let total = 0;
    for (let key = 0; key < realLen; key++) total += Math.exp(logits[key] - largest);
    for (let key = 0; key < realLen; key++) summed[key] += Math.exp(logits[key] - largest) / total;
  }
  return summed;
}

function mean(values: Float64Array, begin: number, end: number): number {
  if (end <= begin) return 0;
  let total = 0;
  for (let i = begin; i < end; i++) total += values[i];
  return total / (end - begin);
}

/** 1 where the block-averaged background score is <= the foreground score (ties -> foreground). */
export function foregroundMaskReference(backgroundSums: ArrayLike<number>, foregroundSums: ArrayLike<number>, blocks: number): Uint32Array {
  return Uint32Array.from({ length: backgroundSums.length }, (_, i) => Number(backgroundSums[i] / blocks <= foregroundSums[i] / blocks));
}
