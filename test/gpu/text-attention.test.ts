import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { ForegroundMaskOp, HEAD_DIM, TextAttentionScoresOp } from '../../src/engine/ops/text-attention';
import { relativeError } from '../../src/engine/reference/compare';
import { foregroundMaskReference, textAttentionScores, type TextAttentionShape } from '../../src/engine/reference/text-attention';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, readF32, readU32, run, testGpu } from './harness';
import { uploadPlaced } from './token-fixtures';

interface Case {
  imageTokens: number;
  heads: number;
  realLen: number;
  bgLen: number;
  blocks: number;
  /** spread of q and k entries: large values make the unscaled softmax sharply peaked */
  scale: number;
}

// Awkward token counts around the 64-token tile; key counts below, across and past several
// 64-key tiles; both empty-range cases and an empty prompt.
const CASES: Case[] = [
  { imageTokens: 77, heads: 2, realLen: 70, bgLen: 22, blocks: 3, scale: 1 },
  { imageTokens: 1, heads: 1, realLen: 1, bgLen: 0, blocks: 1, scale: 1 },
  { imageTokens: 65, heads: 3, realLen: 5, bgLen: 5, blocks: 2, scale: 1 },
  { imageTokens: 150, heads: 2, realLen: 130, bgLen: 0, blocks: 2, scale: 1 },
  { imageTokens: 143, heads: 1, realLen: 200, bgLen: 57, blocks: 2, scale: 3 },
  { imageTokens: 64, heads: 2, realLen: 64, bgLen: 63, blocks: 1, scale: 0.3 },
  { imageTokens: 13, heads: 2, realLen: 0, bgLen: 0, blocks: 2, scale: 1 },
];

interface BlockInputs {
  queries: Float32Array;
  keys: Float32Array;
  /** text key rows (>= realLen, as real prompts are padded to 512) */
  keyRows: number;
}

function randomBlock(seed: number, c: Case): BlockInputs {
  const width = c.heads * HEAD_DIM;
  const keyRows = c.realLen + 3;
  return { queries: randomArray(seed, c.imageTokens * width, -c.scale, c.scale), keys: randomArray(seed, keyRows * width, -c.scale, c.scale), keyRows };
}

/** Runs every block through TextAttentionScoresOp into one sum buffer, then ForegroundMaskOp. */
async function runGpu(gpu: GpuRuntime, seed: number, c: Case, blocks: BlockInputs[]): Promise<{ sums: Float32Array; mask: Uint32Array }> {
  const [scores, maskOp] = await Promise.all([TextAttentionScoresOp.create(gpu), ForegroundMaskOp.create(gpu)]);
  const width = c.heads * HEAD_DIM;
  const scoreSums = await poisonedBuffer(gpu, 'score sums', 2 * c.imageTokens);
  const mask = await poisonedBuffer(gpu, 'mask', c.imageTokens);
  const views = await Promise.all(
    blocks.map(async (block) => ({
      queries: (await uploadPlaced(gpu, 'queries', seed, block.queries, c.imageTokens, width)).view,
      keys: (await uploadPlaced(gpu, 'keys', seed, block.keys, block.keyRows, width)).view,
    })),
  );
  await run(gpu, 'text attention', (rec) => {
    views.forEach((view, b) => scores.record(rec, { ...view, ...c, scoreSums, firstBlock: b === 0 }));
    maskOp.record(rec, scoreSums, mask, c.imageTokens);
  });
  return { sums: await readF32(gpu, scoreSums), mask: await readU32(gpu, mask) };
}

function referenceSums(c: Case, blocks: BlockInputs[]): { background: Float64Array; foreground: Float64Array } {
  const shape: TextAttentionShape = { ...c, headDim: HEAD_DIM };
  const background = new Float64Array(c.imageTokens);
  const foreground = new Float64Array(c.imageTokens);
  for (const block of blocks) {
    const scores = textAttentionScores(block.queries, block.keys, shape);
    scores.background.forEach((value, i) => (background[i] += value));
    scores.foreground.forEach((value, i) => (foreground[i] += value));
  }
  return { background, foreground };
}

const interleave = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from({ length: 2 * a.length }, (_, i) => (i % 2 ? b : a)[i >> 1]);

