import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import { EngineError } from '../../src/engine/errors';
import { dequantize, quantize } from '../../src/engine/formats/ggml-blocks';
import { GpuRuntime } from '../../src/engine/gpu/runtime';
import { LinearOp, type LinearEpilogue } from '../../src/engine/ops/linear';
import type { LinearVariant } from '../../src/engine/ops/linear-config';
import { QuantizeActivationsOp, quantizedActivationsLayout, quantizedRows } from '../../src/engine/ops/quantize-activations';
import type { MatrixView, VectorView } from '../../src/engine/ops/view';
import { GpuWeight, uploadVector, type LinearWeightType } from '../../src/engine/ops/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { linearReference, quantizeActivationsReference, type LinearReferenceEpilogue } from '../../src/engine/reference/linear';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { POISON, poisonedBuffer, testGpu } from './harness';

const FLOAT_TYPES: LinearWeightType[] = ['F32', 'F16', 'BF16'];
const QUANT_TYPES: LinearWeightType[] = ['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'];
const ALL_TYPES = [...FLOAT_TYPES, ...QUANT_TYPES];
const EPILOGUES = ['none', 'bias', 'bias+gelu', 'bias+gated'] as const;
/** The text encoders' epilogues: the same store_output code in every kernel, so LARGE_CASES cover them per variant. */
type EpilogueName = (typeof EPILOGUES)[number] | 'bias+residual' | 'bias+multiply' | 'bias+quick-gelu';

/**
 * What runs on SwiftShader. Every weight type runs through the tiled kernel in its 'baseline'
 * shape (the WGSL of 'f32' with 16x16 tiles), through the subgroup kernel and the direct kernel
 * (what 'auto' runs on a software adapter like this one), and every block-quantized type through int8. The 128x128 f32 tile, ~10 s to compile per type on
 * SwiftShader, runs for F16, Q4_0 and Q5_1: its type-specific code is the same functions the
 * baseline shape runs for every type. Every variant of every type also compiles on Dawn's null
 * backend below.
 */
const MATRIX: { variant: LinearVariant; types: LinearWeightType[] }[] = [
  { variant: 'baseline', types: ALL_TYPES },
  { variant: 'subgroups', types: ALL_TYPES },
  { variant: 'direct', types: ALL_TYPES },
  { variant: 'f32', types: ['F16', 'Q4_0', 'Q5_1'] },
  { variant: 'int8', types: QUANT_TYPES },
];

interface Shape {
  m: number;
  n: number;
  k: number;
}

/** All combinations of the small awkward sizes; K = 45 only where the format allows it. */
function smallShapes(type: LinearWeightType): Shape[] {
  const depths = FLOAT_TYPES.includes(type) ? [32, 45, 96] : [32, 96];
  return [1, 7].flatMap((m) => [1, 33].flatMap((n) => depths.map((k) => ({ m, n, k }))));
}

/**
 * A representative subset on the larger sizes: each variant, several types and every epilogue.
 * `partBytes` splits W into row parts (as for a tensor larger than one storage binding).
 */
