import { describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import type { Recorder } from '../../src/engine/gpu/recorder';
import { GpuRuntime } from '../../src/engine/gpu/runtime';
import { type AttentionExtras, AttentionOp, type AttentionOptions } from '../../src/engine/ops/attention';
import type { MatrixView } from '../../src/engine/ops/view';
import { relativeError } from '../../src/engine/reference/compare';
import { attentionReference, type AttentionReferenceInput } from '../../src/engine/reference/attention';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { poisonedBuffer, readF32, readU32, run, testGpu, upload } from './harness';
import { changedOutside, embed, extract, type Layout, layoutLength } from './view-layout';

// Scores are f32 dot products of ≤128 terms, exponentials are exp2 (a few ulp), sums run over a
// few hundred keys: about 1e-7 relative in practice.
const BOUND = 1e-5;

type QueryLabels = 'random' | 'text' | 'foreground' | 'with-unknown';

interface Case {
  name: string;
  queries: number;
  keys: number;
  heads: number;
  /** extras per label and their order in the extra buffers */
  extras?: { foreground: number; background: number; backgroundFirst: boolean; queryLabels: QueryLabels };
  scale?: number;
  causal?: boolean;
  /** a random relative-position bias table, as T5's */
  positionBias?: boolean;
}

// Each pipeline takes ~10 s to compile on SwiftShader, so the matrix is: every case on both row
// reductions with the large tile, a few cases on the small tile, head size 64 on the default.
const LARGE_TILE_VARIANTS: { name: string; options: Omit<AttentionOptions, 'headDim'> }[] = [
  { name: 'workgroup-memory row reductions', options: { rowReduction: 'workgroup', tile: 'large' } },
  { name: 'subgroup row reductions', options: { rowReduction: 'subgroup', tile: 'large' } },
];

const CASES: Case[] = [
  { name: 'one head, one token', queries: 1, keys: 1, heads: 1 },
  { name: 'fewer keys than queries', queries: 100, keys: 77, heads: 2 },
  { name: 'extras of both labels, [bg, fg]', queries: 150, keys: 130, heads: 2, extras: { foreground: 50, background: 37, backgroundFirst: true, queryLabels: 'random' } },
  { name: 'extras of both labels, [fg, bg], unknown labels', queries: 97, keys: 66, heads: 3, extras: { foreground: 70, background: 9, backgroundFirst: false, queryLabels: 'with-unknown' } },
  { name: 'all queries text', queries: 70, keys: 65, heads: 1, extras: { foreground: 20, background: 30, backgroundFirst: true, queryLabels: 'text' } },
  { name: 'foreground extras only', queries: 129, keys: 63, heads: 2, extras: { foreground: 61, background: 0, backgroundFirst: true, queryLabels: 'random' } },
  { name: 'background extras only, foreground queries see none', queries: 65, keys: 100, heads: 1, extras: { foreground: 0, background: 45, backgroundFirst: true, queryLabels: 'random' } },
  { name: 'foreground queries only', queries: 64, keys: 33, heads: 1, extras: { foreground: 31, background: 40, backgroundFirst: true, queryLabels: 'foreground' } },
  { name: 'empty extra ranges', queries: 33, keys: 40, heads: 2, extras: { foreground: 0, background: 0, backgroundFirst: true, queryLabels: 'random' } },
  { name: 'no own keys', queries: 40, keys: 0, heads: 1, extras: { foreground: 35, background: 3, backgroundFirst: true, queryLabels: 'random' } },
  { name: 'moderately large', queries: 333, keys: 301, heads: 2, extras: { foreground: 77, background: 113, backgroundFirst: true, queryLabels: 'random' } },
];

const SMALL_TILE_CASES = [CASES[1], CASES[3], CASES[10]];

interface Operands {
  input: AttentionReferenceInput;
  /** [heads, queries + keys − 1] */
  positionBias: Float32Array | undefined;
  extraLabels: { queryLabels: Uint32Array; background: { start: number; count: number }; foreground: { start: number; count: number } } | undefined;
}

function makeLabels(seed: number, count: number, kind: QueryLabels): Uint32Array {
  if (kind === 'text') return new Uint32Array(count);
  if (kind === 'foreground') return new Uint32Array(count).fill(1);
  // Contiguous runs like a real mask's rows, so tiles see both mixed and uniform labels.
  const labels = new Uint32Array(count);
  const top = kind === 'with-unknown' ? 3 : 2;
  for (let i = 0, label = 0; i < count; i++) {
    if (randomInt(seed, 0, 9) === 0) label = randomInt(seed, 0, top);
    labels[i] = label;
  }
  return labels;
}

function makeOperands(seed: number, c: Case, headDim: number): Operands {
  const width = c.heads * headDim;
  const scale = c.scale ?? 1 / Math.sqrt(headDim);
  // q, k uniform in ±spread give scaled scores with standard deviation scale·√D·spread²/3 = 2:
  // a softmax far from uniform.
  const spread = Math.sqrt(6 / (scale * Math.sqrt(headDim)));
  const input: AttentionReferenceInput = {
    queries: randomArray(seed, c.queries * width, -spread, spread),
    keys: randomArray(seed, c.keys * width, -spread, spread),
    values: randomArray(seed, c.keys * width),
    heads: c.heads,
    headDim,
    scale,
    causal: c.causal,
  };
  let positionBias: Float32Array | undefined;
  if (c.positionBias) {
    const columns = c.queries + c.keys - 1;
    const table = randomArray(seed, c.heads * columns, -3, 3);
    input.positionBias = (head, query, key) => table[head * columns + key - query + c.queries - 1];
    positionBias = table;
  }
  if (!c.extras) return { input, positionBias, extraLabels: undefined };
  const { foreground, background, backgroundFirst } = c.extras;
  const m = foreground + background;
  const keyLabels = Uint32Array.from({ length: m }, (_, i) => (backgroundFirst ? (i < background ? 2 : 1) : i < foreground ? 1 : 2));
  const queryLabels = makeLabels(seed, c.queries, c.extras.queryLabels);
  input.extras = { keys: randomArray(seed, m * width, -spread, spread), values: randomArray(seed, m * width), keyLabels, queryLabels };
  const first = backgroundFirst ? { background: 0, foreground: background } : { foreground: 0, background: foreground };
  return { input, positionBias, extraLabels: { queryLabels, background: { start: first.background, count: background }, foreground: { start: first.foreground, count: foreground } } };
}

/** Places every operand at an awkward offset and stride (q/k/v of a fused projection, extras after a row gap) and runs the op. */
async function runOnGpu(gpu: GpuRuntime, op: AttentionOp, { input, positionBias, extraLabels }: Operands): Promise<{ result: Float32Array; output: Layout; poisoned: Float32Array }> {
  const width = input.heads * input.headDim;
  const queryCount = input.queries.length / width;
  const keyCount = input.keys.length / width;
  const fused = (rows: number, column: number, firstRow = 0): Layout => ({ rows, cols: width, offset: firstRow * (3 * width + 5) + column + 1, stride: 3 * width + 5 });
  const q = fused(queryCount, 0);
  const k = fused(keyCount, width);
  const v = fused(keyCount, 2 * width);
  const output: Layout = { rows: queryCount, cols: width, offset: 2, stride: width + 3 };
  const qkvLength = Math.max(...[q, k, v].map((layout) => layoutLength(layout)));
  const qkv = embed(input.values, v, embed(input.keys, k, embed(input.queries, q, new Float32Array(qkvLength))));
  const poisoned = embed([], output);
  const [qkvBuffer, outputBuffer] = await Promise.all([upload(gpu, 'qkv', qkv), upload(gpu, 'attention output', poisoned)]);
  const view = (layout: Layout, buffer: GPUBuffer) => ({ buffer, offset: layout.offset, stride: layout.stride });
  let extras: AttentionExtras | undefined;
  let groupLabels: ((rec: Recorder) => void) | undefined;
  if (input.extras && extraLabels) {
    const extraCount = input.extras.keyLabels.length;
    const [ek, ev] = [fused(extraCount, width, 2), fused(extraCount, 2 * width, 2)];
    const [extraBuffer, labelBuffer, groupsBuffer] = await Promise.all([
      upload(gpu, 'extras', embed(input.extras.values, ev, embed(input.extras.keys, ek, new Float32Array(ev.offset + ev.stride * extraCount)))),
      upload(gpu, 'labels', Uint32Array.from([7, 7, 7, ...extraLabels.queryLabels])),
      poisonedBuffer(gpu, 'query groups', AttentionOp.queryGroupsBytes(queryCount) / 4),
    ]);
    groupLabels = (rec) => op.recordQueryGroups(rec, { buffer: labelBuffer, offset: 3 }, queryCount, groupsBuffer);
    extras = { keys: view(ek, extraBuffer), values: view(ev, extraBuffer), foreground: extraLabels.foreground, background: extraLabels.background, queryGroups: groupsBuffer };
  }
  let biasView: MatrixView | undefined;
  if (positionBias) {
    const layout: Layout = { rows: input.heads, cols: queryCount + keyCount - 1, offset: 7, stride: queryCount + keyCount + 2 };
    biasView = view(layout, await upload(gpu, 'position bias', embed(positionBias, layout)));
  }
  await run(gpu, 'attention', (rec) => {
    groupLabels?.(rec);
    op.record(rec, {
      queries: view(q, qkvBuffer), keys: view(k, qkvBuffer), values: view(v, qkvBuffer), output: view(output, outputBuffer),
      queryCount, keyCount, heads: input.heads, scale: input.scale, causal: input.causal, extras, positionBias: biasView,
    });
  });
  return { result: await readF32(gpu, outputBuffer), output, poisoned };
}

async function expectReferenceMatch(c: Case, options: AttentionOptions): Promise<void> {
  const gpu = await testGpu();
  const op = await AttentionOp.create(gpu, options);
  const operands = makeOperands(freshSeed(`attention ${c.name}`), c, options.headDim);
  const { result, output, poisoned } = await runOnGpu(gpu, op, operands);
  expect(relativeError(extract(result, output), attentionReference(operands.input))).toBeLessThan(BOUND);
  expect(changedOutside(poisoned, result, output)).toEqual([]);
}

describe.each(LARGE_TILE_VARIANTS)('attention with 64x64 tiles and $name (shaders/attention.wgsl)', ({ options }) => {
  it.each(CASES)('matches the float64 reference: $name', (c) => expectReferenceMatch(c, { headDim: 128, ...options }));
});

describe('attention with 32x32 tiles, for 16 KiB of workgroup memory', () => {
  it.each(SMALL_TILE_CASES)('matches the float64 reference: $name', (c) => expectReferenceMatch(c, { headDim: 128, rowReduction: 'workgroup', tile: 'small' }));
});

describe('attention with other row widths (tuning)', () => {
  it.each([8, 32])('matches the float64 reference with rows of %i lanes', (rowThreads) =>
    expectReferenceMatch(CASES[10], { headDim: 128, rowReduction: 'workgroup', tile: 'large', rowThreads }));

  it('refuses rows that do not fit the tile', async () => {
    await expect(AttentionOp.create(await testGpu(), { headDim: 64, rowThreads: 32 })).rejects.toThrow(/do not fit the small tile at head size 64/);
  });
});

// The generated kernel (src/engine/ops/attention-kernel.ts): every register loop unrolled.
const GENERATED: { name: string; options: Omit<AttentionOptions, 'headDim'> }[] = [
  { name: 'wide 64x32 tile, prefetch', options: { source: 'generated', tile: 'wide', prefetch: true } },
  { name: 'small tile, 64 dims per chunk, subgroup reductions', options: { source: 'generated', dimChunk: 64, rowReduction: 'subgroup' } },
  { name: 'large 64x64 tile, rows of 8', options: { source: 'generated', tile: 'large', rowThreads: 8 } },
  { name: 'deep 32x64 tile, prefetch, 64 dims per chunk', options: { source: 'generated', tile: 'deep', prefetch: true, dimChunk: 64 } },
];

describe('attention from generated WGSL (src/engine/ops/attention-kernel.ts)', () => {
  it.each([CASES[2], CASES[3], CASES[10]])('gives the written kernel\'s bits for the same tile shape: $name', async (c) => {
    const gpu = await testGpu();
    const [written, generated] = await Promise.all([AttentionOp.create(gpu, { headDim: 128 }), AttentionOp.create(gpu, { headDim: 128, source: 'generated' })]);
    const operands = makeOperands(freshSeed(`attention generated ${c.name}`), c, 128);
    const [a, b] = [await runOnGpu(gpu, written, operands), await runOnGpu(gpu, generated, operands)];
    expect(new Uint32Array(b.result.buffer)).toEqual(new Uint32Array(a.result.buffer));
    expect(relativeError(extract(b.result, b.output), attentionReference(operands.input))).toBeLessThan(BOUND);
  });

  describe.each(GENERATED)('$name', ({ options }) => {
    it.each([CASES[1], CASES[3], CASES[9], CASES[10]])('matches the float64 reference: $name', (c) => expectReferenceMatch(c, { headDim: 128, ...options }));
  });

  it('matches the float64 reference with head size 64, causal and with a position bias', async () => {
    await expectReferenceMatch({ name: 'causal with a bias', queries: 70, keys: 70, heads: 2, scale: 1, causal: true, positionBias: true }, { headDim: 64, source: 'generated', tile: 'wide' });
  });

  it('with f16 operands matches the float64 reference where the adapter has shader-f16', async (context) => {
    const gpu = await testGpu();
    // Skipped on SwiftShader and on Dawn + NVIDIA Vulkan without the vulkan_enable_f16_on_nvidia toggle, which lack shader-f16.
    if (!gpu.features.has('shader-f16')) context.skip();
    const c = CASES[10];
    const op = await AttentionOp.create(gpu, { headDim: 128, source: 'generated', operands: 'f16' });
    const operands = makeOperands(freshSeed('attention f16'), c, 128);
    const { result, output } = await runOnGpu(gpu, op, operands);
    // q, k and v rounded to f16 (2^-11 relative); scores of a few units keep that size in the softmax.
    expect(relativeError(extract(result, output), attentionReference(operands.input))).toBeLessThan(5e-3);
  });

  it('refuses f16 operands without shader-f16, and generated-only options for the written kernel', async () => {
    const gpu = await testGpu();
    if (!gpu.features.has('shader-f16')) await expect(AttentionOp.create(gpu, { headDim: 128, source: 'generated', operands: 'f16' })).rejects.toThrow(/shader-f16/);
    await expect(AttentionOp.create(gpu, { headDim: 128, prefetch: true })).rejects.toThrow(/generated attention kernel/);
  });

  it('compiles the tiles that fit 16 KiB with f16 operands on Dawn\'s null backend', async () => {
    // The null backend validates WGSL and creates pipelines without running them; it reports shader-f16.
    const nullGpu = await GpuRuntime.open(create(['backend=null']));
    try {
      expect(nullGpu.features.has('shader-f16')).toBe(true);
      await Promise.all((['small', 'deep'] as const).flatMap((tile) => [false, true].map((prefetch) => AttentionOp.create(nullGpu, { headDim: 128, source: 'generated', operands: 'f16', tile, prefetch }))));
    } finally {
      nullGpu.destroy();
    }
  });
});

describe('attention with head size 64', () => {
  it.each<Case>([
    { name: 'unscaled and causal', queries: 77, keys: 77, heads: 3, scale: 1, causal: true },
    { name: 'unscaled with a position bias (T5)', queries: 77, keys: 77, heads: 3, scale: 1, positionBias: true },
    { name: 'a position bias, more keys than queries', queries: 50, keys: 131, heads: 2, scale: 1, positionBias: true },
    { name: 'a position bias, causal', queries: 70, keys: 70, heads: 1, causal: true, positionBias: true },
  ])('matches the float64 reference: $name', (c) => expectReferenceMatch(c, { headDim: 64 }));
});

describe('query grouping by label (shaders/attention.wgsl)', () => {
  it.each([0, 1, 255, 256, 257, 4608, 9001])('stably partitions %i labels into text, foreground, background', async (count) => {
    const gpu = await testGpu();
    const labels = makeLabels(freshSeed(`grouping ${count}`), count, 'with-unknown');
    const op = await AttentionOp.create(gpu, { headDim: 128 });
    const labelBuffer = await upload(gpu, 'labels', Uint32Array.from([5, ...labels, 5]));
    const groups = await poisonedBuffer(gpu, 'query groups', AttentionOp.queryGroupsBytes(count) / 4);
    await run(gpu, 'grouping', (rec) => op.recordQueryGroups(rec, { buffer: labelBuffer, offset: 1 }, count, groups));
    const byLabel = [0, 1, 2].map((label) => [...labels.keys()].filter((q) => (labels[q] > 2 ? 0 : labels[q]) === label));
    const expected = [byLabel[0].length, byLabel[0].length + byLabel[1].length, ...byLabel.flat()];
    expect(Array.from(await readU32(gpu, groups))).toEqual(expected);
  });
});

describe('attention determinism and checks', () => {
  it('gives the same bits on every run, with extras', async () => {
    const gpu = await testGpu();
    const op = await AttentionOp.create(gpu, { headDim: 128 });
    const c = CASES[2];
    const operands = makeOperands(freshSeed('attention determinism'), c, 128);
    const first = await runOnGpu(gpu, op, operands);
    const second = await runOnGpu(gpu, op, operands);
    expect(new Uint32Array(second.result.buffer)).toEqual(new Uint32Array(first.result.buffer));
  });

  it('refuses an output in the buffer of an operand', async () => {
    const gpu = await testGpu();
    const op = await AttentionOp.create(gpu, { headDim: 64 });
    const buffer = await upload(gpu, 'qkv', new Float32Array(4 * 64 * 4));
    const view = (offset: number) => ({ buffer, offset, stride: 256 });
    const args = { queries: view(0), keys: view(64), values: view(128), output: view(192), queryCount: 4, keyCount: 4, heads: 1 };
    expect(() => op.record(gpu.recorder('alias'), args)).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
  });

  it('refuses a position bias table too small for the sequence, and a bias with extras', async () => {
    const gpu = await testGpu();
    const op = await AttentionOp.create(gpu, { headDim: 64 });
    const [qkv, out, bias, groups] = await Promise.all([
      upload(gpu, 'qkv', new Float32Array(4 * 3 * 64)), upload(gpu, 'out', new Float32Array(4 * 64)), upload(gpu, 'bias', new Float32Array(2 * 7)), upload(gpu, 'groups', new Uint32Array(6)),
    ]);
    const args = {
      queries: { buffer: qkv, offset: 0, stride: 192 }, keys: { buffer: qkv, offset: 64, stride: 192 }, values: { buffer: qkv, offset: 128, stride: 192 }, output: { buffer: out, offset: 0, stride: 64 },
      queryCount: 4, keyCount: 4, heads: 1,
    };
    expect(() => op.record(gpu.recorder('bias'), { ...args, positionBias: { buffer: bias, offset: 8, stride: 7 } })).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
    const extras = { keys: args.keys, values: args.values, foreground: { start: 0, count: 1 }, background: { start: 1, count: 1 }, queryGroups: groups };
    expect(() => op.record(gpu.recorder('bias'), { ...args, positionBias: { buffer: bias, offset: 0, stride: 7 }, extras })).toThrowError(/position bias cannot take extra keys/);
  });

  it('refuses extra ranges beyond the extra views', async () => {
    const gpu = await testGpu();
    const op = await AttentionOp.create(gpu, { headDim: 64 });
    const [qkv, out, extra, groups] = await Promise.all([
      upload(gpu, 'qkv', new Float32Array(4 * 3 * 64)), upload(gpu, 'out', new Float32Array(4 * 64)), upload(gpu, 'extras', new Float32Array(2 * 5 * 64)), upload(gpu, 'groups', new Uint32Array(6)),
    ]);
    const args = {
      queries: { buffer: qkv, offset: 0, stride: 192 }, keys: { buffer: qkv, offset: 64, stride: 192 }, values: { buffer: qkv, offset: 128, stride: 192 }, output: { buffer: out, offset: 0, stride: 64 },
      queryCount: 4, keyCount: 4, heads: 1,
      extras: { keys: { buffer: extra, offset: 0, stride: 128 }, values: { buffer: extra, offset: 64, stride: 128 }, foreground: { start: 3, count: 3 }, background: { start: 0, count: 3 }, queryGroups: groups },
    };
    expect(() => op.record(gpu.recorder('range'), args)).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
  });
});
