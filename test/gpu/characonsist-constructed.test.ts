// CharaConsist's statistics ops on inputs built so the right answer is known by construction,
// not by a reference: a frame that is a translated copy of the identity (point matching), image
// regions planted to attend to background or foreground prompt tokens (mask), and hand-worked
// morphology cases on the grid border.

import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { MaskCleanupOp, MorphologyOp, type TokenGrid } from '../../src/engine/ops/morphology';
import { BestMatchOp, CosineSimilarityOp, MATCH_THRESHOLD, ValidMatchOp } from '../../src/engine/ops/similarity';
import { ForegroundMaskOp, HEAD_DIM, TextAttentionScoresOp } from '../../src/engine/ops/text-attention';
import { erodeReference, maskCleanupReference } from '../../src/engine/reference/morphology';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { poisonedBuffer, readF32, readU32, run, testGpu } from './harness';
import { mismatches, uploadPlaced } from './token-fixtures';

const tokenAt = (grid: TokenGrid, row: number, col: number) => row * grid.cols + col;
const inside = (grid: TokenGrid, row: number, col: number) => row >= 0 && row < grid.rows && col >= 0 && col < grid.cols;

describe('point matching of a translated frame (CosineSimilarityOp + BestMatchOp + ValidMatchOp)', () => {
  // Grids of different sizes, token counts across the 64-token tile, channels not a multiple of 16.
  const IDENTITY: TokenGrid = { rows: 9, cols: 11 };
  const FRAME: TokenGrid = { rows: 7, cols: 10 };
  const CHANNELS = 200;
  const BLOCKS = 2;
  /** Spread of the noise added to the copied rows (rows have entries in [-1, 1]). */
  const COPY_NOISE = 0.05;

  /** Frame token (r, c) copies identity token (r + dr, c + dc) where that exists; other frame tokens are random. */
  function translatedBlock(seed: number, shift: { rows: number; cols: number }): { identity: Float32Array; frame: Float32Array } {
    const identity = randomArray(seed, IDENTITY.rows * IDENTITY.cols * CHANNELS);
    const frame = randomArray(seed, FRAME.rows * FRAME.cols * CHANNELS);
    const noise = randomArray(seed, frame.length, -COPY_NOISE, COPY_NOISE);
    for (let row = 0; row < FRAME.rows; row++) {
      for (let col = 0; col < FRAME.cols; col++) {
        if (!inside(IDENTITY, row + shift.rows, col + shift.cols)) continue;
        const from = tokenAt(IDENTITY, row + shift.rows, col + shift.cols) * CHANNELS;
        const to = tokenAt(FRAME, row, col) * CHANNELS;
        for (let c = 0; c < CHANNELS; c++) frame[to + c] = identity[from + c] + noise[to + c];
      }
    }
    return { identity, frame };
  }

  it('recovers the translation exactly where it is defined, and validates only there', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('constructed translation');
    const shift = { rows: randomInt(seed, -3, 3), cols: randomInt(seed, -3, 3) };
    const blocks = Array.from({ length: BLOCKS }, () => translatedBlock(seed, shift));
    const frameTokens = FRAME.rows * FRAME.cols;
    const identityTokens = IDENTITY.rows * IDENTITY.cols;
    const { bestMatch, bestSimilarity, valid } = await matchOnGpu(gpu, seed, blocks, frameTokens, identityTokens);

    const expected = Array.from({ length: frameTokens }, (_, token) => {
      const [row, col] = [Math.floor(token / FRAME.cols) + shift.rows, (token % FRAME.cols) + shift.cols];
      return inside(IDENTITY, row, col) ? tokenAt(IDENTITY, row, col) : undefined;
    });
    const defined = expected.flatMap((match, token) => (match === undefined ? [] : [token]));
    expect(defined.length).toBeGreaterThan(0);
    expect(defined.map((token) => bestMatch[token])).toEqual(defined.map((token) => expected[token]));
    // A copy with 5% noise keeps a cosine near 1; random 200-channel rows stay far below 0.5.
    expect(defined.every((token) => bestSimilarity[token] > 0.95)).toBe(true);
    expect(Array.from(valid)).toEqual(expected.map((match) => Number(match !== undefined)));
  });

  async function matchOnGpu(gpu: GpuRuntime, seed: number, blocks: { identity: Float32Array; frame: Float32Array }[], frameTokens: number, identityTokens: number) {
    const [similarity, best, validOp] = await Promise.all([CosineSimilarityOp.create(gpu), BestMatchOp.create(gpu), ValidMatchOp.create(gpu)]);
    const views = await Promise.all(
      blocks.map(async (block) => ({
        frame: (await uploadPlaced(gpu, 'frame attention', seed, block.frame, frameTokens, CHANNELS)).view,
        identity: (await uploadPlaced(gpu, 'identity attention', seed, block.identity, identityTokens, CHANNELS)).view,
      })),
    );
    const similaritySums = await poisonedBuffer(gpu, 'similarity sums', frameTokens * identityTokens);
    const bestSimilarity = await poisonedBuffer(gpu, 'best similarity', frameTokens);
    const bestMatch = await poisonedBuffer(gpu, 'best match', frameTokens);
    const valid = await poisonedBuffer(gpu, 'valid', frameTokens);
    // Every token foreground: validity then rests on the similarity alone.
    const frameForeground = await gpu.memory.uploadNew('frame mask', new Uint32Array(frameTokens).fill(1));
    const identityForeground = await gpu.memory.uploadNew('identity mask', new Uint32Array(identityTokens).fill(1));
    await run(gpu, 'translated matching', (rec) => {
      views.forEach((view, b) => similarity.record(rec, { ...view, frameTokens, identityTokens, channels: CHANNELS, similaritySums, firstBlock: b === 0 }));
      best.record(rec, { similaritySums, frameTokens, identityTokens, blocks: blocks.length, bestSimilarity, bestMatch });
      validOp.record(rec, { frameForeground, identityForeground, bestSimilarity, bestMatch, frameTokens, identityTokens, threshold: MATCH_THRESHOLD, valid });
    });
    return { bestMatch: await readU32(gpu, bestMatch), bestSimilarity: await readF32(gpu, bestSimilarity), valid: await readU32(gpu, valid) };
  }
});