const LARGE_CASES: (Shape & { variant: LinearVariant; type: LinearWeightType; epilogue: EpilogueName; partBytes?: number })[] = [
  { variant: 'f32', type: 'Q5_1', m: 130, n: 200, k: 320, epilogue: 'bias+gated', partBytes: 16384 },
  { variant: 'f32', type: 'F16', m: 77, n: 200, k: 45, epilogue: 'bias+gelu' },
  { variant: 'auto', type: 'Q5_1', m: 130, n: 33, k: 96, epilogue: 'none' },
  { variant: 'baseline', type: 'Q4_0', m: 77, n: 33, k: 320, epilogue: 'bias+gelu' },
  { variant: 'baseline', type: 'BF16', m: 130, n: 33, k: 45, epilogue: 'bias' },
  { variant: 'baseline', type: 'F32', m: 77, n: 200, k: 96, epilogue: 'bias+gated' },
  { variant: 'subgroups', type: 'Q4_1', m: 130, n: 200, k: 96, epilogue: 'bias+gated', partBytes: 4096 },
  { variant: 'subgroups', type: 'F16', m: 77, n: 33, k: 320, epilogue: 'bias+gelu' },
  { variant: 'subgroups', type: 'Q5_0', m: 77, n: 200, k: 320, epilogue: 'bias' },
  { variant: 'int8', type: 'Q4_0', m: 130, n: 200, k: 320, epilogue: 'bias+gelu' },
  { variant: 'int8', type: 'Q8_0', m: 77, n: 33, k: 96, epilogue: 'bias+gated', partBytes: 1024 },
  { variant: 'int8', type: 'Q5_1', m: 77, n: 200, k: 320, epilogue: 'none' },
  { variant: 'f32', type: 'F16', m: 130, n: 200, k: 96, epilogue: 'bias+residual' },
  { variant: 'baseline', type: 'Q8_0', m: 77, n: 33, k: 96, epilogue: 'bias+multiply' },
  { variant: 'baseline', type: 'F32', m: 130, n: 33, k: 45, epilogue: 'bias+quick-gelu' },
  { variant: 'subgroups', type: 'Q8_0', m: 77, n: 200, k: 320, epilogue: 'bias+multiply' },
  { variant: 'subgroups', type: 'BF16', m: 77, n: 33, k: 96, epilogue: 'bias+quick-gelu' },
  { variant: 'int8', type: 'Q8_0', m: 130, n: 200, k: 320, epilogue: 'bias+residual' },
  { variant: 'direct', type: 'Q5_1', m: 130, n: 200, k: 320, epilogue: 'bias+gated', partBytes: 16384 },
  { variant: 'direct', type: 'BF16', m: 77, n: 33, k: 45, epilogue: 'bias+gelu' },
];

/** f32 activations: f32 sums of at most 320 products against float64 (observed below 3e-7). */
const F32_BOUND = 1e-5;

let gpu: GpuRuntime;
const ops = new Map<string, Promise<LinearOp>>();
const worstError = new Map<string, number>();

function opFor(variant: LinearVariant, type: LinearWeightType): Promise<LinearOp> {
  const key = `${variant} ${type}`;
  if (!ops.has(key)) ops.set(key, LinearOp.create(gpu, { type, variant }));
  return ops.get(key)!;
}

function noteError(variant: LinearVariant, error: number): void {
  worstError.set(variant, Math.max(worstError.get(variant) ?? 0, error));
}

beforeAll(async () => {
  gpu = await testGpu();
  // Compile everything up front: SwiftShader compiles pipelines in parallel.
  await Promise.all(MATRIX.flatMap(({ variant, types }) => types.map((type) => opFor(variant, type))));
});

afterAll(() => {
  console.log(`worst relative errors: ${[...worstError].map(([variant, error]) => `${variant} ${error.toExponential(2)}`).join(', ')}`);
});

// ---------------------------------------------------------------------------------------------
// Fixtures

interface WeightFixture {
  weight: GpuWeight;
  /** the values the kernels must multiply: W [n, k] decoded on the CPU */
  dequantized: Float32Array;
}

function weightBytes(type: LinearWeightType, values: Float32Array): Uint8Array {
  return type === 'F32' ? new Uint8Array(values.buffer) : quantize(type, values);
}

async function weightFixture(seed: number, type: LinearWeightType, n: number, k: number, partBytes?: number): Promise<WeightFixture> {
  const bytes = weightBytes(type, randomArray(seed, n * k));
  const weight = await GpuWeight.upload(gpu, `W ${type} [${n}, ${k}]`, type, n, k, bytes, partBytes);
  if (partBytes) expect(weight.parts.length).toBeGreaterThan(2);
  return { weight, dequantized: dequantize(type, bytes, n * k) };
}

/** A view of [rows, cols] at a random offset (up to several 256-byte binding windows) with a random row padding. */
function randomView(seed: number, rows: number, cols: number): { offset: number; stride: number; elements: number } {
  const offset = randomInt(seed, 0, 300);
  const stride = cols + randomInt(seed, 0, 9);
  return { offset, stride, elements: offset + Math.max(0, rows - 1) * stride + cols + randomInt(seed, 0, 5) };
}

function gather(values: ArrayLike<number>, view: { offset: number; stride: number }, rows: number, cols: number): Float64Array {
  const dense = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dense[r * cols + c] = values[view.offset + r * view.stride + c];
  return dense;
}

