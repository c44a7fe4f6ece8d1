import { describe, expect, it } from 'vitest';
import { AttentionOp, type AttentionTile, type RowReduction } from '../../src/engine/ops/attention';
import { GroupNormOp } from '../../src/engine/ops/group-norm';
import type { ImageBand } from '../../src/engine/ops/image-band';
import { LatentUnpackOp, RgbaPackOp } from '../../src/engine/ops/vae-io';
import { columns, dense } from '../../src/engine/ops/view';
import { attentionReference } from '../../src/engine/reference/attention';
import { relativeError } from '../../src/engine/reference/compare';
import { groupStatisticsReference, rgbaReference, unpackLatentReference } from '../../src/engine/reference/vae';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, testGpu, upload } from './harness';
import { fromHwc, toHwc } from './vae-images';

const EPS = 1e-6;

describe('GroupNorm statistics (shaders/group-norm.wgsl)', () => {
  // Channels per group 1, 3 and 5; odd sizes; one row.
  const SHAPES = [
    { channels: 32, height: 5, width: 7 },
    { channels: 96, height: 9, width: 3 },
    { channels: 160, height: 1, width: 13 },
    { channels: 64, height: 33, width: 17 },
  ];

  it.each(SHAPES)('$channels channels, $height x $width: scale and shift match the float64 reference, banded or not', async (size) => {
    const gpu = await testGpu();
    const seed = freshSeed(`group norm ${size.channels}x${size.height}x${size.width}`);
    // An offset mean, so a one-pass E[x²] − E[x]² would lose digits the kernel must keep.
    const image = { ...size, values: Float64Array.from(randomArray(seed, size.channels * size.height * size.width, 3, 5)) };
    const gammaBeta = randomArray(seed, 2 * size.channels, -2, 2);
    const { mean, variance } = groupStatisticsReference(image);
    const groupOf = (c: number) => Math.floor(c / (size.channels / 32));
    const scale = Array.from({ length: size.channels }, (_, c) => gammaBeta[c] / Math.sqrt(variance[groupOf(c)] + EPS));
    const shift = scale.map((s, c) => gammaBeta[size.channels + c] - mean[groupOf(c)] * s);

    const op = await GroupNormOp.create(gpu);
    const offset = 7;
    const source = await upload(gpu, 'group norm source', Float32Array.from([...new Float32Array(offset), ...toHwc(image)]));
    const weight = await upload(gpu, 'group norm weight', gammaBeta);
    const rowElements = size.width * size.channels;
    const band = (firstRow: number, rows: number): ImageBand => ({ view: { buffer: source, offset: offset + firstRow * rowElements, stride: size.channels }, firstRow, rows });
    const splits = size.height > 2 ? [band(0, 1), band(1, size.height - 2), band(size.height - 1, 1)] : [band(0, size.height)];
    const results: Float32Array[] = [];
    for (const bands of [[band(0, size.height)], splits.reverse()]) {
      const affine = await poisonedBuffer(gpu, 'group norm affine', 2 * size.channels + 3);
      const rec = gpu.recorder('group norm test');
      op.record(rec, { size, bands, weight: { buffer: weight, offset: 0 }, affine: { buffer: affine, offset: 3 } });
      await rec.submit();
      results.push((await gpu.memory.readF32(affine)).subarray(3));
    }
    // f32 sums of up to 17 · 2 values per row partial, merged over 33 rows; observed near 1e-7.
    expect(relativeError(results[0], [...scale, ...shift])).toBeLessThan(1e-5);
    // Only per-row partials depend on the data a band holds: banding changes no bit.
    expect(new Uint32Array(results[1].slice().buffer)).toEqual(new Uint32Array(results[0].slice().buffer));
  });

  it('refuses bands that leave a row out', async () => {
    const gpu = await testGpu();
    const op = await GroupNormOp.create(gpu);
    const buffer = await gpu.memory.allocate('x', 4 * 32 * 4 * 4);
    const args = { size: { channels: 32, height: 4, width: 4 }, weight: { buffer, offset: 0 }, affine: { buffer: await gpu.memory.allocate('a', 256), offset: 0 } };
    const band = (firstRow: number, rows: number): ImageBand => ({ view: { buffer, offset: firstRow * 128, stride: 32 }, firstRow, rows });
    expect(() => op.record(gpu.recorder('refused'), { ...args, bands: [band(0, 1), band(2, 2)] })).toThrow(/row 1 is missing/);
  });
});