describe('foreground mask of planted text attention (TextAttentionScoresOp + ForegroundMaskOp + MaskCleanupOp)', () => {
  const GRID: TokenGrid = { rows: 9, cols: 13 };
  const HEADS = 2;
  const BLOCKS = 2;
  const PROMPT = { bgLen: 6, realLen: 14 };
  /** EOS and padding rows after the prompt. */
  const PADDING = 3;
  /** Length of the planted query and key directions: unscaled logits of 9 against about 0. */
  const STRENGTH = 3;
  const NOISE = 0.02;
  /** Foreground: rows 2..6, cols 3..9, with a one-token hole; one stray foreground token elsewhere. */
  const HOLE = [4, 6];
  const STRAY = [0, 12];

  function plantedMask(): Uint32Array {
    return Uint32Array.from({ length: GRID.rows * GRID.cols }, (_, token) => {
      const [row, col] = [Math.floor(token / GRID.cols), token % GRID.cols];
      const inRegion = row >= 2 && row <= 6 && col >= 3 && col <= 9 && !(row === HOLE[0] && col === HOLE[1]);
      return Number(inRegion || (row === STRAY[0] && col === STRAY[1]));
    });
  }

  /** Two orthonormal directions per head: one the background prompt tokens lie along, one the foreground. */
  function directions(seed: number): { background: Float64Array; foreground: Float64Array }[] {
    return Array.from({ length: HEADS }, () => {
      const background = unit(Float64Array.from(randomArray(seed, HEAD_DIM)));
      const raw = Float64Array.from(randomArray(seed, HEAD_DIM));
      const along = raw.reduce((dot, value, d) => dot + value * background[d], 0);
      return { background, foreground: unit(raw.map((value, d) => value - along * background[d])) };
    });
  }

  /**
   * Rows [count, heads * 128], row i along the direction `pick(i)` of each head, plus noise.
   * Padding keys lie along the background direction at twice the strength: a kernel that let
   * them into the softmax or into the foreground range would see the background region turn
   * foreground.
   */
  function plantedRows(seed: number, count: number, heads: ReturnType<typeof directions>, pick: (row: number) => 'background' | 'foreground', strength: (row: number) => number): Float32Array {
    const noise = randomArray(seed, count * HEADS * HEAD_DIM, -NOISE, NOISE);
    return noise.map((value, at) => {
      const row = Math.floor(at / (HEADS * HEAD_DIM));
      const head = Math.floor(at / HEAD_DIM) % HEADS;
      return value + strength(row) * heads[head][pick(row)][at % HEAD_DIM];
    });
  }

  it('recovers the planted region, and the clean-up removes the stray token and fills the hole', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('constructed text attention');
    const imageTokens = GRID.rows * GRID.cols;
    const keyRows = PROMPT.realLen + PADDING;
    const planted = plantedMask();
    const [scores, maskOp, cleanup] = await Promise.all([TextAttentionScoresOp.create(gpu), ForegroundMaskOp.create(gpu), MaskCleanupOp.create(gpu)]);
    const scoreSums = await poisonedBuffer(gpu, 'score sums', 2 * imageTokens);
    const raw = await poisonedBuffer(gpu, 'raw mask', imageTokens);
    const cleaned = await poisonedBuffer(gpu, 'cleaned mask', imageTokens);
    const blocks = await Promise.all(
      Array.from({ length: BLOCKS }, async () => {
        const heads = directions(seed);
        const keys = plantedRows(seed, keyRows, heads, (row) => (row >= PROMPT.bgLen && row < PROMPT.realLen ? 'foreground' : 'background'), (row) => (row < PROMPT.realLen ? STRENGTH : 2 * STRENGTH));
        const queries = plantedRows(seed, imageTokens, heads, (token) => (planted[token] ? 'foreground' : 'background'), () => STRENGTH);
        return {
          queries: (await uploadPlaced(gpu, 'queries', seed, queries, imageTokens, HEADS * HEAD_DIM)).view,
          keys: (await uploadPlaced(gpu, 'keys', seed, keys, keyRows, HEADS * HEAD_DIM)).view,
        };
      }),
    );
    await run(gpu, 'planted mask', (rec) => {
      blocks.forEach((block, b) => scores.record(rec, { ...block, ...PROMPT, imageTokens, heads: HEADS, scoreSums, firstBlock: b === 0 }));
      maskOp.record(rec, scoreSums, raw, imageTokens);
      cleanup.record(rec, raw, cleaned, GRID);
    });

    expect(mismatches(await readU32(gpu, raw), planted)).toEqual([]);
    // Worked by hand: the erosion removes the stray token and opens the hole to 3x3; the 5x5
    // dilation closes it and grows the region by one token on every side.
    const grown = Uint32Array.from({ length: imageTokens }, (_, token) => {
      const [row, col] = [Math.floor(token / GRID.cols), token % GRID.cols];
      return Number(row >= 1 && row <= 7 && col >= 2 && col <= 10);
    });
    expect(mismatches(await readU32(gpu, cleaned), grown)).toEqual([]);
  });
});

