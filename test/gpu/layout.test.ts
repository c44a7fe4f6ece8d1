import { describe, expect, it } from 'vitest';
import { ConcatRowsOp, GatherRowsOp, LATENT_CHANNELS, PatchifyOp, ScatterRowsOp, UnpatchifyOp } from '../../src/engine/ops/layout';
import { concatRowsReference, gatherRowsReference, patchifyReference, scatterRowsReference, unpatchifyReference } from '../../src/engine/reference/layout';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, POISON, readF32, run, testGpu } from './harness';
import { changedOutside, distinctIndices, extractMatrix, mismatches, placeMatrix, randomIndices, randomPlacement, uploadPlaced } from './token-fixtures';

/** Bit patterns, so a NaN copied where a value belongs (or the reverse) cannot compare equal. */
const bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);

/** A target view over a poisoned buffer at a random placement. */
async function poisonedTarget(seed: number, rows: number, cols: number) {
  const gpu = await testGpu();
  const placement = randomPlacement(seed, rows, cols);
  const buffer = await poisonedBuffer(gpu, 'layout target', placement.length);
  return { view: { buffer, offset: placement.offset, stride: placement.stride }, placement };
}

// Row counts around the 256-thread workgroup; column counts of 1, odd, and FLUX-like.
const ROW_CASES = [
  { sourceRows: 1, count: 1, cols: 1 },
  { sourceRows: 77, count: 40, cols: 13 },
  { sourceRows: 300, count: 257, cols: 64 },
  { sourceRows: 50, count: 50, cols: 300 },
];

