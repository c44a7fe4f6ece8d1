// The kernel benchmark suite on tiny shapes, so it cannot rot: every row is measured, and its
// operation and byte counts are recomputed here from the shape alone.

import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { attentionCaseName } from '../../tools/bench/attention-bench';
import { runKernelBenchmarks, type KernelShapes } from '../../tools/bench/kernels';
import { linearCaseName } from '../../tools/bench/linear-bench';
import type { BenchOptions } from '../../tools/bench/suite';
import type { BenchRow } from '../../tools/bench/table';
import { testGpu } from './harness';

const SHAPES: KernelShapes = {
  linear: { tokens: [1, 37], layers: [{ inputs: 64, outputs: 40 }], types: ['Q4_0', 'F16'] },
  attention: { heads: 2, headDim: 64, queries: 38, keys: 27, extras: 22 },
};

const OPTIONS: BenchOptions = { quick: true, timing: { warmup: 0, repetitions: 1 }, log: () => {} };

/** Bytes of one stored weight: Q4_0 packs 32 weights into 18 bytes (f16 scale + 16 bytes of nibbles). */
const WEIGHT_BYTES = { Q4_0: 18 / 32, F16: 2 } as const;

interface Expected {
  flops: number;
  bytes: number;
  /** a kernel label that must appear among the case's rows */
  kernel?: RegExp;
}

function expectedRows(): Map<string, Expected> {
  const expected = new Map<string, Expected>();
  const { tokens, layers } = SHAPES.linear;
  for (const type of ['Q4_0', 'F16'] as const) {
    for (const { inputs: k, outputs: n } of layers) {
      for (const m of tokens) {
        const kernel = m === 1 ? /subgroups/ : type === 'Q4_0' ? /int8/ : /f32/;
        expected.set(linearCaseName({ type, rows: m, inputs: k, outputs: n }), { flops: 2 * m * n * k, bytes: n * k * WEIGHT_BYTES[type] + 4 * m * (k + n), kernel });
      }
    }
  }
  const { heads, headDim, queries, keys, extras } = SHAPES.attention;
  const width = heads * headDim;
  expected.set(attentionCaseName({ ...SHAPES.attention, extras: 0 }), { flops: 4 * queries * keys * headDim * heads, bytes: 4 * width * (2 * queries + 2 * keys) });
  // Even counts: half the queries are foreground and see the own keys plus half the extras, the
  // other half background and see own keys plus the other half.
  const seenPairs = 2 * (queries / 2) * (keys + extras / 2);
  expected.set(attentionCaseName(SHAPES.attention), { flops: 4 * seenPairs * headDim * heads, bytes: 4 * width * (2 * queries + 2 * (keys + extras)) });
  return expected;
}

function groupByName(rows: readonly BenchRow[]): Map<string, BenchRow[]> {
  const byName = new Map<string, BenchRow[]>();
  for (const row of rows) byName.set(row.name, [...(byName.get(row.name) ?? []), row]);
  return byName;
}

/** `gpu` with some limits replaced (everything else, compiled kernels included, shared). */
function withLimits(gpu: GpuRuntime, limits: Partial<GpuRuntime['limits']>): GpuRuntime {
  return Object.create(gpu, { limits: { value: { ...gpu.limits, ...limits } } }) as GpuRuntime;
}

describe('kernel benchmark suite', () => {
  it('measures every case against its baseline, with the operations and bytes of its shape', async () => {
    const gpu = await testGpu();
    const rows = await runKernelBenchmarks(gpu, OPTIONS, SHAPES);
    const expected = expectedRows();
    const byName = groupByName(rows);
    expect([...byName.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, cases] of byName) {
      const { flops, bytes, kernel } = expected.get(name)!;
      const [baseline, ...compared] = cases;
      expect(baseline.kernel, name).toMatch(/^baseline/);
      expect(compared.length, name).toBeGreaterThan(0);
      if (kernel) expect(compared.some((row) => kernel.test(row.kernel)), `${name}: ${kernel}`).toBe(true);
      for (const row of cases) {
        expect(row.ms > 0 && Number.isFinite(row.ms), `${name} ${row.kernel}: ${row.ms} ms`).toBe(true);
        expect(row.note).toBeUndefined();
        expect([row.flops, row.bytes], `${name} ${row.kernel}`).toEqual([flops, bytes]);
      }
      for (const row of compared) expect(row.baseline).toEqual({ kernel: 'baseline', ms: baseline.ms });
    }
  });

  it('skips, with the reason, every case that exceeds the device limits', async () => {
    const gpu = withLimits(await testGpu(), { maxStorageBufferBindingSize: 128 });
    const rows = await runKernelBenchmarks(gpu, OPTIONS, SHAPES);
    expect(new Set(rows.map((row) => row.name))).toEqual(new Set(expectedRows().keys()));
    for (const row of rows) {
      expect(row.ms).toBeNaN();
      expect(row.note).toMatch(/^skipped: needs .* in one storage binding; this device allows 128 B$/);
    }
  });
});