describe('text-attention scores and foreground mask (shaders/text-attention.wgsl)', () => {
  it.each(CASES)('matches the float64 reference: %o', async (c) => {
    const gpu = await testGpu();
    const seed = freshSeed(`text attention ${JSON.stringify(c)}`);
    const blocks = Array.from({ length: c.blocks }, () => randomBlock(seed, c));
    const gpuResult = await runGpu(gpu, seed, c, blocks);
    const reference = referenceSums(c, blocks);

    // f32 logits (128-term fma chains) and exp: the error grows with the logits' size, here
    // |logit| <= 128 * scale², and stays near 1e-6.
    expect(relativeError(gpuResult.sums, interleave(reference.background, reference.foreground))).toBeLessThan(1e-5);

    // The mask is compared exactly wherever float64 separates the two scores by more than the
    // f32 error (or ties them exactly, as empty ranges do); nearer ties may round either way and
    // say nothing about the kernel.
    const expected = foregroundMaskReference(reference.background, reference.foreground, c.blocks);
    const compared = Array.from(expected.keys()).filter((i) => {
      const gap = Math.abs(reference.background[i] - reference.foreground[i]);
      return gap === 0 || gap > 1e-4 * Math.max(reference.background[i], reference.foreground[i]);
    });
    expect(compared.length).toBeGreaterThanOrEqual(0.9 * c.imageTokens);
    expect(compared.map((i) => gpuResult.mask[i])).toEqual(compared.map((i) => expected[i]));
  });

  it('defines empty ranges: no background prompt -> all foreground, no foreground prompt -> all background', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('text attention empty ranges');
    const base = { imageTokens: 70, heads: 2, realLen: 9, blocks: 1, scale: 1 };
    for (const [bgLen, expected] of [[0, 1], [9, 0]]) {
      const c = { ...base, bgLen };
      const { sums, mask } = await runGpu(gpu, seed, c, [randomBlock(seed, c)]);
      expect(sums.every(Number.isFinite)).toBe(true);
      expect([...new Set(mask)]).toEqual([expected]);
    }
  });

  it('is bit-for-bit deterministic', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('text attention determinism');
    const c = CASES[0];
    const blocks = Array.from({ length: c.blocks }, () => randomBlock(seed, c));
    const first = await runGpu(gpu, seed, c, blocks);
    const second = await runGpu(gpu, seed, c, blocks);
    expect(new Uint32Array(second.sums.buffer)).toEqual(new Uint32Array(first.sums.buffer));
  });

  it('rejects a background range longer than the prompt', async () => {
    const gpu = await testGpu();
    const scores = await TextAttentionScoresOp.create(gpu);
    const buffer = await poisonedBuffer(gpu, 'anything', 4096);
    const view = { buffer, offset: 0, stride: HEAD_DIM };
    const rec = gpu.recorder('bad text attention');
    expect(() => scores.record(rec, { queries: view, keys: view, imageTokens: 4, heads: 1, realLen: 5, bgLen: 6, scoreSums: buffer, firstBlock: true })).toThrow(
      expect.objectContaining({ code: 'invalid-input' }),
    );
  });
});

describe('foreground mask (shaders/text-attention.wgsl)', () => {
  it('sends ties to the foreground and compares every token exactly', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('foreground mask ties');
    const tokens = 1000;
    const background = randomArray(seed, tokens, 0, 2);
    const foreground = randomArray(seed, tokens, 0, 2);
    // Every third token an exact tie; a few exact zeros, as empty ranges produce.
    for (let i = 0; i < tokens; i += 3) foreground[i] = background[i];
    for (let i = 1; i < tokens; i += 97) background[i] = foreground[i] = 0;
    const op = await ForegroundMaskOp.create(gpu);
    const sums = await gpu.memory.uploadNew('score sums', new Float32Array(interleave(background, foreground)));
    const mask = await poisonedBuffer(gpu, 'mask', tokens);
    await run(gpu, 'foreground mask', (rec) => op.record(rec, sums, mask, tokens));
    expect(await readU32(gpu, mask)).toEqual(foregroundMaskReference(background, foreground, 7));
  });
});
