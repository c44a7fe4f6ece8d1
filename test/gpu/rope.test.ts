import { describe, expect, it } from 'vitest';
import { RopeOp, uploadRopeTable } from '../../src/engine/ops/rope';
import { FLUX_AXES_DIM, FLUX_ROPE_THETA, fluxPositionIds, ropeTable } from '../../src/engine/ops/rope-table';
import { relativeError } from '../../src/engine/reference/compare';
import { ropeReference } from '../../src/engine/reference/rope';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { readF32, run, testGpu, upload } from './harness';
import { changedOutside, extract, type Layout, layoutLength } from './view-layout';

// cos and sin rounded once to f32, then two products and a sum per output.
const BOUND = 1e-6;

const idsOf = (ids: ArrayLike<number>, axes: number) => (position: number) => Array.from({ length: axes }, (_, a) => ids[position * axes + a]);

describe('RoPE at the sequence positions (shaders/rope.wgsl)', () => {
  it.each([
    // heads, text tokens, grid rows, grid cols, first rotated row (the rest of the sequence keeps its values)
    [1, 0, 1, 1, 0],
    [2, 5, 4, 7, 0],
    [3, 4, 5, 3, 4],
  ])('rotates the k columns of %i heads in place (%i text tokens + %ix%i grid, from row %i)', async (heads, textTokens, gridRows, gridCols, firstRow) => {
    const gpu = await testGpu();
    const seed = freshSeed(`rope ${heads} heads`);
    const ids = fluxPositionIds(textTokens, gridRows, gridCols);
    const sequence = textTokens + gridRows * gridCols;
    const width = 3 * heads * 128 + 5;
    const layout: Layout = { rows: sequence - firstRow, cols: heads * 128, offset: firstRow * width + heads * 128, stride: width };
    const background = randomArray(seed, layoutLength(layout));
    const op = await RopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'rope table', ropeTable(ids));
    const buffer = await upload(gpu, 'qkv', background);
    await run(gpu, 'rope', (rec) => op.record(rec, { view: { buffer, ...layout }, rows: layout.rows, heads, table, at: { tableOffset: firstRow } }));
    const result = await readF32(gpu, buffer);
    const positionIds = idsOf(ids, 3);
    const expected = ropeReference(extract(background, layout), heads, (row) => positionIds(row + firstRow), FLUX_AXES_DIM, FLUX_ROPE_THETA);
    expect(relativeError(extract(result, layout), expected)).toBeLessThan(BOUND);
    expect(changedOutside(background, result, layout)).toEqual([]);
  });

  it('handles other head sizes and fractional positions', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('rope small heads');
    const axesDim = [8, 12, 12];
    const [rows, heads] = [23, 2];
    const ids = randomArray(seed, rows * 3, -40, 40);
    const layout: Layout = { rows, cols: heads * 32, offset: 3, stride: heads * 32 + 1 };
    const background = randomArray(seed, layoutLength(layout));
    const op = await RopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'rope table', ropeTable(ids, axesDim, 500));
    const buffer = await upload(gpu, 'x', background);
    await run(gpu, 'rope', (rec) => op.record(rec, { view: { buffer, ...layout }, rows, heads, table, at: { tableOffset: 0 } }));
    const result = await readF32(gpu, buffer);
    expect(relativeError(extract(result, layout), ropeReference(extract(background, layout), heads, idsOf(ids, 3), axesDim, 500))).toBeLessThan(BOUND);
  });
});

describe('RoPE at given positions (shaders/rope.wgsl)', () => {
  it.each([
    [1, 1],
    [2, 13],
    [3, 40],
  ])('re-encodes %i-head rows gathered from another image at %i chosen frame positions', async (heads, count) => {
    const gpu = await testGpu();
    const seed = freshSeed(`rope gathered ${count}`);
    const frameIds = fluxPositionIds(4, 5, 6);
    const framePositions = frameIds.length / 3;
    const positions = Uint32Array.from({ length: count }, () => randomInt(seed, 0, framePositions - 1));
    const layout: Layout = { rows: count, cols: heads * 128, offset: 7, stride: heads * 128 };
    const background = randomArray(seed, layoutLength(layout));
    const op = await RopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'frame rope table', ropeTable(frameIds));
    const [buffer, positionBuffer] = await Promise.all([upload(gpu, 'identity keys', background), upload(gpu, 'positions', Uint32Array.from([9, 9, ...positions]))]);
    await run(gpu, 'rope gathered', (rec) => op.record(rec, { view: { buffer, ...layout }, rows: count, heads, table, at: { positions: { buffer: positionBuffer, offset: 2 } } }));
    const result = await readF32(gpu, buffer);
    const frameIdsOf = idsOf(frameIds, 3);
    const expected = ropeReference(extract(background, layout), heads, (row) => frameIdsOf(positions[row]), FLUX_AXES_DIM, FLUX_ROPE_THETA);
    expect(relativeError(extract(result, layout), expected)).toBeLessThan(BOUND);
    expect(changedOutside(background, result, layout)).toEqual([]);
  });

  it('refuses sequential rows past the end of the table', async () => {
    const gpu = await testGpu();
    const op = await RopeOp.create(gpu);
    const table = await uploadRopeTable(gpu, 'rope table', ropeTable(fluxPositionIds(0, 2, 2)));
    const buffer = await upload(gpu, 'x', new Float32Array(5 * 128));
    expect(() => op.record(gpu.recorder('too many rows'), { view: { buffer, offset: 0, stride: 128 }, rows: 5, heads: 1, table, at: { tableOffset: 0 } })).toThrowError(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });
});
