import { describe, expect, it } from 'vitest';
import { dequantize, quantize } from '../../src/engine/formats/ggml-blocks';
import { EmbeddingOp } from '../../src/engine/ops/embedding';
import { GpuWeight, type LinearWeightType } from '../../src/engine/ops/weights';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { readF32, run, testGpu, upload } from './harness';
import { changedOutside, embed, extract, type Layout } from './view-layout';

const TYPES: LinearWeightType[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'];

interface Case {
  rows: number;
  cols: number;
  tokens: number;
  /** bytes per part of the table: several parts when small */
  partBytes?: number;
}

const CASES: Case[] = [
  { rows: 1, cols: 32, tokens: 1 },
  { rows: 300, cols: 96, tokens: 77 },
  { rows: 257, cols: 160, tokens: 130, partBytes: 4096 },
];

/**
 * Gathers random ids (repeats, the first and last row, and ids past the table included) out of
 * a table in `type` and compares with the CPU decoder: exactly, because decoding is exact in f32
 * (f16/bf16 widen exactly, q·d of an int8 and an f16 is exact, q·d + m rounds once on both sides),
 * except for the sign of zero (the GPU adds m = +0 to the _0 types' −0).
 */
async function gatherCase(type: LinearWeightType, c: Case): Promise<void> {
  const gpu = await testGpu();
  const seed = freshSeed(`embedding ${type} ${c.rows}x${c.cols}`);
  const cols = type === 'F32' || type === 'F16' || type === 'BF16' ? c.cols + 13 : c.cols;
  const bytes = quantize(type, randomArray(seed, c.rows * cols, -4, 4));
  const table = await GpuWeight.upload(gpu, `table ${type}`, type, c.rows, cols, bytes, c.partBytes);
  if (c.partBytes) expect(table.parts.length).toBeGreaterThan(2);
  const ids = Uint32Array.from({ length: c.tokens }, (_, t) => (t === 0 ? c.rows - 1 : t % 17 === 5 ? c.rows + t : randomInt(seed, 0, c.rows - 1)));
  const output: Layout = { rows: c.tokens, cols, offset: 11, stride: cols + 5 };
  const [idsBuffer, outputBuffer] = await Promise.all([upload(gpu, 'ids', Uint32Array.from([9, 9, ...ids])), upload(gpu, 'rows', embed([], output))]);
  const op = await EmbeddingOp.create(gpu, { type });
  await run(gpu, 'gather', (rec) => op.record(rec, { table, ids: { buffer: idsBuffer, offset: 2 }, tokens: c.tokens, output: { buffer: outputBuffer, ...output } }));
  const result = await readF32(gpu, outputBuffer);
  const decoded = dequantize(type, bytes, c.rows * cols);
  const expected = new Float32Array(c.tokens * cols);
  ids.forEach((id, t) => id < c.rows && expected.set(decoded.subarray(id * cols, (id + 1) * cols), t * cols));
  const unsignedZeros = (values: Float32Array) => Array.from(values, (value) => value + 0);
  expect(unsignedZeros(extract(result, output))).toEqual(unsignedZeros(expected));
  expect(changedOutside(embed([], output), result, output)).toEqual([]);
  table.release();
}

describe('embedding gather (shaders/embedding.wgsl)', () => {
  it.each(TYPES)('gathers %s rows exactly as the CPU decodes them, one-part and split tables', async (type) => {
    for (const c of CASES) await gatherCase(type, c);
  });

  it('refuses a table of another type and an output in the ids buffer', async () => {
    const gpu = await testGpu();
    const op = await EmbeddingOp.create(gpu, { type: 'F16' });
    const table = await GpuWeight.create(gpu, 'table', 'Q8_0', 4, 32);
    const buffer = await upload(gpu, 'ids and rows', new Uint32Array(64));
    const rec = gpu.recorder('checks');
    expect(() => op.record(rec, { table, ids: { buffer, offset: 0 }, tokens: 1, output: { buffer, offset: 32, stride: 32 } })).toThrowError(/F16/);
    const f16 = await GpuWeight.create(gpu, 'table', 'F16', 4, 32);
    expect(() => op.record(rec, { table: f16, ids: { buffer, offset: 0 }, tokens: 1, output: { buffer, offset: 32, stride: 32 } })).toThrowError(expect.objectContaining({ code: 'invalid-input' }));
    [table, f16].forEach((weight) => weight.release());
  });
});
