import { describe, expect, it } from 'vitest';
import { cosSinOfTurn24, logOfDyadic24 } from '../../src/engine/sampling/deterministic-math';
import { packLatents, unpackLatents } from '../../src/engine/sampling/latents';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { fluxSchedule, shiftMu } from '../../src/engine/sampling/schedule';
import { freshSeed, randomArray, randomInt } from '../helpers/random';

describe('FLUX schedules (spec/flux.md §3.2 test vectors)', () => {
  it.each([
    [1024, [1, 0.849235, 0.652489, 0.384945, 0]],
    [4096, [1, 0.904531, 0.759511, 0.512844, 0]],
  ])('4 shifted steps at %i image tokens', (tokens, expected) => {
    const schedule = fluxSchedule(4, tokens, true);
    expected.forEach((t, i) => expect(schedule[i]).toBeCloseTo(t, 6));
  });

  it('50 shifted steps at 4096 tokens start and end as published', () => {
    const schedule = fluxSchedule(50, 4096, true);
    expect(schedule).toHaveLength(51);
    [1, 0.99358, 0.986979, 0.98019].forEach((t, i) => expect(schedule[i]).toBeCloseTo(t, 6));
    [0.116289, 0.06055, 0].forEach((t, i) => expect(schedule[48 + i]).toBeCloseTo(t, 6));
  });

  it('schnell is unshifted', () => {
    expect([...fluxSchedule(4, 4096, false)]).toEqual([1, 0.75, 0.5, 0.25, 0]);
  });

  it('mu is 0.5 at 256 tokens and 1.15 at 4096', () => {
    expect(shiftMu(256)).toBeCloseTo(0.5, 12);
    expect(shiftMu(4096)).toBeCloseTo(1.15, 12);
  });
});

describe('deterministic math', () => {
  it('log matches Math.log to 1e-15 on random dyadic arguments and the extremes', () => {
    const seed = freshSeed('log');
    const ks = [1, 2, 3, 2 ** 23, 2 ** 24 - 1, 2 ** 24, ...Array.from({ length: 2000 }, () => randomInt(seed, 1, 2 ** 24))];
    for (const k of ks) expect(Math.abs(logOfDyadic24(k) - Math.log(k / 2 ** 24))).toBeLessThan(1e-15 * Math.max(1, Math.abs(Math.log(k / 2 ** 24))));
  });

  it('cos and sin match Math to 1e-15 around the full turn, including octant boundaries', () => {
    const seed = freshSeed('cos sin');
    const boundaries = Array.from({ length: 8 }, (_, o) => [o * 2 ** 21, o * 2 ** 21 + 1, o * 2 ** 21 - 1]).flat().filter((j) => j >= 0);
    const js = [...boundaries, 2 ** 24 - 1, ...Array.from({ length: 2000 }, () => randomInt(seed, 0, 2 ** 24 - 1))];
    for (const j of js) {
      const angle = (2 * Math.PI * j) / 2 ** 24;
      const [c, s] = cosSinOfTurn24(j);
      expect(Math.abs(c - Math.cos(angle))).toBeLessThan(1e-15);
      expect(Math.abs(s - Math.sin(angle))).toBeLessThan(1e-15);
    }
  });
});

describe('gaussian noise', () => {
  it('has the moments of a standard normal', () => {
    const noise = gaussianNoise(freshSeed('noise moments'), 200_001);
    const mean = noise.reduce((a, b) => a + b, 0) / noise.length;
    const variance = noise.reduce((a, b) => a + (b - mean) ** 2, 0) / noise.length;
    const fourth = noise.reduce((a, b) => a + (b - mean) ** 4, 0) / noise.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.015);
    expect(Math.abs(fourth / variance ** 2 - 3)).toBeLessThan(0.06);
  });

  it('is a pure function of (seed, stream, index): prefixes agree and streams differ', () => {
    const seed = freshSeed('noise prefix');
    const long = gaussianNoise(seed, 1001);
    expect([...gaussianNoise(seed, 7)]).toEqual([...long.subarray(0, 7)]);
    expect(gaussianNoise(seed, 8, 1)[0]).not.toBe(long[0]);
    expect(gaussianNoise(2 ** 40 + seed, 4)[0]).not.toBe(long[0]);
  });
});

describe('latent packing', () => {
  it('puts latent (ch, y, x) at token (y/2)*C + x/2, feature ch*4 + (y%2)*2 + x%2, and unpacks back', () => {
    const seed = freshSeed('pack');
    const rows = 3;
    const cols = 5;
    const latent = randomArray(seed, 16 * 2 * rows * 2 * cols);
    const tokens = packLatents(latent, rows, cols);
    const at = (ch: number, y: number, x: number) => latent[(ch * 2 * rows + y) * 2 * cols + x];
    expect(tokens[(1 * cols + 2) * 64 + 7 * 4 + 1 * 2 + 0]).toBe(at(7, 3, 4));
    expect(tokens[(2 * cols + 4) * 64 + 15 * 4 + 3]).toBe(at(15, 5, 9));
    expect([...unpackLatents(tokens, rows, cols)]).toEqual([...latent]);
  });
});

describe('timestep embedding', () => {
  it('puts cos first and matches the published check value cos(1000) = 0.562379, sin(1000) = 0.826880 at t = 1', async () => {
    const { timestepEmbedding } = await import('../../src/engine/models/flux/timestep');
    const embedding = timestepEmbedding(1);
    expect(embedding).toHaveLength(256);
    expect(embedding[0]).toBeCloseTo(0.562379, 6);
    expect(embedding[128]).toBeCloseTo(0.82688, 6);
    // The slowest frequency is 10000^(-127/128) of the fastest.
    expect(embedding[127]).toBeCloseTo(Math.cos(1000 * Math.exp((-Math.log(10000) * 127) / 128)), 7);
  });
});
