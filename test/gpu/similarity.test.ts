import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { BestMatchOp, CosineSimilarityOp, MATCH_THRESHOLD, ValidMatchOp } from '../../src/engine/ops/similarity';
import { relativeError } from '../../src/engine/reference/compare';
import { bestMatches, meanCosineSimilarity, validMatches } from '../../src/engine/reference/similarity';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, readF32, readU32, run, testGpu } from './harness';
import { randomIndices, uploadPlaced } from './token-fixtures';

interface Case {
  frameTokens: number;
  identityTokens: number;
  channels: number;
  blocks: number;
}

// Token counts around the 64-token tile and the 256-lane argmax scan, channels not a multiple of
// the 16-deep tile step, and frame and identity grids of different sizes.
const CASES: Case[] = [
  { frameTokens: 77, identityTokens: 130, channels: 200, blocks: 3 },
  { frameTokens: 1, identityTokens: 1, channels: 5, blocks: 1 },
  { frameTokens: 150, identityTokens: 65, channels: 384, blocks: 2 },
  { frameTokens: 129, identityTokens: 300, channels: 131, blocks: 2 },
];

/**
 * An argmax is compared exactly only where float64 puts the best identity token ahead of the
 * runner-up by more than this. Each summed cosine is within about 1e-6 of float64 (f32 dot
 * products over a few hundred channels), so a larger gap cannot flip; a smaller one may, and a
 * flip there is rounding, not a kernel error.
 */
const ARGMAX_GAP = 1e-4;

interface SimilarityBlockInputs {
  frame: Float32Array;
  identity: Float32Array;
}

/**
 * Identity tokens are random; each frame token is a random identity token plus noise of random
 * strength, so best similarities spread across the 0.5 threshold. One frame token is all zeros.
 */
function randomBlock(seed: number, c: Case): SimilarityBlockInputs {
  const identity = randomArray(seed, c.identityTokens * c.channels);
  const sources = randomIndices(seed, c.frameTokens, c.identityTokens);
  const noiseLevels = randomArray(seed, c.frameTokens, 0, 2);
  const noise = randomArray(seed, c.frameTokens * c.channels);
  const frame = Float32Array.from({ length: c.frameTokens * c.channels }, (_, at) => {
    const token = Math.floor(at / c.channels);
    return identity[sources[token] * c.channels + (at % c.channels)] + noiseLevels[token] * noise[at];
  });
  frame.fill(0, (c.frameTokens >> 1) * c.channels, ((c.frameTokens >> 1) + 1) * c.channels);
  return { frame, identity };
}

interface GpuMatches {
  sums: Float32Array;
  bestSimilarity: Float32Array;
  bestMatch: Uint32Array;
}

async function runGpu(gpu: GpuRuntime, seed: number, c: Case, blocks: SimilarityBlockInputs[]): Promise<GpuMatches> {
  const [similarity, best] = await Promise.all([CosineSimilarityOp.create(gpu), BestMatchOp.create(gpu)]);
  const similaritySums = await poisonedBuffer(gpu, 'similarity sums', c.frameTokens * c.identityTokens);
  const bestSimilarity = await poisonedBuffer(gpu, 'best similarity', c.frameTokens);
  const bestMatch = await poisonedBuffer(gpu, 'best match', c.frameTokens);
  const views = await Promise.all(
    blocks.map(async (block) => ({
      frame: (await uploadPlaced(gpu, 'frame', seed, block.frame, c.frameTokens, c.channels)).view,
      identity: (await uploadPlaced(gpu, 'identity', seed, block.identity, c.identityTokens, c.channels)).view,
    })),
  );
  await run(gpu, 'similarity', (rec) => {
    views.forEach((view, b) => similarity.record(rec, { ...view, ...c, similaritySums, firstBlock: b === 0 }));
    best.record(rec, { similaritySums, frameTokens: c.frameTokens, identityTokens: c.identityTokens, blocks: c.blocks, bestSimilarity, bestMatch });
  });
  return { sums: await readF32(gpu, similaritySums), bestSimilarity: await readF32(gpu, bestSimilarity), bestMatch: await readU32(gpu, bestMatch) };
}

/** Frame tokens whose float64 argmax is clear of the runner-up (see ARGMAX_GAP). */
const clearlyDecided = (gap: Float64Array) => Array.from(gap.keys()).filter((f) => gap[f] > ARGMAX_GAP || gap.length === 1);

