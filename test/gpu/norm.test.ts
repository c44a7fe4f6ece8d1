import { describe, expect, it } from 'vitest';
import { LayerNormOp, ModulatedLayerNormOp, RmsNormOp } from '../../src/engine/ops/norm';
import { QuantizeActivationsOp, quantizedActivationsLayout } from '../../src/engine/ops/quantize-activations';
import { relativeError } from '../../src/engine/reference/compare';
import { quantizeActivationsReference } from '../../src/engine/reference/linear';
import { layerNormReference, modulatedLayerNormReference, rmsNormReference } from '../../src/engine/reference/norm';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, readF32, readU32, run, testGpu, upload } from './harness';
import { changedOutside, embed, extract, type Layout, layoutLength } from './view-layout';

// Sums of at most 4096 f32 values in a fixed tree, one rsqrt (2 ulp) and a few roundings per
// element: about 1e-7 in practice; 1e-5 leaves room without hiding a wrong element.
const BOUND = 1e-5;

describe('modulated LayerNorm (shaders/norm.wgsl)', () => {
  it.each([
    // rows, cols, source layout offset/stride pad, target offset
    [1, 256, 0, 0, 0],
    [7, 7, 3, 5, 1],
    [37, 3072, 11, 64, 5],
    [5, 300, 129, 1, 300],
  ])('matches the float64 reference for [%i, %i] views', async (rows, cols, sourceOffset, pad, targetOffset) => {
    const gpu = await testGpu();
    const seed = freshSeed(`layer norm ${rows}x${cols}`);
    // A mean far from zero checks that the variance is taken around it.
    const x = randomArray(seed, rows * cols, 2, 4);
    const modulation = randomArray(seed, 3 * cols + 9);
    const [shiftOffset, scaleOffset] = [9, 9 + cols];
    const source: Layout = { rows, cols, offset: sourceOffset, stride: cols + pad };
    const target: Layout = { rows, cols, offset: targetOffset, stride: cols + 2 * pad + 1 };
    const op = await ModulatedLayerNormOp.create(gpu);
    const [sourceBuffer, targetBuffer, modulationBuffer] = await Promise.all([upload(gpu, 'x', embed(x, source)), upload(gpu, 'out', embed([], target)), upload(gpu, 'modulation', modulation)]);
    await run(gpu, 'layer norm', (rec) =>
      op.record(rec, { source: { buffer: sourceBuffer, ...source }, target: { buffer: targetBuffer, ...target }, rows, cols, modulation: { buffer: modulationBuffer, shiftOffset, scaleOffset } }),
    );
    const result = await readF32(gpu, targetBuffer);
    const expected = modulatedLayerNormReference(x, cols, modulation.subarray(shiftOffset), modulation.subarray(scaleOffset), 1e-6);
    expect(relativeError(extract(result, target), expected)).toBeLessThan(BOUND);
    expect(changedOutside(embed([], target), result, target)).toEqual([]);
  });

  it('normalises in place when source and target are the same view', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('layer norm in place');
    const [rows, cols] = [9, 333];
    const layout: Layout = { rows, cols, offset: 17, stride: 401 };
    const background = randomArray(seed, layoutLength(layout));
    const x = extract(background, layout);
    const modulation = randomArray(seed, 2 * cols);
    const op = await ModulatedLayerNormOp.create(gpu);
    const [buffer, modulationBuffer] = await Promise.all([upload(gpu, 'x', background), upload(gpu, 'modulation', modulation)]);
    const view = { buffer, ...layout };
    await run(gpu, 'layer norm in place', (rec) => op.record(rec, { source: view, target: view, rows, cols, modulation: { buffer: modulationBuffer, shiftOffset: 0, scaleOffset: cols } }));
    const result = await readF32(gpu, buffer);
    expect(relativeError(extract(result, layout), modulatedLayerNormReference(x, cols, modulation, modulation.subarray(cols), 1e-6))).toBeLessThan(BOUND);
    expect(changedOutside(background, result, layout)).toEqual([]);
  });
});