describe('gather and scatter rows (shaders/layout.wgsl)', () => {
  it.each(ROW_CASES)('gather copies the indexed rows exactly: %o', async ({ sourceRows, count, cols }) => {
    const gpu = await testGpu();
    const seed = freshSeed(`gather ${sourceRows} ${count} ${cols}`);
    const source = randomArray(seed, sourceRows * cols);
    // Repeats allowed; the last index is one past the source, which must give zeros.
    const indices = randomIndices(seed, count, sourceRows);
    indices[count - 1] = sourceRows;
    const op = await GatherRowsOp.create(gpu);
    const placedSource = await uploadPlaced(gpu, 'source', seed, source, sourceRows, cols);
    const indexBuffer = await gpu.memory.uploadNew('indices', indices);
    const target = await poisonedTarget(seed, count, cols);
    await run(gpu, 'gather', (rec) => op.record(rec, { source: placedSource.view, sourceRows, indices: indexBuffer, count, target: target.view, cols }));
    const contents = await readF32(gpu, target.view.buffer);
    expect(changedOutside(contents, target.placement)).toBe(0);
    const expected = gatherRowsReference(source, cols, indices.subarray(0, count - 1));
    const gathered = extractMatrix(contents, target.placement);
    expect(mismatches(bits(gathered.subarray(0, (count - 1) * cols)), bits(expected))).toEqual([]);
    expect(mismatches(gathered.subarray((count - 1) * cols), new Float32Array(cols))).toEqual([]);
  });

  it.each(ROW_CASES)('scatter writes the source rows to distinct target rows exactly: %o', async ({ sourceRows: targetRows, count, cols }) => {
    const gpu = await testGpu();
    const seed = freshSeed(`scatter ${targetRows} ${count} ${cols}`);
    const source = randomArray(seed, count * cols);
    const before = randomArray(seed, targetRows * cols);
    // Distinct indices; the last one is one past the target, which must be skipped.
    const indices = distinctIndices(seed, count, targetRows);
    indices[count - 1] = targetRows;
    const op = await ScatterRowsOp.create(gpu);
    const placedSource = await uploadPlaced(gpu, 'source', seed, source, count, cols);
    const target = await uploadPlaced(gpu, 'target', seed, before, targetRows, cols);
    const indexBuffer = await gpu.memory.uploadNew('indices', indices);
    await run(gpu, 'scatter', (rec) => op.record(rec, { source: placedSource.view, indices: indexBuffer, count, target: target.view, targetRows, cols }));
    const contents = await readF32(gpu, target.view.buffer);
    expect(changedOutside(contents, target.placement)).toBe(0);
    const expected = scatterRowsReference(before, source.subarray(0, (count - 1) * cols), cols, indices.subarray(0, count - 1));
    expect(mismatches(bits(extractMatrix(contents, target.placement)), bits(expected))).toEqual([]);
  });

  it('refuses a gather whose target view is too small', async () => {
    const gpu = await testGpu();
    const op = await GatherRowsOp.create(gpu);
    const source = await gpu.memory.uploadNew('source', new Float32Array(40));
    const target = await gpu.memory.uploadNew('target', new Float32Array(39));
    const indices = await gpu.memory.uploadNew('indices', new Uint32Array(10));
    const rec = gpu.recorder('bad gather');
    const args = { source: { buffer: source, offset: 0, stride: 4 }, sourceRows: 10, indices, count: 10, target: { buffer: target, offset: 0, stride: 4 }, cols: 4 };
    expect(() => op.record(rec, args)).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});

describe('concatenate rows (shaders/layout.wgsl)', () => {
  it('copies each part after the previous one, exactly', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('concat rows');
    const cols = 131;
    // Text-like, image-like and empty parts, as when joining keys before attention.
    const partRows = [17, 260, 0, 5];
    const parts = partRows.map((rows) => randomArray(seed, rows * cols));
    const op = await ConcatRowsOp.create(gpu);
    const placed = await Promise.all(parts.map((part, i) => uploadPlaced(gpu, `part ${i}`, seed, part, partRows[i], cols)));
    const totalRows = partRows.reduce((a, b) => a + b, 0);
    const target = await poisonedTarget(seed, totalRows, cols);
    await run(gpu, 'concat', (rec) =>
      op.record(
        rec,
        placed.map((part, i) => ({ view: part.view, rows: partRows[i] })),
        target.view,
        cols,
      ),
    );
    const contents = await readF32(gpu, target.view.buffer);
    expect(changedOutside(contents, target.placement)).toBe(0);
    expect(mismatches(bits(extractMatrix(contents, target.placement)), bits(concatRowsReference(parts)))).toEqual([]);
  });
});

// Token grids: one token, one row, one column, awkward, and FLUX's 1024² (64 x 64).
const PATCH_GRIDS = [
  { rows: 1, cols: 1 },
  { rows: 1, cols: 9 },
  { rows: 6, cols: 1 },
  { rows: 7, cols: 11 },
  { rows: 13, cols: 5 },
  { rows: 64, cols: 64 },
];

describe('patchify and unpatchify (shaders/layout.wgsl)', () => {
  it.each(PATCH_GRIDS)('pack latent [16, 2R, 2C] into tokens [R*C, 64] and back, exactly: %o', async (grid) => {
    const gpu = await testGpu();
    const seed = freshSeed(`patchify ${grid.rows}x${grid.cols}`);
    const tokenCount = grid.rows * grid.cols;
    const features = 4 * LATENT_CHANNELS;
    const latent = randomArray(seed, tokenCount * features);
    const [patchify, unpatchify] = await Promise.all([PatchifyOp.create(gpu), UnpatchifyOp.create(gpu)]);
    const latentBuffer = await gpu.memory.uploadNew('latent', latent);
    const tokens = await poisonedTarget(seed, tokenCount, features);
    const unpacked = await poisonedBuffer(gpu, 'unpacked latent', latent.length);
    await run(gpu, 'patchify', (rec) => {
      patchify.record(rec, latentBuffer, tokens.view, grid);
      unpatchify.record(rec, tokens.view, unpacked, grid);
    });
    const contents = await readF32(gpu, tokens.view.buffer);
    expect(changedOutside(contents, tokens.placement)).toBe(0);
    const packed = extractMatrix(contents, tokens.placement);
    expect(mismatches(bits(packed), bits(patchifyReference(latent, grid.rows, grid.cols, LATENT_CHANNELS)))).toEqual([]);
    expect(mismatches(bits(await readF32(gpu, unpacked)), bits(latent))).toEqual([]);
  });

  it.each(PATCH_GRIDS.slice(3, 5))('unpatchify matches the reference on its own input, exactly: %o', async (grid) => {
    const gpu = await testGpu();
    const seed = freshSeed(`unpatchify ${grid.rows}x${grid.cols}`);
    const features = 4 * LATENT_CHANNELS;
    const tokens = randomArray(seed, grid.rows * grid.cols * features);
    const op = await UnpatchifyOp.create(gpu);
    const placement = randomPlacement(seed, grid.rows * grid.cols, features);
    const tokenBuffer = await gpu.memory.uploadNew('tokens', placeMatrix(tokens, placement));
    const latent = await poisonedBuffer(gpu, 'latent', tokens.length);
    await run(gpu, 'unpatchify', (rec) => op.record(rec, { buffer: tokenBuffer, offset: placement.offset, stride: placement.stride }, latent, grid));
    const result = await readF32(gpu, latent);
    expect(bits(result).includes(POISON)).toBe(false);
    expect(mismatches(bits(result), bits(unpatchifyReference(tokens, grid.rows, grid.cols, LATENT_CHANNELS)))).toEqual([]);
  });
});
