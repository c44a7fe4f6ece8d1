import { describe, expect, it } from 'vitest';
import { AxpyOp } from '../../src/engine/ops/elementwise';
import { SumOp } from '../../src/engine/ops/reduce';
import { relativeError } from '../../src/engine/reference/compare';
import { axpyReference, sumReference } from '../../src/engine/reference/elementwise';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, testGpu } from './harness';

// Awkward lengths: below, at and just past the workgroup and per-group sizes of the kernels.
const LENGTHS = [1, 7, 255, 256, 257, 1023, 1025, 4097, 100_003, 1_048_577];

describe('axpy (shaders/elementwise.wgsl)', () => {
  it.each(LENGTHS)('matches the float64 reference at length %i', async (length) => {
    const gpu = await testGpu();
    const seed = freshSeed(`axpy ${length}`);
    const x = randomArray(seed, length);
    const y = randomArray(seed, length);
    const a = randomArray(seed, 1, -3, 3)[0];
    const op = await AxpyOp.create(gpu);
    const [xb, yb] = await Promise.all([gpu.memory.uploadNew('x', x), gpu.memory.uploadNew('y', y)]);
    const out = await poisonedBuffer(gpu, 'out', length);
    const rec = gpu.recorder('axpy test');
    op.record(rec, a, xb, yb, out, length);
    await rec.submit();
    const result = await gpu.memory.readF32(out);
    // At most two f32 roundings per element (the adapter may not fuse the multiply-add), each
    // relative to the operands, not to the possibly cancelled result.
    const expected = axpyReference(a, x, y);
    const worst = result.reduce((max, v, i) => Math.max(max, Math.abs(v - expected[i]) / (Math.abs(a * x[i]) + Math.abs(y[i]))), 0);
    expect(worst).toBeLessThan(2 ** -22);
    [xb, yb, out].forEach((b) => gpu.memory.release(b));
  });
});

describe('sum (shaders/reduce.wgsl)', () => {
  it.each(LENGTHS)('matches the float64 reference at length %i', async (length) => {
    const gpu = await testGpu();
    const seed = freshSeed(`sum ${length}`);
    // Positive values keep the reference away from cancellation, so the bound is meaningful.
    const values = randomArray(seed, length, 0, 1);
    const op = await SumOp.create(gpu);
    const input = await gpu.memory.uploadNew('values', values);
    const result = await poisonedBuffer(gpu, 'result', 1);
    const rec = gpu.recorder('sum test');
    op.record(rec, input, length, result);
    await rec.submit();
    const [total] = await gpu.memory.readF32(result);
    // A balanced tree of f32 additions: error grows with log2(length) * 2^-24, far below 1e-5.
    expect(relativeError([total], [sumReference(values)])).toBeLessThan(1e-5);
  });

  it('is bit-for-bit deterministic across runs', async () => {
    const gpu = await testGpu();
    const values = randomArray(freshSeed('sum determinism'), 300_001);
    const op = await SumOp.create(gpu);
    const input = await gpu.memory.uploadNew('values', values);
    const runs: number[] = [];
    for (let run = 0; run < 3; run++) {
      const result = await poisonedBuffer(gpu, 'result', 1);
      const rec = gpu.recorder('sum determinism');
      op.record(rec, input, values.length, result);
      await rec.submit();
      runs.push((await gpu.memory.readU32(result))[0]);
    }
    expect(new Set(runs).size).toBe(1);
  });
});