describe('modulated LayerNorm written as int8 activations (shaders/norm-quantize.wgsl)', () => {
  it.each([
    // rows, cols (a multiple of 32), source offset, stride pad
    [1, 32, 0, 0],
    [37, 3072, 11, 64],
    [9, 4160, 3, 5],
  ])('equals LayerNorm then quantization bit for bit, and the float64 reference within int8 rounding, for [%i, %i]', async (rows, cols, offset, pad) => {
    const gpu = await testGpu();
    const seed = freshSeed(`layer norm quantized ${rows}x${cols}`);
    const x = randomArray(seed, rows * cols, 2, 4);
    const modulation = randomArray(seed, 2 * cols + 5);
    const norm = { shiftOffset: 5, scaleOffset: 5 + cols };
    const source: Layout = { rows, cols, offset, stride: cols + pad };
    const [op, quantizer] = await Promise.all([ModulatedLayerNormOp.create(gpu, { quantized: true }), QuantizeActivationsOp.create(gpu)]);
    const words = quantizedActivationsLayout(rows, cols).totalWords;
    const [sourceBuffer, modulationBuffer, normed, fused, separate] = await Promise.all([
      upload(gpu, 'x', embed(x, source)), upload(gpu, 'modulation', modulation), upload(gpu, 'normed', new Float32Array(rows * cols)),
      poisonedBuffer(gpu, 'fused', words), poisonedBuffer(gpu, 'separate', words),
    ]);
    const args = { source: { buffer: sourceBuffer, ...source }, rows, cols, modulation: { buffer: modulationBuffer, ...norm } };
    await run(gpu, 'layer norm quantized', (rec) => {
      op.recordQuantized(rec, { ...args, target: { buffer: fused, rows, cols, firstRow: 0, layoutRows: rows } });
      op.record(rec, { ...args, target: { buffer: normed, offset: 0, stride: cols } });
      quantizer.record(rec, { buffer: normed, offset: 0, stride: cols }, rows, cols, separate);
    });
    const [fusedWords, separateWords] = await Promise.all([readU32(gpu, fused), readU32(gpu, separate)]);
    expect(fusedWords).toEqual(separateWords);
    // Against float64: the reference norm, quantized on the CPU (q may differ by one at near-ties).
    const { scalesBase } = quantizedActivationsLayout(rows, cols);
    const quants = new Int8Array(fusedWords.buffer, 0, rows * cols);
    const scales = new Float32Array(fusedWords.buffer, 4 * scalesBase, (rows * cols) / 16);
    const values = Float64Array.from(quants, (q, i) => q * scales[2 * Math.floor(i / 32)]);
    const expected = modulatedLayerNormReference(x, cols, modulation.subarray(norm.shiftOffset), modulation.subarray(norm.scaleOffset), 1e-6);
    expect(relativeError(values, quantizeActivationsReference(expected, rows, cols).values)).toBeLessThan(1e-4);
    // Rounding to 1/127 of each block's largest value: well under 1% of the norm's output.
    expect(relativeError(values, expected)).toBeLessThan(1e-2);
  });

  it('refuses an output that does not hold the rows as int8 blocks', async () => {
    const gpu = await testGpu();
    const op = await ModulatedLayerNormOp.create(gpu, { quantized: true });
    const [x, modulation, out] = await Promise.all([upload(gpu, 'x', new Float32Array(4 * 64)), upload(gpu, 'modulation', new Float32Array(128)), upload(gpu, 'out', new Uint32Array(16))]);
    const args = { source: { buffer: x, offset: 0, stride: 64 }, rows: 4, cols: 64, modulation: { buffer: modulation, shiftOffset: 0, scaleOffset: 64 } };
    expect(() => op.recordQuantized(gpu.recorder('small'), { ...args, target: { buffer: out, rows: 4, cols: 64, firstRow: 0, layoutRows: 4 } })).toThrowError(/smaller than/);
    expect(() => op.recordQuantized(gpu.recorder('shape'), { ...args, target: { buffer: out, rows: 3, cols: 64, firstRow: 0, layoutRows: 3 } })).toThrowError(/cannot write/);
  });
});

describe('affine LayerNorm (shaders/norm.wgsl)', () => {
  it.each([
    // rows, cols, in place: CLIP's pre-attention norm, its final norm of one row, in place
    [77, 768, false],
    [1, 64, false],
    [13, 300, true],
  ])('matches the float64 reference for [%i, %i] (in place: %s), eps 1e-5', async (rows, cols, inPlace) => {
    const gpu = await testGpu();
    const seed = freshSeed(`affine layer norm ${rows}x${cols}`);
    const x = randomArray(seed, rows * cols, -3, 5);
    // weight and bias of one layer among the other parameters of a shared vector buffer
    const parameters = randomArray(seed, 2 * cols + 21, -2, 2);
    const [weightOffset, biasOffset] = [21 + cols, 21];
    const source: Layout = { rows, cols, offset: 5, stride: cols + 2 };
    const target: Layout = inPlace ? source : { rows, cols, offset: 3, stride: cols + 7 };
    const op = await LayerNormOp.create(gpu);
    const [sourceBuffer, parameterBuffer] = await Promise.all([upload(gpu, 'x', embed(x, source)), upload(gpu, 'parameters', parameters)]);
    const targetBuffer = inPlace ? sourceBuffer : await upload(gpu, 'out', embed([], target));
    await run(gpu, 'affine layer norm', (rec) =>
      op.record(rec, { source: { buffer: sourceBuffer, ...source }, target: { buffer: targetBuffer, ...target }, rows, cols, affine: { buffer: parameterBuffer, weightOffset, biasOffset } }),
    );
    const result = await readF32(gpu, targetBuffer);
    const expected = layerNormReference(x, cols, parameters.subarray(weightOffset), parameters.subarray(biasOffset), 1e-5);
    expect(relativeError(extract(result, target), expected)).toBeLessThan(BOUND);
    expect(changedOutside(inPlace ? embed(x, source) : embed([], target), result, target)).toEqual([]);
  });
});