function unit(vector: Float64Array): Float64Array {
  const length = Math.hypot(...vector);
  return vector.map((value) => value / length);
}

/** A mask drawn as text rows: '#' foreground, '.' background. */
const picture = (rows: string[]) => Uint32Array.from(rows.join(''), (pixel) => Number(pixel === '#'));
const gridOf = (rows: string[]): TokenGrid => ({ rows: rows.length, cols: rows[0].length });

interface MorphologyCase {
  name: string;
  mask: string[];
  /** erode 3x3, worked by hand */
  eroded: string[];
  /** erode 3x3 then dilate 5x5, worked by hand */
  cleaned: string[];
}

// OpenCV's default border: pixels outside the grid neither erode nor dilate, so a blob on the
// border survives where the same blob inside the grid would not.
const MORPHOLOGY_CASES: MorphologyCase[] = [
  { name: 'a run of four in one row', mask: ['..####...'], eroded: ['...##....'], cleaned: ['.######..'] },
  { name: 'a single pixel in one row', mask: ['....#....'], eroded: ['.........'], cleaned: ['.........'] },
  { name: 'a one-pixel hole in one row', mask: ['####.####'], eroded: ['###...###'], cleaned: ['#########'] },
  { name: 'a one-pixel grid', mask: ['#'], eroded: ['#'], cleaned: ['#'] },
  { name: 'a column touching the top', mask: ['#', '#', '#', '.', '.', '.', '.', '.', '.'], eroded: ['#', '#', '.', '.', '.', '.', '.', '.', '.'], cleaned: ['#', '#', '#', '#', '.', '.', '.', '.', '.'] },
  {
    name: 'a 2x2 blob in a corner survives',
    mask: ['##...', '##...', '.....', '.....', '.....'],
    eroded: ['#....', '.....', '.....', '.....', '.....'],
    cleaned: ['###..', '###..', '###..', '.....', '.....'],
  },
  {
    name: 'a 2x2 blob inside the grid vanishes',
    mask: ['......', '......', '..##..', '..##..', '......', '......'],
    eroded: ['......', '......', '......', '......', '......', '......'],
    cleaned: ['......', '......', '......', '......', '......', '......'],
  },
  {
    name: 'a band along the top edge',
    mask: ['#######', '#######', '#######', '.......', '.......', '.......'],
    eroded: ['#######', '#######', '.......', '.......', '.......', '.......'],
    cleaned: ['#######', '#######', '#######', '#######', '.......', '.......'],
  },
  { name: 'a hole in the corner is filled', mask: ['.###', '####', '####', '####'], eroded: ['..##', '..##', '####', '####'], cleaned: ['####', '####', '####', '####'] },
  { name: 'a single pixel on the border', mask: ['...#...', '.......', '.......'], eroded: ['.......', '.......', '.......'], cleaned: ['.......', '.......', '.......'] },
];

