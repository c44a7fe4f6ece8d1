// `npm run bench -- --suite variant-check`: every kernel variant the bench times, run once on
// random inputs of awkward sizes and compared with the float64 CPU reference, on the adapter the
// bench runs on. npm test does this on SwiftShader; this suite is how a borrowed GPU (where npm
// test cannot run) shows that the variants it times are correct there too, including those the
// software adapter cannot run (f16 operands). A row's note gives the error and its bound; a
// variant the adapter lacks is listed as not run.

import { EngineError } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { AttentionOp, type AttentionOptions } from '../../src/engine/ops/attention';
import { LinearOp } from '../../src/engine/ops/linear';
import type { LinearVariant } from '../../src/engine/ops/linear-config';
import { dense } from '../../src/engine/ops/view';
import { dequantize, quantize } from '../../src/engine/formats/ggml-blocks';
import { GpuWeight, type LinearWeightType } from '../../src/engine/ops/weights';
import { attentionReference } from '../../src/engine/reference/attention';
import { relativeError } from '../../src/engine/reference/compare';
import { linearReference } from '../../src/engine/reference/linear';
import { uniformFloats } from '../../src/engine/sampling/philox';
import type { BenchSuite } from './suite';
import type { BenchRow } from './table';

const random = (stream: number, count: number, spread = 1) => uniformFloats(0xc4ec, stream, count).map((u) => spread * (2 * u - 1));

interface Check {
  name: string;
  /** the relative error against float64, or why it did not run */
  run(gpu: GpuRuntime): Promise<number>;
  bound: number;
}

// f32: rounding of sums of a few hundred terms (1e-5, as npm test); int8: activations rounded to
// 1/127 of each block's largest value; f16: operands rounded to 2^-11.
const ATTENTION: { options: Omit<AttentionOptions, 'headDim'>; bound: number }[] = [
  { options: {}, bound: 1e-5 },
  { options: { source: 'generated', prefetch: true }, bound: 1e-5 },
  { options: { source: 'generated', tile: 'wide', prefetch: true }, bound: 1e-5 },
  { options: { source: 'generated', tile: 'large', rowThreads: 16, prefetch: true, rowReduction: 'subgroup' }, bound: 1e-5 },
  { options: { source: 'generated', prefetch: true, dimChunk: 64 }, bound: 1e-5 },
  { options: { source: 'generated', prefetch: true, operands: 'f16' }, bound: 5e-3 },
  { options: { source: 'generated', tile: 'wide', prefetch: true, operands: 'f16' }, bound: 5e-3 },
];

const LINEAR: { variant: LinearVariant; type: LinearWeightType; bound: number }[] = [
  { variant: 'auto', type: 'Q4_0', bound: 1e-5 },
  { variant: 'f32', type: 'F16', bound: 1e-5 },
  { variant: 'int8', type: 'Q4_0', bound: 1e-2 },
  { variant: 'int8', type: 'Q8_0', bound: 1e-2 },
  { variant: 'f16', type: 'Q4_0', bound: 3e-3 },
  { variant: 'f16', type: 'F16', bound: 3e-3 },
];