function concat(parts: ArrayLike<number>[]): Float64Array {
  const all = new Float64Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function insideView(index: number, view: { offset: number; stride: number }, rows: number, cols: number): boolean {
  const relative = index - view.offset;
  return relative >= 0 && relative < rows * view.stride && relative % view.stride < cols;
}

/** d·q of X as the GPU quantizes it (the int8 kernel's exact input), checked separately below. */
async function gpuQuantizedActivations(x: MatrixView, rows: number, cols: number): Promise<Float64Array> {
  const quantizer = await QuantizeActivationsOp.create(gpu);
  const layout = quantizedActivationsLayout(rows, cols);
  const out = await poisonedBuffer(gpu, 'quantized X', layout.totalWords);
  const rec = gpu.recorder('quantize activations');
  quantizer.record(rec, x, rows, cols, out);
  await rec.submit();
  const words = await gpu.memory.readU32(out);
  gpu.memory.release(out);
  const quants = new Int8Array(words.buffer, 0, rows * cols);
  const scales = new Float32Array(words.buffer, 4 * layout.scalesBase, (rows * cols) / 16);
  return Float64Array.from(quants, (q, i) => q * scales[2 * Math.floor(i / 32)]);
}

interface CaseResult {
  /** Y as computed on the GPU */
  actual: Float32Array;
  /** Y from the float64 reference */
  expected: Float64Array;
}

/**
 * Runs one call on fresh random inputs in random views, checks that nothing outside Y's view was
 * written, and returns Y with its float64 reference.
 */
async function runCase(seed: number, variant: LinearVariant, type: LinearWeightType, { m, n, k }: Shape, epilogueName: EpilogueName, partBytes?: number): Promise<CaseResult> {
  const op = await opFor(variant, type);
  const { weight, dequantized } = await weightFixture(seed, type, n, k, partBytes);
  const xView = randomView(seed, m, k);
  const yView = randomView(seed, m, n);
  // Pre-activations of order 1 as in a real layer: GELU's far negative tail underflows, where a
  // relative error would mean nothing.
  const xScale = 2 / Math.sqrt(k);
  const xValues = randomArray(seed, xView.elements, -xScale, xScale);
  const biasValues = randomArray(seed, n + 300);
  const gateValues = randomArray(seed, n + 300);
  const residual = randomArray(seed, yView.elements);
  const biasOffset = randomInt(seed, 0, 300);
  const gateOffset = randomInt(seed, 0, 300);

  const xBuffer = await gpu.memory.uploadNew('X', xValues);
  const yBuffer = await poisonedBuffer(gpu, 'Y', yView.elements);
  const biasBuffer = await gpu.memory.uploadNew('bias', biasValues);
  const gateBuffer = await gpu.memory.uploadNew('gate', gateValues);
  const x = { buffer: xBuffer, ...xView };
  const y = { buffer: yBuffer, ...yView };
  const gated = epilogueName === 'bias+gated';
  // These epilogues read Y: it starts as the residual (or the other factor).
  if (gated || epilogueName === 'bias+residual' || epilogueName === 'bias+multiply') {
    const initial = new Uint32Array(yView.elements).fill(POISON);
    const residualBits = new Uint32Array(residual.buffer);
    initial.forEach((_, i) => insideView(i, yView, m, n) && (initial[i] = residualBits[i]));
    gpu.memory.upload(yBuffer, initial);
  }
  const epilogue = gpuEpilogue(epilogueName, { buffer: gateBuffer, offset: gateOffset });
  const bias = epilogueName === 'none' ? undefined : { buffer: biasBuffer, offset: biasOffset };

  const rec = gpu.recorder(`linear ${variant} ${type}`);
  op.record(rec, { x, weight, y, rows: m, bias, epilogue });
  await rec.submit();
  const [outputBits, activations] = await Promise.all([
    gpu.memory.readU32(yBuffer),
    variant === 'int8' ? gpuQuantizedActivations(x, m, k) : gather(xValues, xView, m, k),
  ]);

  const referenceEpilogue = epilogueReference(epilogueName, gateValues.subarray(gateOffset, gateOffset + n), gather(residual, yView, m, n));
  const expected = linearReference({ x: activations, weight: dequantized, rows: m, cols: n, depth: k, bias: bias && biasValues.subarray(biasOffset, biasOffset + n), epilogue: referenceEpilogue });
  const untouched = outputBits.every((bits, i) => insideView(i, yView, m, n) || bits === POISON);
  [xBuffer, yBuffer, biasBuffer, gateBuffer].forEach((buffer) => gpu.memory.release(buffer));
  weight.release();
  expect(untouched, 'a kernel wrote outside Y').toBe(true);
  return { actual: Float32Array.from(gather(new Float32Array(outputBits.buffer), yView, m, n)), expected };
}

function gpuEpilogue(name: EpilogueName, gate: VectorView): LinearEpilogue {
  switch (name) {
    case 'bias+gelu':
      return { kind: 'gelu-tanh' };
    case 'bias+quick-gelu':
      return { kind: 'quick-gelu' };
    case 'bias+gated':
      return { kind: 'gated-residual', gate };
    case 'bias+residual':
      return { kind: 'residual' };
    case 'bias+multiply':
      return { kind: 'multiply' };
    default:
      return { kind: 'none' };
  }
}

/** The reference epilogue; `initial` is Y's content before the call (residual or factor). */
function epilogueReference(name: EpilogueName, gate: Float32Array, initial: Float64Array): LinearReferenceEpilogue {
  switch (name) {
    case 'bias+gelu':
      return { kind: 'gelu-tanh' };
    case 'bias+quick-gelu':
      return { kind: 'quick-gelu' };
    case 'bias+gated':
      return { kind: 'gated-residual', gate, residual: initial };
    case 'bias+residual':
      return { kind: 'residual', residual: initial };
    case 'bias+multiply':
      return { kind: 'multiply', factor: initial };
    default:
      return { kind: 'none' };
  }
}

async function caseError(...args: Parameters<typeof runCase>): Promise<number> {
  const { actual, expected } = await runCase(...args);
  return relativeError(actual, expected);
}

// ---------------------------------------------------------------------------------------------
// Correctness of every variant

describe('linear: every type x epilogue x variant on small awkward shapes', () => {
  const cases = MATRIX.flatMap(({ variant, types }) => types.map((type) => ({ variant, type })));
  it.each(cases)('$variant $type', async ({ variant, type }) => {
    const seed = freshSeed(`linear ${variant} ${type}`);
    const results: CaseResult[] = [];
    for (const shape of smallShapes(type)) {
      for (const epilogue of EPILOGUES) results.push(await runCase(seed, variant, type, shape, epilogue));
    }
    // Judged over all outputs of the sweep together: a one-element output's relative error is
    // its own conditioning (a sum that cancels to near 0), while any wrong element still shows
    // (one would weigh in at ~1e-2). int8: exact up to f32 rounding against the activations as
    // the GPU quantized them.
    const error = relativeError(concat(results.map((r) => r.actual)), concat(results.map((r) => r.expected)));
    noteError(variant, error);
    expect(error).toBeLessThan(F32_BOUND);
  });
});

describe('linear: larger shapes', () => {
  it.each(LARGE_CASES)('$variant $type M=$m N=$n K=$k $epilogue', async ({ variant, type, epilogue, partBytes, ...shape }) => {
    const error = await caseError(freshSeed(`linear ${variant} ${type} large`), variant, type, shape, epilogue, partBytes);
    noteError(variant, error);
    expect(error).toBeLessThan(F32_BOUND);
  });
});

describe('linear: kernel choice', () => {
  it("'auto' takes the direct kernel on this software adapter, for every number of rows", async () => {
    // (On a hardware adapter: the subgroup kernel for few rows and the f32 register tile
    // otherwise, which test/unit/linear-config.test.ts checks.)
    expect(gpu.report.isSoftware).toBe(true);
    const op = await opFor('auto', 'Q5_1');
    expect([op.kernelFor(1).kind, op.kernelFor(77).kind]).toEqual(['direct', 'direct']);
  });

  it('refuses variants this adapter lacks, with a typed error', async () => {
    if (!gpu.features.has('shader-f16')) {
      await expect(LinearOp.create(gpu, { type: 'Q4_0', variant: 'f16' })).rejects.toThrow(/shader-f16/);
    }
    await expect(LinearOp.create(gpu, { type: 'F16', variant: 'int8' })).rejects.toBeInstanceOf(EngineError);
  });
});

// ---------------------------------------------------------------------------------------------
// The int8 path: activation quantization, and its error against unquantized activations

describe('linear int8: activation quantization', () => {
  it('matches the float64 quantizer: d bit for bit, q within rounding of x / d, d·Σq exact', async () => {
    const seed = freshSeed('quantize activations');
    const [m, k] = [77, 320];
    const view = randomView(seed, m, k);
    // Rows of very different magnitudes, and one all-zero block.
    const values = randomArray(seed, view.elements).map((v, i) => v * 10 ** ((i % 7) - 3));
    values.fill(0, view.offset, view.offset + 32);
    const xBuffer = await gpu.memory.uploadNew('X', values);
    const quantizer = await QuantizeActivationsOp.create(gpu);
    const layout = quantizedActivationsLayout(m, k);
    const out = await poisonedBuffer(gpu, 'quantized X', layout.totalWords);
    const rec = gpu.recorder('quantize activations');
    quantizer.record(rec, { buffer: xBuffer, offset: view.offset, stride: view.stride }, m, k, out);
    await rec.submit();
    const words = await gpu.memory.readU32(out);
    const quants = new Int8Array(words.buffer, 0, m * k);
    const pairs = new Float32Array(words.buffer, 4 * layout.scalesBase, (m * k) / 16);
    const x = gather(values, view, m, k);
    const reference = quantizeActivationsReference(x, m, k);
    for (let block = 0; block < (m * k) / 32; block++) {
      const d = pairs[2 * block];
      expect(d).toBe(reference.scales[block]);
      let sum = 0;
      for (let i = 32 * block; i < 32 * block + 32; i++) {
        sum += quants[i];
        // The GPU divides through an approximate reciprocal: near ties q may round the other way.
        const exact = d > 0 ? x[i] / d : 0;
        expect(Math.abs(quants[i] - exact)).toBeLessThanOrEqual(0.5 + 1e-4);
      }
      expect(pairs[2 * block + 1]).toBe(Math.fround(d * sum));
    }
    const mismatches = quants.filter((q, i) => q !== reference.quants[i]).length;
    expect(mismatches).toBeLessThan(m * k * 1e-3);
    [xBuffer, out].forEach((buffer) => gpu.memory.release(buffer));
  });

  it('reports its error against the CPU-quantized and the unquantized float64 references', async () => {
    const seed = freshSeed('int8 error');
    const [m, n, k] = [130, 200, 320];
    const { weight, dequantized } = await weightFixture(seed, 'Q4_0', n, k);
    const x = randomArray(seed, m * k);
    const xBuffer = await gpu.memory.uploadNew('X', x);
    const yBuffer = await poisonedBuffer(gpu, 'Y', m * n);
    const op = await opFor('int8', 'Q4_0');
    const rec = gpu.recorder('int8 error');
    op.record(rec, { x: { buffer: xBuffer, offset: 0, stride: k }, weight, y: { buffer: yBuffer, offset: 0, stride: n }, rows: m });
    await rec.submit();
    const result = await gpu.memory.readF32(yBuffer);
    const cpuQuantized = linearReference({ x: quantizeActivationsReference(x, m, k).values, weight: dequantized, rows: m, cols: n, depth: k });
    const unquantized = linearReference({ x, weight: dequantized, rows: m, cols: n, depth: k });
    const [againstQuantized, againstUnquantized] = [relativeError(result, cpuQuantized), relativeError(result, unquantized)];
    console.log(`int8 activations, uniform X: ${againstQuantized.toExponential(2)} against the CPU-quantized reference, ${againstUnquantized.toExponential(2)} against unquantized X`);
    // Only q flipping at near-ties (a handful per run here, ~7e-5 each) separates the GPU from
    // the CPU quantizer.
    expect(againstQuantized).toBeLessThan(1e-3);
    // Rounding to 1/127 of each block's largest |x|: about 0.4% RMS for uniform X.
    expect(againstUnquantized).toBeLessThan(1e-2);
    [xBuffer, yBuffer].forEach((buffer) => gpu.memory.release(buffer));
    weight.release();
  });
});

describe('linear int8: activations quantized once, read by several layers', () => {
  it('reads given quants, also rows of a larger quantized matrix, exactly as it reads its own quantization', async () => {
    const seed = freshSeed('int8 given quants');
    const [m, n, k, first] = [70, 33, 96, 19];
    const { weight } = await weightFixture(seed, 'Q8_0', n, k);
    const x = randomArray(seed, m * k);
    const layout = quantizedActivationsLayout(m, k);
    const [xBuffer, quantized, own, given] = await Promise.all([
      gpu.memory.uploadNew('X', x), poisonedBuffer(gpu, 'quantized X', layout.totalWords), poisonedBuffer(gpu, 'Y own', (m - first) * n), poisonedBuffer(gpu, 'Y given', (m - first) * n),
    ]);
    const op = await opFor('int8', 'Q8_0');
    const quantizer = await QuantizeActivationsOp.create(gpu);
    const rows = m - first;
    const rec = gpu.recorder('int8 given quants');
    quantizer.record(rec, { buffer: xBuffer, offset: 0, stride: k }, m, k, quantized);
    op.record(rec, { x: { buffer: xBuffer, offset: first * k, stride: k }, weight, y: { buffer: own, offset: 0, stride: n }, rows });
    op.record(rec, { x: quantizedRows({ buffer: quantized, rows: m, cols: k, firstRow: 0, layoutRows: m }, first, rows), weight, y: { buffer: given, offset: 0, stride: n }, rows });
    await rec.submit();
    const [ownBits, givenBits] = await Promise.all([gpu.memory.readU32(own), gpu.memory.readU32(given)]);
    expect(givenBits).toEqual(ownBits);
    expect(ownBits.every((bits) => bits !== POISON)).toBe(true);
    const f32Op = await opFor('baseline', 'Q8_0');
    expect(() => f32Op.record(gpu.recorder('f32'), { x: { buffer: quantized, rows: m, cols: k, firstRow: 0, layoutRows: m }, weight, y: { buffer: own, offset: 0, stride: n }, rows: m })).toThrowError(/need the int8 variant/);
    [xBuffer, quantized, own, given].forEach((buffer) => gpu.memory.release(buffer));
    weight.release();
  });
});

// ---------------------------------------------------------------------------------------------
// Determinism, weight upload, validation

describe('linear: determinism', () => {
  it.each(['f32', 'subgroups', 'int8'] as const)('%s gives identical bits on every run', async (variant) => {
    const seed = freshSeed(`determinism ${variant}`);
    const type = variant === 'f32' ? 'Q5_1' : variant === 'int8' ? 'Q4_0' : 'Q8_0';
    const [m, n, k] = [variant === 'subgroups' ? 3 : 77, 200, 320];
    const { weight } = await weightFixture(seed, type, n, k);
    const xBuffer = await gpu.memory.uploadNew('X', randomArray(seed, m * k));
    const op = await opFor(variant, type);
    const runs: Uint32Array[] = [];
    for (let run = 0; run < 3; run++) {
      const yBuffer = await poisonedBuffer(gpu, 'Y', m * n);
      const rec = gpu.recorder('determinism');
      op.record(rec, { x: { buffer: xBuffer, offset: 0, stride: k }, weight, y: { buffer: yBuffer, offset: 0, stride: n }, rows: m });
      await rec.submit();
      runs.push(await gpu.memory.readU32(yBuffer));
      gpu.memory.release(yBuffer);
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    gpu.memory.release(xBuffer);
    weight.release();
  });
});

describe('weights', () => {
  it.each(['Q5_0', 'BF16'] as const)('%s rows written in uneven chunks across parts give the same results as the reference', async (type) => {
    const seed = freshSeed(`chunked upload ${type}`);
    const [m, n, k] = [7, 33, type === 'BF16' ? 45 : 96];
    const values = randomArray(seed, n * k);
    const bytes = weightBytes(type, values);
    const rowBytes = bytes.byteLength / n;
    const weight = await GpuWeight.create(gpu, `chunked ${type}`, type, n, k, 1024);
    expect(weight.parts.length).toBeGreaterThan(2);
    // Out of order, uneven, across part boundaries: rows 20..32, 0..4, 5, 6..19.
    for (const [first, end] of [[20, 33], [0, 5], [5, 6], [6, 20]]) weight.writeRows(first, bytes.subarray(first * rowBytes, end * rowBytes));
    const x = randomArray(seed, m * k);
    const xBuffer = await gpu.memory.uploadNew('X', x);
    const yBuffer = await poisonedBuffer(gpu, 'Y', m * n);
    const rec = gpu.recorder('chunked');
    (await opFor('baseline', type)).record(rec, { x: { buffer: xBuffer, offset: 0, stride: k }, weight, y: { buffer: yBuffer, offset: 0, stride: n }, rows: m });
    await rec.submit();
    const expected = linearReference({ x, weight: dequantize(type, bytes, n * k), rows: m, cols: n, depth: k });
    expect(relativeError(await gpu.memory.readF32(yBuffer), expected)).toBeLessThan(F32_BOUND);
    [xBuffer, yBuffer].forEach((buffer) => gpu.memory.release(buffer));
    weight.release();
  });

  it('rejects partial rows, rows past the end, K-quants and blockless shapes', async () => {
    const weight = await GpuWeight.create(gpu, 'W', 'Q4_0', 4, 64);
    expect(() => weight.writeRows(0, new Uint8Array(36 + 1))).toThrow(/not whole rows/);
    expect(() => weight.writeRows(3, new Uint8Array(2 * 36))).toThrow(/not whole rows/);
    weight.release();
    await expect(GpuWeight.create(gpu, 'W', 'Q4_K', 4, 256)).rejects.toThrow(/Q4_K/);
    await expect(GpuWeight.create(gpu, 'W', 'Q8_0', 4, 48)).rejects.toThrow(/not valid for Q8_0/);
  });

  it.each(['F32', 'F16', 'BF16'] as const)('uploadVector converts %s to f32', async (type) => {
    const values = randomArray(freshSeed(`vector ${type}`), 19, -100, 100);
    const bytes = weightBytes(type, values);
    const buffer = await uploadVector(gpu, 'bias', type, bytes, 19);
    expect(await gpu.memory.readF32(buffer)).toEqual(dequantize(type, bytes, 19));
    gpu.memory.release(buffer);
  });
});

describe('linear: call validation', () => {
  it('rejects views that run past their buffers and weights of another type, with typed errors', async () => {
    const op = await opFor('baseline', 'F16');
    const weight = await GpuWeight.create(gpu, 'W', 'F16', 8, 16);
    const other = await GpuWeight.create(gpu, 'W', 'Q8_0', 8, 32);
    const xBuffer = await poisonedBuffer(gpu, 'X', 4 * 16);
    const yBuffer = await poisonedBuffer(gpu, 'Y', 4 * 8);
    const call = { x: { buffer: xBuffer, offset: 0, stride: 16 }, weight, y: { buffer: yBuffer, offset: 0, stride: 8 }, rows: 4 };
    const rec = gpu.recorder('validation');
    expect(() => op.record(rec, { ...call, rows: 5 })).toThrow(/X \[5, 16\].*runs past/);
    expect(() => op.record(rec, { ...call, y: { ...call.y, stride: 7 } })).toThrow(/Y has stride 7/);
    expect(() => op.record(rec, { ...call, bias: { buffer: yBuffer, offset: 30 } })).toThrow(/bias \[8\]/);
    expect(() => op.record(rec, { ...call, weight: other })).toThrow(EngineError);
    [xBuffer, yBuffer].forEach((buffer) => gpu.memory.release(buffer));
    weight.release();
    other.release();
  });
});

// ---------------------------------------------------------------------------------------------
// Variants that cannot run here

describe('linear: shader-f16 variant', () => {
  it('matches the reference where the adapter has shader-f16', async (context) => {
    // Skipped on SwiftShader and on Dawn + NVIDIA, which lack shader-f16.
    if (!gpu.features.has('shader-f16')) context.skip();
    const seed = freshSeed('f16 variant');
    for (const type of ['F16', 'Q4_0'] as const) {
      const error = await caseError(seed, 'f16', type, { m: 77, n: 200, k: 96 }, 'bias+gelu');
      // X and the dequantized W are rounded to f16 (2^-11 relative) in the workgroup tiles.
      expect(error).toBeLessThan(3e-3);
    }
  });

  it('compiles every variant and type, the f16 one and the small-memory tile shapes included, on Dawn\'s null backend', async () => {
    // The null backend validates WGSL and creates pipelines without running them; it reports
    // shader-f16 and 16 KiB of workgroup memory, so the fallback tile shapes get chosen.
    const nullGpu = await GpuRuntime.open(create(['backend=null']));
    try {
      expect(nullGpu.features.has('shader-f16')).toBe(true);
      const variants: LinearVariant[] = ['auto', 'f32', 'subgroups', 'f16', 'baseline'];
      await Promise.all(ALL_TYPES.flatMap((type) => [...variants, ...(QUANT_TYPES.includes(type) ? ['int8' as const] : [])].map((variant) => LinearOp.create(nullGpu, { type, variant }))));
    } finally {
      nullGpu.destroy();
    }
  });
});
