// T5's relative-position bias (spec/flux.md §4.1): every relative position j − i of key j and
// query i falls in a bucket (bidirectional: half the buckets for keys after the query; exact
// distances below a quarter of the buckets, logarithmic steps up to maxDistance, then the last
// bucket of the side), and block 0's relative_attention_bias [buckets, heads] gives each bucket a
// bias per head, added to the scores of every layer. The attention kernel takes the bias as a
// table [heads, queries + keys − 1] by relative position (AttentionArgs.positionBias), built here.

import type { T5Config } from './config';

/** The bucket of relative position `relative` = j − i. */
export function relativePositionBucket(relative: number, buckets: number, maxDistance: number): number {
  const side = buckets / 2;
  const exact = side / 2;
  const first = relative > 0 ? side : 0;
  const distance = Math.abs(relative);
  if (distance < exact) return first + distance;
  // Float64 logs; no distance lands within rounding of a bucket edge (checked against float32 in the tests).
  const logarithmic = exact + Math.trunc((Math.log(distance / exact) / Math.log(maxDistance / exact)) * (side - exact));
  return first + Math.min(side - 1, logarithmic);
}

/**
 * The bias table [heads, queries + keys − 1]: row h, column j − i + queries − 1 holds head h's
 * bias for key j seen by query i. `relativeAttentionBias` is [buckets, heads].
 */
export function positionBiasTable(relativeAttentionBias: ArrayLike<number>, config: Pick<T5Config, 'heads' | 'buckets' | 'maxDistance'>, queries: number, keys: number): Float32Array {
  const columns = queries + keys - 1;
  const table = new Float32Array(config.heads * columns);
  for (let column = 0; column < columns; column++) {
    const bucket = relativePositionBucket(column - (queries - 1), config.buckets, config.maxDistance);
    for (let head = 0; head < config.heads; head++) table[head * columns + column] = relativeAttentionBias[bucket * config.heads + head];
  }
  return table;
}