describe('mask clean-up on the grid border, worked by hand (MorphologyOp + MaskCleanupOp)', () => {
  it.each(MORPHOLOGY_CASES)('$name', async ({ mask, eroded, cleaned }) => {
    const gpu = await testGpu();
    const grid = gridOf(mask);
    const input = picture(mask);
    // The hand-worked pictures and the reference agree, so either being wrong shows here.
    expect(Array.from(erodeReference(input, grid, 1))).toEqual(Array.from(picture(eroded)));
    expect(Array.from(maskCleanupReference(input, grid))).toEqual(Array.from(picture(cleaned)));

    const [morphology, cleanup] = await Promise.all([MorphologyOp.create(gpu), MaskCleanupOp.create(gpu)]);
    const maskBuffer = await gpu.memory.uploadNew('mask', input);
    const erodedBuffer = await poisonedBuffer(gpu, 'eroded', input.length);
    const cleanedBuffer = await poisonedBuffer(gpu, 'cleaned', input.length);
    await run(gpu, 'border clean-up', (rec) => {
      morphology.record(rec, 'erode', 1, maskBuffer, erodedBuffer, grid);
      cleanup.record(rec, maskBuffer, cleanedBuffer, grid);
    });
    expect(mismatches(await readU32(gpu, erodedBuffer), picture(eroded))).toEqual([]);
    expect(mismatches(await readU32(gpu, cleanedBuffer), picture(cleaned))).toEqual([]);
  });
});
