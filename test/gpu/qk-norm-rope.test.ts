import { describe, expect, it } from 'vitest';
import { QkNormRopeOp } from '../../src/engine/ops/qk-norm-rope';
import { uploadRopeTable } from '../../src/engine/ops/rope';
import { FLUX_AXES_DIM, FLUX_ROPE_THETA, fluxPositionIds, ropeTable } from '../../src/engine/ops/rope-table';
import { relativeError } from '../../src/engine/reference/compare';
import { rmsNormReference } from '../../src/engine/reference/norm';
import { ropeReference } from '../../src/engine/reference/rope';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { readF32, run, testGpu, upload } from './harness';
import { changedOutside, extract, type Layout, layoutLength } from './view-layout';

// A sum of 128 squares in a fixed tree, one rsqrt, then the rotation: about 1e-7 in practice.
const BOUND = 1e-5;
const EPS = 1e-6;

describe('QK norm + RoPE in one pass (shaders/qk-norm-rope.wgsl)', () => {
  it.each([
    // heads, text tokens, grid rows, grid cols, first row (a double block's image stream starts after the text)
    [1, 0, 1, 1, 0],
    [3, 5, 4, 7, 0],
    [2, 7, 3, 5, 7],
  ])('normalises and rotates q and k of %i heads in place (%i text tokens + %ix%i grid, from row %i)', async (heads, textTokens, gridRows, gridCols, firstRow) => {
    const gpu = await testGpu();
    const seed = freshSeed(`qk norm rope ${heads}`);
    const ids = fluxPositionIds(textTokens, gridRows, gridCols);
    const rows = textTokens + gridRows * gridCols - firstRow;
    const width = heads * 128;
    // q and k as column views of wider buffers, at awkward offsets and strides; values far from unit scale.
    const qLayout: Layout = { rows, cols: width, offset: randomInt(seed, 0, 50), stride: width + randomInt(seed, 0, 9) };
    const kLayout: Layout = { rows, cols: width, offset: randomInt(seed, 0, 50), stride: width + randomInt(seed, 0, 9) };
    const [qBackground, kBackground] = [randomArray(seed, layoutLength(qLayout), -7, 7), randomArray(seed, layoutLength(kLayout), -0.1, 0.1)];
    const scales = randomArray(seed, 2 * 128 + 20, -2, 2);
    const [queryScaleOffset, keyScaleOffset] = [randomInt(seed, 0, 10), 128 + randomInt(seed, 10, 20)];
    const op = await QkNormRopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'rope table', ropeTable(ids));
    const [qBuffer, kBuffer, scaleBuffer] = await Promise.all([upload(gpu, 'q', qBackground), upload(gpu, 'k', kBackground), upload(gpu, 'scales', scales)]);
    await run(gpu, 'qk norm rope', (rec) =>
      op.record(rec, {
        queries: { buffer: qBuffer, ...qLayout }, keys: { buffer: kBuffer, ...kLayout }, rows, heads,
        queryScale: { buffer: scaleBuffer, offset: queryScaleOffset }, keyScale: { buffer: scaleBuffer, offset: keyScaleOffset }, table, tableOffset: firstRow,
      }),
    );
    const idsOfRow = (row: number) => Array.from({ length: 3 }, (_, axis) => ids[3 * (row + firstRow) + axis]);
    const expected = (background: Float32Array, layout: Layout, scaleOffset: number) =>
      ropeReference(rmsNormReference(extract(background, layout), 128, scales.subarray(scaleOffset, scaleOffset + 128), EPS), heads, idsOfRow, FLUX_AXES_DIM, FLUX_ROPE_THETA);
    const [q, k] = await Promise.all([readF32(gpu, qBuffer), readF32(gpu, kBuffer)]);
    expect(relativeError(extract(q, qLayout), expected(qBackground, qLayout, queryScaleOffset))).toBeLessThan(BOUND);
    expect(relativeError(extract(k, kLayout), expected(kBackground, kLayout, keyScaleOffset))).toBeLessThan(BOUND);
    expect(changedOutside(qBackground, q, qLayout)).toEqual([]);
    expect(changedOutside(kBackground, k, kLayout)).toEqual([]);
  });

  it('refuses q and k in one buffer, and rows past the table', async () => {
    const gpu = await testGpu();
    const op = await QkNormRopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'rope table', ropeTable(fluxPositionIds(0, 2, 2)));
    const [qk, scales] = await Promise.all([upload(gpu, 'qk', new Float32Array(4 * 256)), upload(gpu, 'scales', new Float32Array(128))]);
    const args = {
      queries: { buffer: qk, offset: 0, stride: 256 }, keys: { buffer: qk, offset: 128, stride: 256 }, rows: 4, heads: 1,
      queryScale: { buffer: scales, offset: 0 }, keyScale: { buffer: scales, offset: 0 }, table, tableOffset: 0,
    };
    expect(() => op.record(gpu.recorder('alias'), args)).toThrowError(/same buffer/);
    const k = await upload(gpu, 'k', new Float32Array(4 * 128));
    expect(() => op.record(gpu.recorder('table'), { ...args, keys: { buffer: k, offset: 0, stride: 128 }, tableOffset: 1 })).toThrowError(/run past the table/);
  });
});
