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

  it('tags dispatches and charges a copy the gap between the passes around it', async () => {
    const gpu = await opening;
    const axpy = await AxpyOp.create(gpu);
    const count = 100_000;
    const x = await gpu.memory.uploadNew('x', new Float32Array(count).fill(1));
    const [out, copy] = [await gpu.memory.allocate('out', 4 * count), await gpu.memory.allocate('copy', 4 * count)];
    const rec = gpu.recorder('tagged');
    rec.tagged('first', () => axpy.record(rec, 1, x, x, out, count));
    rec.tagged('second', () => {
      rec.copy(out, 0, copy, 0, 4 * count);
      rec.tagged('inner', () => axpy.record(rec, 2, copy, x, out, count));
    });
    axpy.record(rec, 3, x, out, copy, count);
    const timings = await rec.submit();
    expect(timings.map((t) => [t.kernel, t.tag])).toEqual([['axpy', 'first'], ['copy', 'second'], ['axpy', 'inner'], ['axpy', undefined]]);
    const [first, copied, inner] = timings;
    expect([copied.beginMs, copied.endMs, copied.ms]).toEqual([first.endMs, inner.beginMs, inner.beginMs - first.endMs]);
    expect(timings.every((t, i) => t.endMs >= t.beginMs && (i === 0 || t.beginMs >= timings[i - 1].endMs))).toBe(true);
    // 1 + 1 = 2, copied, 2·2 + 1 = 5, then 3·1 + 5 = 8.
    expect((await gpu.memory.readF32(copy, 1))[0]).toBe(8);
  });
});
