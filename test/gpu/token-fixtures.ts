// Fixtures for the CharaConsist and layout kernel tests: matrices placed inside larger buffers at
// a random element offset and row padding (as real views into fused projections are), with every
// element outside the view poisoned (NaN bits), so a kernel that reads outside its view produces
// NaN and one that writes outside it leaves a mark; plus random index lists.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { MatrixView } from '../../src/engine/ops/view';
import { randomArray, randomInt } from '../helpers/random';
import { POISON } from './harness';

export interface Placement {
  rows: number;
  cols: number;
  /** elements before row 0 */
  offset: number;
  /** elements per row, >= cols */
  stride: number;
  /** elements of the whole buffer */
  length: number;
}

/** A random placement of a [rows, cols] matrix: offset not a multiple of anything useful, padded rows. */
export function randomPlacement(seed: number, rows: number, cols: number): Placement {
  const offset = randomInt(seed, 0, 37);
  const stride = cols + randomInt(seed, 0, 5);
  return { rows, cols, offset, stride, length: offset + rows * stride + randomInt(seed, 1, 9) };
}

/** Buffer contents with `matrix` (dense [rows, cols]) at `placement` and poison everywhere else. */
export function placeMatrix(matrix: ArrayLike<number>, placement: Placement): Float32Array {
  const contents = new Float32Array(new Uint32Array(placement.length).fill(POISON).buffer);
  for (let row = 0; row < placement.rows; row++) {
    for (let col = 0; col < placement.cols; col++) contents[placement.offset + row * placement.stride + col] = matrix[row * placement.cols + col];
  }
  return contents;
}

/** The dense [rows, cols] matrix at `placement` in `contents`. */
export function extractMatrix(contents: Float32Array, placement: Placement): Float32Array {
  const matrix = new Float32Array(placement.rows * placement.cols);
  for (let row = 0; row < placement.rows; row++) {
    for (let col = 0; col < placement.cols; col++) matrix[row * placement.cols + col] = contents[placement.offset + row * placement.stride + col];
  }
  return matrix;
}

/** Number of elements outside `placement` that no longer hold the poison bits. */
export function changedOutside(contents: Float32Array, placement: Placement): number {
  const bits = new Uint32Array(contents.buffer, contents.byteOffset, contents.length);
  const inside = new Uint8Array(placement.length);
  for (let row = 0; row < placement.rows; row++) inside.fill(1, placement.offset + row * placement.stride, placement.offset + row * placement.stride + placement.cols);
  return bits.reduce((count, value, i) => count + Number(!inside[i] && value !== POISON), 0);
}

/** Uploads `matrix` placed at a fresh random placement; returns the view and the placement. */
export async function uploadPlaced(gpu: GpuRuntime, label: string, seed: number, matrix: ArrayLike<number>, rows: number, cols: number): Promise<{ view: MatrixView; placement: Placement }> {
  const placement = randomPlacement(seed, rows, cols);
  const buffer = await gpu.memory.uploadNew(label, placeMatrix(matrix, placement));
  return { view: { buffer, offset: placement.offset, stride: placement.stride }, placement };
}

/** `count` distinct integers from [0, range), in random order. */
export function distinctIndices(seed: number, count: number, range: number): Uint32Array {
  const pool = Uint32Array.from({ length: range }, (_, i) => i);
  const draws = randomArray(seed, range, 0, 1);
  for (let i = range - 1; i > 0; i--) {
    const j = Math.floor(draws[i] * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

/** `count` integers from [0, range), repeats allowed. */
export function randomIndices(seed: number, count: number, range: number): Uint32Array {
  return Uint32Array.from(randomArray(seed, count, 0, 1), (u) => Math.min(range - 1, Math.floor(u * range)));
}

/**
 * The first few positions where two arrays differ, as text ([] when equal). Large outputs are
 * compared through this so a failure prints quickly instead of diffing a million elements.
 */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, limit = 10): string[] {
  if (actual.length !== expected.length) return [`length ${actual.length}, expected ${expected.length}`];
  const found: string[] = [];
  for (let i = 0; i < expected.length && found.length < limit; i++) {
    if (actual[i] !== expected[i]) found.push(`[${i}]: ${actual[i]}, expected ${expected[i]}`);
  }
  return found;
}