describe('RMSNorm (shaders/norm.wgsl)', () => {
  it.each([
    // heads, rows: the QK norm on the q columns of a fused [rows, 3·heads·128 + 5] projection
    [1, 1],
    [3, 19],
    [24, 6],
  ])('normalises each of %i heads of %i rows in place, leaving the other columns alone', async (heads, rows) => {
    const gpu = await testGpu();
    const seed = freshSeed(`qk norm ${heads}x${rows}`);
    const width = 3 * heads * 128 + 5;
    // The k columns of the second of two stacked sequences: offsets in both directions.
    const layout: Layout = { rows, cols: heads * 128, offset: 2 * width + heads * 128, stride: width };
    const background = randomArray(seed, layoutLength(layout), -3, 3);
    const weight = randomArray(seed, 128 + 4, 0.5, 2);
    const op = await RmsNormOp.create(gpu, { groupSize: 128 });
    const [buffer, weightBuffer] = await Promise.all([upload(gpu, 'qkv', background), upload(gpu, 'weight', weight)]);
    const view = { buffer, ...layout };
    await run(gpu, 'qk norm', (rec) => op.record(rec, { source: view, target: view, rows, groupsPerRow: heads, weight: { buffer: weightBuffer, offset: 4 } }));
    const result = await readF32(gpu, buffer);
    expect(relativeError(extract(result, layout), rmsNormReference(extract(background, layout), 128, weight.subarray(4), 1e-6))).toBeLessThan(BOUND);
    expect(changedOutside(background, result, layout)).toEqual([]);
  });

  it.each([
    // group size, groups per row, rows: T5's full-row norm, and groups that are no multiple of the workgroup
    [4096, 1, 3],
    [200, 2, 5],
    [1, 3, 2],
  ])('normalises groups of %i (%i per row, %i rows) into a separate buffer', async (groupSize, groupsPerRow, rows) => {
    const gpu = await testGpu();
    const seed = freshSeed(`rms norm ${groupSize}`);
    const cols = groupSize * groupsPerRow;
    const source: Layout = { rows, cols, offset: 1, stride: cols + 3 };
    const target: Layout = { rows, cols, offset: 6, stride: cols };
    const x = randomArray(seed, rows * cols, -2, 2);
    const weight = randomArray(seed, groupSize);
    const op = await RmsNormOp.create(gpu, { groupSize });
    const [sourceBuffer, targetBuffer, weightBuffer] = await Promise.all([upload(gpu, 'x', embed(x, source)), upload(gpu, 'out', embed([], target)), upload(gpu, 'weight', weight)]);
    await run(gpu, 'rms norm', (rec) =>
      op.record(rec, { source: { buffer: sourceBuffer, ...source }, target: { buffer: targetBuffer, ...target }, rows, groupsPerRow, weight: { buffer: weightBuffer, offset: 0 } }),
    );
    const result = await readF32(gpu, targetBuffer);
    expect(relativeError(extract(result, target), rmsNormReference(x, groupSize, weight, 1e-6))).toBeLessThan(BOUND);
    expect(changedOutside(embed([], target), result, target)).toEqual([]);
  });

  it('refuses a target that overlaps its source in the same buffer without being the same view', async () => {
    const gpu = await testGpu();
    const op = await RmsNormOp.create(gpu, { groupSize: 4 });
    const [buffer, weight] = await Promise.all([upload(gpu, 'x', new Float32Array(64)), upload(gpu, 'weight', new Float32Array(4))]);
    const rec = gpu.recorder('overlap');
    expect(() => op.record(rec, { source: { buffer, offset: 0, stride: 8 }, target: { buffer, offset: 2, stride: 8 }, rows: 2, groupsPerRow: 1, weight: { buffer: weight, offset: 0 } })).toThrowError(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });
});
