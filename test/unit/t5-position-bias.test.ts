import { describe, expect, it } from 'vitest';
import { positionBiasTable, relativePositionBucket } from '../../src/engine/models/t5/position-bias';

describe('T5 relative-position buckets (32 buckets, max distance 128, bidirectional)', () => {
  // By hand from spec/flux.md §4.1: keys before the query (j − i ≤ 0) use buckets 0..15, after it
  // 16..31; distances 0..7 are exact; from 8 on, bucket 8 + trunc(ln(n/8) / ln(16) · 8), whose
  // edges lie at n = 8 · 2^(k/2): 11.3, 16, 22.6, 32, 45.3, 64, 90.5 → first n of buckets 9..15:
  // 12, 16, 23, 32, 46, 64, 91.
  it.each([
    [0, 0], [-1, 1], [-7, 7], [1, 17], [7, 23],
    [-8, 8], [-11, 8], [-12, 9], [-15, 9], [-16, 10], [-22, 10], [-23, 11], [-31, 11], [-32, 12], [-45, 12], [-46, 13], [-63, 13], [-64, 14], [-90, 14], [-91, 15],
    [-127, 15], [-128, 15], [-5000, 15],
    [8, 24], [12, 25], [16, 26], [23, 27], [32, 28], [46, 29], [64, 30], [90, 30], [91, 31], [128, 31], [511, 31],
  ])('j − i = %i falls in bucket %i', (relative, bucket) => {
    expect(relativePositionBucket(relative, 32, 128)).toBe(bucket);
  });

  it("agrees with Hugging Face's float32 computation at every distance up to 4096", () => {
    const f = Math.fround;
    for (let relative = -4096; relative <= 4096; relative++) {
      const n = Math.abs(relative);
      const logarithmic = Math.trunc(f(f(f(Math.log(f(n / 8))) / f(Math.log(16))) * 8));
      const expected = (relative > 0 ? 16 : 0) + (n < 8 ? n : Math.min(15, 8 + logarithmic));
      expect(relativePositionBucket(relative, 32, 128)).toBe(expected);
    }
  });
});

describe('T5 position-bias table', () => {
  it('holds bias[bucket(j − i), head] at row head, column j − i + queries − 1', () => {
    const heads = 2;
    // bias[bucket, head] = 100 · bucket + head
    const bias = Float32Array.from({ length: 32 * heads }, (_, i) => 100 * Math.floor(i / heads) + (i % heads));
    const table = positionBiasTable(bias, { heads, buckets: 32, maxDistance: 128 }, 3, 4);
    // j − i = −2, −1, 0, 1, 2, 3 → buckets 2, 1, 0, 17, 18, 19
    expect(Array.from(table)).toEqual([200, 100, 0, 1700, 1800, 1900, 201, 101, 1, 1701, 1801, 1901]);
  });
});
