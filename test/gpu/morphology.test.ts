import { describe, expect, it } from 'vitest';
import type { Recorder } from '../../src/engine/gpu/recorder';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { MaskCleanupOp, MorphologyOp, type MorphologyOperation, type TokenGrid } from '../../src/engine/ops/morphology';
import { dilateReference, erodeReference, maskCleanupReference } from '../../src/engine/reference/morphology';
import { freshSeed, randomArray } from '../helpers/random';
import { poisonedBuffer, readU32, run, testGpu } from './harness';
import { mismatches } from './token-fixtures';

// Single pixels, single rows and columns (where every pixel is a border pixel), grids smaller
// than the 5x5 window, awkward sizes, FLUX's 64x64 and a grid past one 256-thread workgroup row.
const GRIDS: TokenGrid[] = [
  { rows: 1, cols: 1 },
  { rows: 1, cols: 13 },
  { rows: 13, cols: 1 },
  { rows: 2, cols: 2 },
  { rows: 3, cols: 4 },
  { rows: 7, cols: 11 },
  { rows: 13, cols: 5 },
  { rows: 64, cols: 64 },
  { rows: 45, cols: 80 },
];

type Pattern = 'random' | 'mostly set' | 'all zero' | 'all one' | 'border ring';

function makeMask(seed: number, grid: TokenGrid, pattern: Pattern): Uint32Array {
  const count = grid.rows * grid.cols;
  switch (pattern) {
    case 'random':
      return Uint32Array.from(randomArray(seed, count, 0, 1), (u) => Number(u < 0.5));
    case 'mostly set':
      return Uint32Array.from(randomArray(seed, count, 0, 1), (u) => Number(u < 0.9));
    case 'all zero':
      return new Uint32Array(count);
    case 'all one':
      return new Uint32Array(count).fill(1);
    case 'border ring':
      return Uint32Array.from({ length: count }, (_, i) => {
        const row = Math.floor(i / grid.cols);
        const col = i % grid.cols;
        return Number(row === 0 || col === 0 || row === grid.rows - 1 || col === grid.cols - 1);
      });
  }
}

const PATTERNS: Pattern[] = ['random', 'mostly set', 'all zero', 'all one', 'border ring'];
const CASES = GRIDS.flatMap((grid) => PATTERNS.map((pattern) => ({ ...grid, pattern })));

/** Uploads `mask`, records `record` from it into a poisoned output, returns the output. */
async function runMorphology(gpu: GpuRuntime, mask: Uint32Array, grid: TokenGrid, record: (rec: Recorder, input: GPUBuffer, output: GPUBuffer) => void): Promise<Uint32Array> {
  const input = await gpu.memory.uploadNew('mask', mask);
  const output = await poisonedBuffer(gpu, 'morphology output', grid.rows * grid.cols);
  await run(gpu, 'morphology', (rec) => record(rec, input, output));
  const result = await readU32(gpu, output);
  gpu.memory.release(input);
  gpu.memory.release(output);
  return result;
}

describe('mask morphology (shaders/morphology.wgsl)', () => {
  it.each(CASES)('erode, dilate and the 3x3-then-5x5 clean-up match the reference exactly: %o', async ({ pattern, ...grid }) => {
    const gpu = await testGpu();
    const seed = freshSeed(`morphology ${pattern} ${grid.rows}x${grid.cols}`);
    const mask = makeMask(seed, grid, pattern);
    const [morphology, cleanup] = await Promise.all([MorphologyOp.create(gpu), MaskCleanupOp.create(gpu)]);
    const single = (operation: MorphologyOperation, radius: number) =>
      runMorphology(gpu, mask, grid, (rec, input, output) => morphology.record(rec, operation, radius, input, output, grid));
    expect(mismatches(await single('erode', 1), erodeReference(mask, grid, 1))).toEqual([]);
    expect(mismatches(await single('dilate', 2), dilateReference(mask, grid, 2))).toEqual([]);
    expect(mismatches(await single('erode', 2), erodeReference(mask, grid, 2))).toEqual([]);
    const cleaned = await runMorphology(gpu, mask, grid, (rec, input, output) => cleanup.record(rec, input, output, grid));
    expect(mismatches(cleaned, maskCleanupReference(mask, grid))).toEqual([]);
  });

  it('refuses to erode a mask in place', async () => {
    const gpu = await testGpu();
    const morphology = await MorphologyOp.create(gpu);
    const mask = await gpu.memory.uploadNew('mask', new Uint32Array(12));
    const rec = gpu.recorder('in-place erode');
    expect(() => morphology.record(rec, 'erode', 1, mask, mask, { rows: 3, cols: 4 })).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});
