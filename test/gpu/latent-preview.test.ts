// The latent preview kernel (ops/latent-preview.ts) against its float64 reference on random
// latents of awkward grids, read through views with an offset, with values large enough that
// the [-1, 1] clamp cuts both ends.

import { describe, expect, it } from 'vitest';
import { LatentPreviewOp } from '../../src/engine/ops/latent-preview';
import { LATENT_CHANNELS } from '../../src/engine/ops/layout';
import { latentPreviewReference } from '../../src/engine/reference/latent-preview';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { poisonedBuffer, readU32, run, testGpu, upload } from './harness';

const FEATURES = 4 * LATENT_CHANNELS;

describe('latent preview', () => {
  it.each([
    [1, 2],
    [3, 5],
    [17, 9],
    [40, 33],
  ])('projects a %i x %i token grid to RGBA at twice its size, as the float64 reference', async (rows, cols) => {
    const gpu = await testGpu();
    const seed = freshSeed(`latent preview ${rows}x${cols}`);
    const op = await LatentPreviewOp.create(gpu);
    const tokenCount = rows * cols;
    // Spread 20: channel sums reach past +-1 often enough to exercise the clamp.
    const tokens = randomArray(seed, tokenCount * FEATURES, -20, 20);
    const offsetRows = randomInt(seed, 0, 3);
    const placed = new Float32Array((offsetRows + tokenCount) * FEATURES);
    placed.set(tokens, offsetRows * FEATURES);
    const source = await upload(gpu, 'preview tokens', placed);
    const pixels = LatentPreviewOp.pixels({ rows, cols });
    const rgbaOffset = randomInt(seed, 0, 5);
    const target = await poisonedBuffer(gpu, 'preview rgba', rgbaOffset + pixels);
    await run(gpu, 'latent preview', (rec) => {
      op.record(rec, { buffer: source, offset: offsetRows * FEATURES, stride: FEATURES }, { rows, cols }, { buffer: target, offset: rgbaOffset });
    });
    const words = await readU32(gpu, target);
    const gpuBytes = new Uint8Array(words.slice(rgbaOffset).buffer);
    const expected = latentPreviewReference(tokens, rows, cols);

    expect(gpuBytes.length).toBe(4 * 4 * tokenCount);
    // f32 against f64: a value on a rounding boundary may land on the next byte, nothing more.
    const worst = gpuBytes.reduce((max, value, i) => Math.max(max, Math.abs(value - expected[i])), 0);
    expect(worst).toBeLessThanOrEqual(1);
    const exact = gpuBytes.filter((value, i) => value === expected[i]).length;
    expect(exact / gpuBytes.length).toBeGreaterThan(0.99);
    // Both ends of the clamp are exercised (each of 24 or more colour values is cut with a chance of about 1/3).
    const colours = expected.filter((_, i) => i % 4 !== 3);
    expect([colours.includes(0), colours.includes(255)]).toEqual([true, true]);
    [source, target].forEach((buffer) => gpu.memory.release(buffer));
  });
});
