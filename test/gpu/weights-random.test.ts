import { describe, expect, it } from 'vitest';
import { LinearOp } from '../../src/engine/ops/linear';
import { dense } from '../../src/engine/ops/view';
import { GpuWeight, type LinearWeightType } from '../../src/engine/ops/weights';
import { poisonedBuffer, readF32, run, testGpu, upload } from './harness';

/** W[N, K] read back through the linear kernel: Y = I_K · W^T puts W[n, k] at Y[k, n]. */
async function readWeight(type: LinearWeightType, weight: GpuWeight): Promise<Float32Array> {
  const gpu = await testGpu();
  const { rows: n, cols: k } = weight;
  const identity = new Float32Array(k * k);
  for (let i = 0; i < k; i++) identity[i * k + i] = 1;
  const x = await upload(gpu, 'identity', identity);
  const y = await poisonedBuffer(gpu, 'y', k * n);
  const op = await LinearOp.create(gpu, { type, variant: 'baseline' });
  await run(gpu, 'read weight', (rec) => op.record(rec, { x: dense(x, k), weight, y: dense(y, n), rows: k }));
  return readF32(gpu, y);
}

describe('GpuWeight.fillRandom', () => {
  it.each(['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'] as const)('fills %s with finite, bounded, varied, reproducible weights', async (type) => {
    const gpu = await testGpu();
    const [n, k] = [7, type.startsWith('Q') ? 64 : 45];
    const make = async (seed: number) => {
      const weight = await GpuWeight.create(gpu, `random ${type}`, type, n, k);
      await weight.fillRandom(seed, 0.5);
      return readWeight(type, weight);
    };
    const values = await make(11);
    expect(values.every(Number.isFinite)).toBe(true);
    // Floats lie in [-0.5, 0.5); quants times scales below 1.5 * 0.5 / range stay under 0.75.
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(type.startsWith('Q') ? 0.75 : 0.5);
    // At least the 16 levels of a 4-bit quant.
    expect(new Set(values).size).toBeGreaterThan(16);
    expect([...(await make(11))]).toEqual([...values]);
    expect([...(await make(12))]).not.toEqual([...values]);
  });
});