describe('VAE input and output (shaders/vae-io.wgsl)', () => {
  it.each([[1, 1], [3, 5], [16, 9]])('unpacks %i x %i latent tokens with the scale and shift', async (rows, cols) => {
    const gpu = await testGpu();
    const tokens = randomArray(freshSeed(`unpack ${rows}x${cols}`), rows * cols * 64, -3, 3);
    const op = await LatentUnpackOp.create(gpu);
    // Tokens at a row stride wider than 64, as in a larger buffer.
    const stride = 70;
    const padded = new Float32Array(rows * cols * stride);
    for (let t = 0; t < rows * cols; t++) padded.set(tokens.subarray(64 * t, 64 * (t + 1)), t * stride + 2);
    const source = await upload(gpu, 'tokens', padded);
    const latent = await poisonedBuffer(gpu, 'latent', 4 * rows * cols * 16);
    const rec = gpu.recorder('unpack test');
    op.record(rec, { buffer: source, offset: 2, stride }, { rows, cols }, dense(latent, 16));
    await rec.submit();
    // One f32 division and one addition per value.
    expect(relativeError(await gpu.memory.readF32(latent), toHwc(unpackLatentReference(tokens, rows, cols)))).toBeLessThan(1e-6);
  });

  it.each([1, 255, 4097])('packs %i pixels into RGBA8, clamped and rounded', async (pixels) => {
    const gpu = await testGpu();
    const values = randomArray(freshSeed(`rgba ${pixels}`), 3 * pixels, -1.3, 1.3);
    const op = await RgbaPackOp.create(gpu);
    const image = await upload(gpu, 'image', values);
    const rgba = await poisonedBuffer(gpu, 'rgba', pixels + 1);
    const rec = gpu.recorder('rgba test');
    op.record(rec, dense(image, 3), pixels, { buffer: rgba, offset: 1 });
    await rec.submit();
    const result = (await gpu.memory.readU32(rgba)).subarray(1);
    const reference = fromHwc(values, 3, 1, pixels);
    const expected = rgbaReference(reference);
    // Exact, except where 127.5 (x + 1) is within f32 rounding of a half (the f32 kernel may round the other way).
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < 4; c++) {
        const [got, want] = [(result[p] >>> (8 * c)) & 255, (expected[p] >>> (8 * c)) & 255];
        const scaled = c < 3 ? 127.5 * (Math.min(1, Math.max(-1, reference.values[c * pixels + p])) + 1) : 0;
        const nearHalf = Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-4;
        if (nearHalf) expect(Math.abs(got - want)).toBeLessThanOrEqual(1);
        else expect(got).toBe(want);
      }
    }
  });
});

describe('attention at head size 512 (the VAE mid block)', () => {
  const CONFIGS: { rowReduction: RowReduction; tile: AttentionTile; tokens: number }[] = [
    { rowReduction: 'subgroup', tile: 'large', tokens: 70 },
    { rowReduction: 'workgroup', tile: 'large', tokens: 37 },
    { rowReduction: 'workgroup', tile: 'small', tokens: 45 },
  ];

  it.each(CONFIGS)('$rowReduction reductions, $tile tiles, $tokens tokens, q/k/v as columns of one projection', async ({ rowReduction, tile, tokens }) => {
    const gpu = await testGpu();
    const seed = freshSeed(`attention 512 ${rowReduction} ${tile}`);
    const headDim = 512;
    const projections = randomArray(seed, tokens * 3 * headDim, -0.2, 0.2);
    const op = await AttentionOp.create(gpu, { headDim, rowReduction, tile });
    const qkv = await upload(gpu, 'qkv', projections);
    const output = await poisonedBuffer(gpu, 'attention output', tokens * headDim);
    const all = dense(qkv, 3 * headDim);
    const rec = gpu.recorder('attention 512 test');
    op.record(rec, { queries: all, keys: columns(all, headDim), values: columns(all, 2 * headDim), output: dense(output, headDim), queryCount: tokens, keyCount: tokens, heads: 1 });
    await rec.submit();
    const part = (index: number) => Float64Array.from({ length: tokens * headDim }, (_, i) => projections[Math.floor(i / headDim) * 3 * headDim + index * headDim + (i % headDim)]);
    const expected = attentionReference({ queries: part(0), keys: part(1), values: part(2), heads: 1, headDim, scale: 1 / Math.sqrt(headDim) });
    // f32 dot products of 512 terms and an online softmax over ≤ 70 keys.
    expect(relativeError(await gpu.memory.readF32(output), expected)).toBeLessThan(1e-5);
  });
});
