import { describe, expect, it } from 'vitest';
import { ActivationOp, GatedResidualOp, type Activation } from '../../src/engine/ops/elementwise';
import { relativeError } from '../../src/engine/reference/compare';
import { gatedResidualReference, geluTanhReference, siluReference } from '../../src/engine/reference/activation';
import { freshSeed, randomArray } from '../helpers/random';
import { readF32, run, testGpu, upload } from './harness';
import { changedOutside, embed, extract, type Layout, layoutLength } from './view-layout';

const REFERENCES: Record<Activation, (x: ArrayLike<number>) => Float64Array> = { silu: siluReference, 'gelu-tanh': geluTanhReference };

// WGSL's exp is accurate to 3 + 2·|arg| ulp: up to ~100 ulp (6e-6) for GELU's argument −49 at
// x = −8, which decides the error when a case has a single element; large inputs see ~1e-7.
const ACTIVATION_BOUND = 1e-5;

describe.each(['silu', 'gelu-tanh'] as const)('%s (shaders/elementwise.wgsl)', (activation) => {
  it.each([
    // rows, cols, source stride, source offset, target stride, target offset
    [1, 1, 1, 0, 1, 0],
    [3, 257, 300, 7, 260, 1],
    // The MLP part of a tiny single block's linear1 output [L, 4·C + 3·C] into linear2's input [L, C + 4·C], C = 64.
    [33, 256, 448, 192, 320, 64],
  ])('matches the float64 reference on [%i, %i] views', async (rows, cols, sourceStride, sourceOffset, targetStride, targetOffset) => {
    const gpu = await testGpu();
    const seed = freshSeed(`${activation} ${rows}x${cols}`);
    const source: Layout = { rows, cols, offset: sourceOffset, stride: sourceStride };
    const target: Layout = { rows, cols, offset: targetOffset, stride: targetStride };
    const x = randomArray(seed, rows * cols, -8, 8);
    const op = await ActivationOp.create(gpu, activation);
    const [sourceBuffer, targetBuffer] = await Promise.all([upload(gpu, 'x', embed(x, source)), upload(gpu, 'out', embed([], target))]);
    await run(gpu, activation, (rec) => op.record(rec, { buffer: sourceBuffer, ...source }, { buffer: targetBuffer, ...target }, rows, cols));
    const result = await readF32(gpu, targetBuffer);
    expect(relativeError(extract(result, target), REFERENCES[activation](x))).toBeLessThan(ACTIVATION_BOUND);
    expect(changedOutside(embed([], target), result, target)).toEqual([]);
  });

  it('stays finite and exact in its tails', async () => {
    const gpu = await testGpu();
    const x = new Float32Array([-3e38, -1e4, -200, -110, 110, 200, 1e4, 3e38, 0, -0]);
    const op = await ActivationOp.create(gpu, activation);
    const [sourceBuffer, targetBuffer] = await Promise.all([upload(gpu, 'x', x), upload(gpu, 'out', new Float32Array(x.length).fill(Number.NaN))]);
    await run(gpu, `${activation} tails`, (rec) => op.record(rec, { buffer: sourceBuffer, offset: 0, stride: x.length }, { buffer: targetBuffer, offset: 0, stride: x.length }, 1, x.length));
    const result = await readF32(gpu, targetBuffer);
    // Float64 values rounded to f32: exactly 0 (or -0) on the left, exactly x on the right.
    expect(Array.from(result, Math.abs)).toEqual(Array.from(new Float32Array(REFERENCES[activation](x)), Math.abs));
  });
});

describe('gated residual (shaders/elementwise.wgsl)', () => {
  it.each([
    [1, 1],
    [5, 3072],
    [17, 333],
  ])('adds gate · update into [%i, %i] residual rows in place', async (rows, cols) => {
    const gpu = await testGpu();
    const seed = freshSeed(`gated residual ${rows}x${cols}`);
    const residual: Layout = { rows, cols, offset: 5, stride: cols + 2 };
    const update: Layout = { rows, cols, offset: 1, stride: cols + 9 };
    const background = randomArray(seed, layoutLength(residual));
    const y = randomArray(seed, rows * cols);
    // gate is the third chunk (shift, scale, gate) of a modulation output
    const modulation = randomArray(seed, 3 * cols, -2, 2);
    const op = await GatedResidualOp.create(gpu);
    const [residualBuffer, updateBuffer, modulationBuffer] = await Promise.all([upload(gpu, 'x', background), upload(gpu, 'y', embed(y, update)), upload(gpu, 'modulation', modulation)]);
    await run(gpu, 'gated residual', (rec) =>
      op.record(rec, { buffer: residualBuffer, ...residual }, { buffer: updateBuffer, ...update }, { buffer: modulationBuffer, offset: 2 * cols }, rows, cols),
    );
    const result = await readF32(gpu, residualBuffer);
    // One multiply-add per element (fused or not): at most two f32 roundings.
    expect(relativeError(extract(result, residual), gatedResidualReference(extract(background, residual), modulation.subarray(2 * cols), y))).toBeLessThan(1e-6);
    expect(changedOutside(background, result, residual)).toEqual([]);
  });

  it('refuses an update in the residual buffer', async () => {
    const gpu = await testGpu();
    const op = await GatedResidualOp.create(gpu);
    const buffer = await upload(gpu, 'x', new Float32Array(16));
    const view = { buffer, offset: 0, stride: 4 };
    expect(() => op.record(gpu.recorder('alias'), view, { ...view, offset: 8 }, { buffer, offset: 0 }, 2, 4)).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
  });
});
