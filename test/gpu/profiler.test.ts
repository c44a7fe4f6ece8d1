import { afterAll, describe, expect, it } from 'vitest';
import { AxpyOp } from '../../src/engine/ops/elementwise';
import { SumOp } from '../../src/engine/ops/reduce';
import { openNodeGpu } from '../../tools/node-gpu';

describe('profiler (timestamp queries)', () => {
  const opening = openNodeGpu({ software: true, profile: true });
  afterAll(async () => (await opening).destroy());

  it('times every dispatch of a recording, by kernel name', async () => {
    const gpu = await opening;
    expect(gpu.profiler).toBeDefined();
    const count = 300_000;
    const [axpy, sum] = await Promise.all([AxpyOp.create(gpu), SumOp.create(gpu)]);
    const x = await gpu.memory.uploadNew('x', new Float32Array(count).fill(1));
    const out = await gpu.memory.allocate('out', 4 * count);
    const total = await gpu.memory.allocate('total', 4);
    const rec = gpu.recorder('profiled');
    axpy.record(rec, 2, x, x, out, count);
    sum.record(rec, out, count, total);
    const timings = await rec.submit();
    // axpy, then the sum's two tree levels (300000 -> 293 partials -> 1).
    expect(timings.map((t) => t.kernel)).toEqual(['axpy', 'sum', 'sum']);
    expect(timings.every((t) => Number.isFinite(t.ms) && t.ms >= 0)).toBe(true);
    expect((await gpu.memory.readF32(total))[0]).toBe(3 * count);
  });
});