/** Attention over 333 queries and 301 own keys, with foreground and background extras, 2 heads of 128. */
async function attentionError(gpu: GpuRuntime, options: Omit<AttentionOptions, 'headDim'>): Promise<number> {
  const [queries, keys, extras, heads, headDim] = [333, 301, 190, 2, 128];
  const width = heads * headDim;
  // q, k uniform in ±√6: scaled scores with a standard deviation of 2, a softmax far from uniform.
  const spread = Math.sqrt(6);
  const queryLabels = Uint32Array.from({ length: queries }, (_, i) => (i * 7) % 3);
  const keyLabels = Uint32Array.from({ length: extras }, (_, i) => (i < 113 ? 2 : 1));
  const input = {
    queries: random(1, queries * width, spread), keys: random(2, keys * width, spread), values: random(3, keys * width), heads, headDim, scale: 1 / Math.sqrt(headDim),
    extras: { keys: random(4, extras * width, spread), values: random(5, extras * width), keyLabels, queryLabels },
  };
  const op = await AttentionOp.create(gpu, { headDim, ...options });
  const owned: GPUBuffer[] = [];
  const upload = async (label: string, data: Float32Array | Uint32Array) => owned[owned.push(await gpu.memory.uploadNew(label, data)) - 1];
  try {
    const [q, k, v, ek, ev, labels, groups, out] = [
      await upload('q', input.queries), await upload('k', input.keys), await upload('v', input.values), await upload('extra k', input.extras.keys),
      await upload('extra v', input.extras.values), await upload('labels', queryLabels), await upload('groups', new Uint32Array(2 + queries)), await upload('out', new Float32Array(queries * width)),
    ];
    const rec = gpu.recorder('variant check attention');
    op.recordQueryGroups(rec, { buffer: labels, offset: 0 }, queries, groups);
    op.record(rec, {
      queries: dense(q, width), keys: dense(k, width), values: dense(v, width), output: dense(out, width), queryCount: queries, keyCount: keys, heads,
      extras: { keys: dense(ek, width), values: dense(ev, width), background: { start: 0, count: 113 }, foreground: { start: 113, count: extras - 113 }, queryGroups: groups },
    });
    await rec.submit();
    return relativeError(await gpu.memory.readF32(out), attentionReference(input));
  } finally {
    owned.forEach((buffer) => gpu.memory.release(buffer));
  }
}

/** Y [130, 200] = X [130, 320] · W^T + bias. */
async function linearError(gpu: GpuRuntime, variant: LinearVariant, type: LinearWeightType): Promise<number> {
  const [m, n, k] = [130, 200, 320];
  const op = await LinearOp.create(gpu, { type, variant });
  const values = random(6, n * k, 1 / Math.sqrt(k));
  const bytes = type === 'F32' ? new Uint8Array(values.buffer) : quantize(type, values);
  const weight = await GpuWeight.upload(gpu, `W ${type}`, type, n, k, bytes);
  const x = random(7, m * k);
  const bias = random(8, n);
  const [xBuffer, biasBuffer, yBuffer] = [await gpu.memory.uploadNew('X', x), await gpu.memory.uploadNew('bias', bias), await gpu.memory.allocate('Y', 4 * m * n)];
  try {
    const rec = gpu.recorder('variant check linear');
    op.record(rec, { x: dense(xBuffer, k), weight, y: dense(yBuffer, n), rows: m, bias: { buffer: biasBuffer, offset: 0 } });
    await rec.submit();
    return relativeError(await gpu.memory.readF32(yBuffer), linearReference({ x, weight: dequantize(type, bytes, n * k), rows: m, cols: n, depth: k, bias }));
  } finally {
    [xBuffer, biasBuffer, yBuffer].forEach((buffer) => gpu.memory.release(buffer));
    weight.release();
  }
}

const CHECKS: Check[] = [
  ...ATTENTION.map(({ options, bound }) => ({ name: `attention ${JSON.stringify(options)}`, bound, run: (gpu: GpuRuntime) => attentionError(gpu, options) })),
  ...LINEAR.map(({ variant, type, bound }) => ({ name: `linear ${variant} ${type}`, bound, run: (gpu: GpuRuntime) => linearError(gpu, variant, type) })),
];

export const variantCheckSuite: BenchSuite = {
  name: 'variant-check',
  description: 'every timed kernel variant against the float64 reference on this adapter (awkward sizes)',
  async run(gpu, options) {
    const rows: BenchRow[] = [];
    for (const check of CHECKS) {
      const row = { group: 'variant check', name: check.name, kernel: 'against float64', ms: Number.NaN, flops: 0, bytes: 0 };
      try {
        const error = await check.run(gpu);
        rows.push({ ...row, note: `relative error ${error.toExponential(2)}, bound ${check.bound}: ${error < check.bound ? 'ok' : 'FAIL'}` });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        rows.push({ ...row, note: `not run: ${error.message}` });
      }
      options.log(`${rows[rows.length - 1].name}: ${rows[rows.length - 1].note}`);
    }
    return rows;
  },
};
