// Float64 reference of CharaConsist's point matching (spec/characonsist-official.md §6), written
// from the spec with plain loops: cosine similarity of L2-normalised token rows, averaged over
// blocks; per frame token the best identity token (ties -> lowest index); valid matches.

/** Torch's F.normalize epsilon: a zero row normalises to zero instead of NaN. */
const NORM_EPSILON = 1e-12;

/** cos(frame[f], identity[i]) as [frameTokens, identityTokens]; inputs dense [tokens, channels]. */
export function cosineSimilarity(frame: ArrayLike<number>, identity: ArrayLike<number>, channels: number): Float64Array {
  const frameTokens = frame.length / channels;
  const identityTokens = identity.length / channels;
  const frameNorms = rowNorms(frame, channels);
  const identityNorms = rowNorms(identity, channels);
  const similarity = new Float64Array(frameTokens * identityTokens);
  for (let f = 0; f < frameTokens; f++) {
    for (let i = 0; i < identityTokens; i++) {
      let dot = 0;
      for (let c = 0; c < channels; c++) dot += frame[f * channels + c] * identity[i * channels + c];
      similarity[f * identityTokens + i] = dot / (frameNorms[f] * identityNorms[i]);
    }
  }
  return similarity;
}

/** Mean over blocks of cosineSimilarity: what the frame tokens are matched on. */
export function meanCosineSimilarity(blocks: readonly { frame: ArrayLike<number>; identity: ArrayLike<number> }[], channels: number): Float64Array {
  const perBlock = blocks.map((block) => cosineSimilarity(block.frame, block.identity, channels));
  return perBlock[0].map((_, at) => perBlock.reduce((total, similarity) => total + similarity[at], 0) / blocks.length);
}

function rowNorms(rows: ArrayLike<number>, channels: number): Float64Array {
  return Float64Array.from({ length: rows.length / channels }, (_, row) => {
    let squares = 0;
    for (let c = 0; c < channels; c++) squares += rows[row * channels + c] ** 2;
    return Math.max(Math.sqrt(squares), NORM_EPSILON);
  });
}

export interface BestMatches {
  /** [frameTokens] the largest similarity of each frame token. */
  similarity: Float64Array;
  /** [frameTokens] the identity token reaching it (the lowest such index). */
  match: Uint32Array;
  /** [frameTokens] largest minus second-largest value of the row (0 for one identity token). */
  gap: Float64Array;
}

/** Max, argmax and top-2 gap of each row of `similarity` [frameTokens, identityTokens]. */
export function bestMatches(similarity: ArrayLike<number>, identityTokens: number): BestMatches {
  const frameTokens = similarity.length / identityTokens;
  const result = { similarity: new Float64Array(frameTokens), match: new Uint32Array(frameTokens), gap: new Float64Array(frameTokens) };
  for (let f = 0; f < frameTokens; f++) {
    let best = -Infinity;
    let second = -Infinity;
    for (let i = 0; i < identityTokens; i++) {
      const value = similarity[f * identityTokens + i];
      if (value > best) {
        second = best;
        best = value;
        result.match[f] = i;
      } else if (value > second) {
        second = value;
      }
    }
    result.similarity[f] = best;
    result.gap[f] = identityTokens > 1 ? best - second : 0;
  }
  return result;
}

/** get_shared_fg_mask: frame fg AND identity fg at the match AND similarity > threshold, as 0/1. */
export function validMatches(frameForeground: ArrayLike<number>, identityForeground: ArrayLike<number>, similarity: ArrayLike<number>, match: ArrayLike<number>, threshold: number): Uint32Array {
  return Uint32Array.from({ length: frameForeground.length }, (_, f) =>
    Number(frameForeground[f] !== 0 && identityForeground[match[f]] !== 0 && similarity[f] > threshold),
  );
}