describe('cosine similarity and best match (shaders/similarity.wgsl)', () => {
  it.each(CASES)('matches the float64 reference: %o', async (c) => {
    const gpu = await testGpu();
    const seed = freshSeed(`similarity ${JSON.stringify(c)}`);
    const blocks = Array.from({ length: c.blocks }, () => randomBlock(seed, c));
    const result = await runGpu(gpu, seed, c, blocks);
    const mean = meanCosineSimilarity(blocks, c.channels);
    const expected = bestMatches(mean, c.identityTokens);

    // f32 dot products over `channels` terms, normalised: about 1e-7 relative.
    expect(relativeError(result.sums, mean.map((value) => value * c.blocks))).toBeLessThan(1e-5);
    // Every token's best similarity is close, whatever its argmax.
    expect(result.bestSimilarity.every((value, f) => Math.abs(value - expected.similarity[f]) < 1e-5)).toBe(true);
    const decided = clearlyDecided(expected.gap);
    expect(decided.length).toBeGreaterThanOrEqual(0.8 * c.frameTokens);
    expect(decided.map((f) => result.bestMatch[f])).toEqual(decided.map((f) => expected.match[f]));
  });

  it('gives equal identity tokens to the lowest index', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('similarity duplicate identity tokens');
    const half: Case = { frameTokens: 90, identityTokens: 70, channels: 48, blocks: 2 };
    const blocks = Array.from({ length: half.blocks }, () => randomBlock(seed, half));
    // The identity tokens twice over: tokens i and i + 70 are equal, so their similarities are
    // bit-identical and the first copy must win.
    const doubled = blocks.map(({ frame, identity }) => ({ frame, identity: Float32Array.from([...identity, ...identity]) }));
    const result = await runGpu(gpu, seed, { ...half, identityTokens: 140 }, doubled);
    expect(result.bestMatch.every((match) => match < half.identityTokens)).toBe(true);
    const expected = bestMatches(meanCosineSimilarity(blocks, half.channels), half.identityTokens);
    const decided = clearlyDecided(expected.gap);
    expect(decided.map((f) => result.bestMatch[f])).toEqual(decided.map((f) => expected.match[f]));
  });

  it('is bit-for-bit deterministic', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('similarity determinism');
    const c = CASES[0];
    const blocks = Array.from({ length: c.blocks }, () => randomBlock(seed, c));
    const first = await runGpu(gpu, seed, c, blocks);
    const second = await runGpu(gpu, seed, c, blocks);
    expect(new Uint32Array(second.sums.buffer)).toEqual(new Uint32Array(first.sums.buffer));
    expect(second.bestMatch).toEqual(first.bestMatch);
  });
});

describe('best match on given sums (shaders/similarity.wgsl)', () => {
  it('breaks ties by the lowest identity index, exactly on every token', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('best match ties');
    const frameTokens = 37;
    const identityTokens = 531;
    const blocks = 4;
    // Sums drawn from five values: every row has many tied maxima, at indices past the 256 lanes too.
    const sums = Float32Array.from(randomIndices(seed, frameTokens * identityTokens, 5), (level) => level - 1.5);
    const op = await BestMatchOp.create(gpu);
    const similaritySums = await gpu.memory.uploadNew('similarity sums', sums);
    const bestSimilarity = await poisonedBuffer(gpu, 'best similarity', frameTokens);
    const bestMatch = await poisonedBuffer(gpu, 'best match', frameTokens);
    await run(gpu, 'best match', (rec) => op.record(rec, { similaritySums, frameTokens, identityTokens, blocks, bestSimilarity, bestMatch }));
    // Dividing by 4 is exact, so the means and their order are exact too.
    const expected = bestMatches(sums.map((sum) => sum / blocks), identityTokens);
    expect(await readU32(gpu, bestMatch)).toEqual(expected.match);
    expect(Array.from(await readF32(gpu, bestSimilarity))).toEqual(Array.from(expected.similarity));
  });
});

describe('valid matches (shaders/similarity.wgsl)', () => {
  it('flags frame fg AND identity fg at the match AND similarity > 0.5, exactly', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('valid matches');
    const frameTokens = 1000;
    const identityTokens = 77;
    const frameForeground = randomIndices(seed, frameTokens, 2);
    const identityForeground = randomIndices(seed, identityTokens, 2);
    const bestMatch = randomIndices(seed, frameTokens, identityTokens);
    const bestSimilarity = randomArray(seed, frameTokens, 0, 1);
    // The threshold itself is not a match: similarity must be strictly above it.
    bestSimilarity.fill(MATCH_THRESHOLD, 0, 50);
    const op = await ValidMatchOp.create(gpu);
    const inputs = await Promise.all([frameForeground, identityForeground, bestSimilarity, bestMatch].map((data, i) => gpu.memory.uploadNew(`valid input ${i}`, data)));
    const valid = await poisonedBuffer(gpu, 'valid', frameTokens);
    await run(gpu, 'valid matches', (rec) =>
      op.record(rec, {
        frameForeground: inputs[0],
        identityForeground: inputs[1],
        bestSimilarity: inputs[2],
        bestMatch: inputs[3],
        frameTokens,
        identityTokens,
        threshold: MATCH_THRESHOLD,
        valid,
      }),
    );
    const expected = validMatches(frameForeground, identityForeground, bestSimilarity, bestMatch, MATCH_THRESHOLD);
    expect(await readU32(gpu, valid)).toEqual(expected);
    expect(expected.some(Boolean) && !expected.every(Boolean)).toBe(true);
  });
});
