// Fresh random inputs for every run. A failing test prints its seed, so the failure can be
// replayed with TEST_SEED=<seed> npm test.

import { onTestFailed } from 'vitest';
import { uniformFloats } from '../../src/engine/sampling/philox';

export function freshSeed(label: string): number {
  const fixed = process.env.TEST_SEED;
  const seed = fixed ? Number(fixed) : Math.floor(Math.random() * 2 ** 32);
  onTestFailed(() => console.log(`[seed] ${label}: TEST_SEED=${seed}`));
  return seed;
}

let streamCounter = 0;

/** Uniform values in [lo, hi). Each call draws a new stream of the seed. */
export function randomArray(seed: number, count: number, lo = -1, hi = 1): Float32Array {
  return uniformFloats(seed, streamCounter++, count).map((u) => lo + (hi - lo) * u);
}

/** Uniform integer in [lo, hi]. */
export function randomInt(seed: number, lo: number, hi: number): number {
  return lo + Math.floor(uniformFloats(seed, streamCounter++, 1)[0] * (hi - lo + 1));
}
