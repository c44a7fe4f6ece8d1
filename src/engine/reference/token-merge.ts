// Float64 reference of CharaConsist's similarity-weighted token merge (spec/characonsist-official.md §8).

export interface MergeEntries {
  /** frame tokens t (distinct) */
  frameTokens: ArrayLike<number>;
  /** identity tokens m(t) */
  identityTokens: ArrayLike<number>;
  /** weights a_t */
  weights: ArrayLike<number>;
}

/** frame [frameTokens, channels] with rows t replaced by (1 - a_t) frame[t] + a_t identity[m(t)]. */
export function tokenMergeReference(frame: ArrayLike<number>, identity: ArrayLike<number>, channels: number, entries: MergeEntries): Float64Array {
  const merged = Float64Array.from(frame);
  for (let e = 0; e < entries.frameTokens.length; e++) {
    const t = entries.frameTokens[e];
    const m = entries.identityTokens[e];
    const a = entries.weights[e];
    for (let c = 0; c < channels; c++) merged[t * channels + c] = (1 - a) * frame[t * channels + c] + a * identity[m * channels + c];
  }
  return merged;
}
