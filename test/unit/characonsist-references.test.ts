// The float64 references are the oracle of the GPU tests, so they are checked here against values
// worked out by hand from the spec (spec/characonsist-official.md §5, §6, §8; spec/flux.md §3.1).

import { describe, expect, it } from 'vitest';
import { patchifyReference, unpatchifyReference } from '../../src/engine/reference/layout';
import { dilateReference, erodeReference, maskCleanupReference } from '../../src/engine/reference/morphology';
import { bestMatches, cosineSimilarity, validMatches } from '../../src/engine/reference/similarity';
import { foregroundMaskReference, textAttentionScores } from '../../src/engine/reference/text-attention';
import { tokenMergeReference } from '../../src/engine/reference/token-merge';

describe('text-attention reference', () => {
  it('averages head-summed softmax probabilities over each prompt range, unscaled', () => {
    // One token, two heads of size 1, three prompt tokens (bg = first one).
    // Head 0: q = 0, so all logits are 0 and p = 1/3 each. Head 1: q = 1, k = (ln 1, ln 2, ln 3):
    // unscaled logits ln 1, ln 2, ln 3, so p = (1, 2, 3) / 6.
    const queries = [0, 1];
    const keys = [0, 0, 0, Math.log(2), 0, Math.log(3)];
    const scores = textAttentionScores(queries, keys, { imageTokens: 1, heads: 2, headDim: 1, realLen: 3, bgLen: 1 });
    expect(scores.background[0]).toBeCloseTo(1 / 3 + 1 / 6, 12);
    expect(scores.foreground[0]).toBeCloseTo((2 / 3 + 5 / 6) / 2, 12);
  });

  it('scores an empty range 0', () => {
    const scores = textAttentionScores([1], [1, 2], { imageTokens: 1, heads: 1, headDim: 1, realLen: 2, bgLen: 2 });
    expect(scores.foreground[0]).toBe(0);
    expect(scores.background[0]).toBeCloseTo(0.5, 12);
  });

  it('sends ties to the foreground', () => {
    expect(Array.from(foregroundMaskReference([1, 2, 3], [1, 1, 4], 2))).toEqual([1, 0, 1]);
  });
});

describe('similarity reference', () => {
  it('takes cosines of whole rows and the first of equal maxima', () => {
    const frame = [1, 0, 0, 0, 3, 4];
    const identity = [0, 2, 5, 0, 0, 1];
    const similarity = cosineSimilarity(frame, identity, 2);
    expect(Array.from(similarity)).toEqual([0, 1, 0, 0, 0, 0, 0.8, 0.6, 0.8].map((v) => expect.closeTo(v, 12)));
    const best = bestMatches(similarity, 3);
    expect(Array.from(best.match)).toEqual([1, 0, 0]);
    expect(best.gap[0]).toBeCloseTo(1, 12);
    expect(best.gap[2]).toBe(0);
  });

  it('flags only fg-to-fg matches strictly above the threshold', () => {
    expect(Array.from(validMatches([1, 1, 1, 0], [1, 0], [0.9, 0.9, 0.5, 0.9], [0, 1, 0, 0], 0.5))).toEqual([1, 0, 0, 0]);
  });
});

describe('token merge reference', () => {
  it('blends only the listed rows', () => {
    const merged = tokenMergeReference([1, 1, 2, 2], [10, 20], 2, { frameTokens: [1], identityTokens: [0], weights: [0.25] });
    expect(Array.from(merged)).toEqual([1, 1, 0.75 * 2 + 0.25 * 10, 0.75 * 2 + 0.25 * 20]);
  });
});

describe('morphology reference (OpenCV default border)', () => {
  it('never erodes from outside the image', () => {
    expect(Array.from(erodeReference([1, 1, 1], { rows: 1, cols: 3 }, 1))).toEqual([1, 1, 1]);
    // A hole at the corner of a 3x3 grid erodes the 2x2 block around it.
    expect(Array.from(erodeReference([0, 1, 1, 1, 1, 1, 1, 1, 1], { rows: 3, cols: 3 }, 1))).toEqual([0, 0, 1, 0, 0, 1, 1, 1, 1]);
  });

  it('never dilates from outside the image', () => {
    expect(Array.from(dilateReference([0, 0, 0, 0, 0, 0], { rows: 2, cols: 3 }, 2))).toEqual([0, 0, 0, 0, 0, 0]);
    // One pixel dilates to its 5x5 neighbourhood: columns 0..3 of a 1x7 row around column 1.
    expect(Array.from(dilateReference([0, 1, 0, 0, 0, 0, 0], { rows: 1, cols: 7 }, 2))).toEqual([1, 1, 1, 1, 0, 0, 0]);
  });

  it('removes isolated points and keeps blobs', () => {
    const grid = { rows: 5, cols: 5 };
    const point = new Array(25).fill(0);
    point[12] = 1;
    expect(Array.from(maskCleanupReference(point, grid))).toEqual(new Array(25).fill(0));
    const blob = new Array(25).fill(0);
    for (const i of [6, 7, 8, 11, 12, 13, 16, 17, 18]) blob[i] = 1;
    // The 3x3 blob erodes to its centre, which dilates over the whole 5x5 grid.
    expect(Array.from(maskCleanupReference(blob, grid))).toEqual(new Array(25).fill(1));
  });
});

describe('patchify reference (spec/flux.md §3.1)', () => {
  it('puts latent[ch, 2r + ph, 2c + pw] at token r*C + c, feature ch*4 + ph*2 + pw', () => {
    // 1 x 2 tokens: latent [16, 2, 4]; element value = its own latent index.
    const latent = Float32Array.from({ length: 16 * 2 * 4 }, (_, i) => i);
    const tokens = patchifyReference(latent, 1, 2, 16);
    // token 1, channel 3, ph 1, pw 0 -> latent[3, 1, 2] = 3*8 + 1*4 + 2
    expect(tokens[1 * 64 + 3 * 4 + 1 * 2 + 0]).toBe(3 * 8 + 1 * 4 + 2);
    // token 0, channel 0, ph 0, pw 1 -> latent[0, 0, 1]
    expect(tokens[1]).toBe(1);
    expect(Array.from(unpatchifyReference(tokens, 1, 2, 16))).toEqual(Array.from(latent));
  });
});
