// Seeded Gaussian noise that is identical in every browser and in Node.
//
// Version "philox-box-muller/1":
// - bits: Philox4x32-10 with key (seed mod 2^32, floor(seed / 2^32)) and counter (block, 0, stream, 0);
//   block b yields u32 words w0..w3 and normals n[4b .. 4b+3];
// - normals: Box-Muller on each word pair (w0, w1) and (w2, w3):
//   u1 = ((w0 >>> 8) + 1) * 2^-24 in (0, 1], u2 = (w1 >>> 8) * 2^-24 in [0, 1),
//   r = sqrt(-2 ln u1), n0 = r cos(2 pi u2), n1 = r sin(2 pi u2), rounded to f32;
// - ln, cos and sin come from sampling/deterministic-math.ts (basic float64 operations only).
// Any change to this recipe must bump NOISE_VERSION: stories store it next to their seeds.

import { cosSinOfTurn24, logOfDyadic24 } from './deterministic-math';
import { philox4x32 } from './philox';

export const NOISE_VERSION = 'philox-box-muller/1';

/** `count` standard normal f32 values of stream `stream` of `seed` (an integer below 2^53). */
export function gaussianNoise(seed: number, count: number, stream = 0): Float32Array {
  const key: [number, number] = [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
  const out = new Float32Array(count);
  for (let block = 0; 4 * block < count; block++) {
    const words = philox4x32([block, 0, stream, 0], key);
    for (let pair = 0; pair < 2; pair++) {
      const [first, second] = boxMuller(words[2 * pair], words[2 * pair + 1]);
      const index = 4 * block + 2 * pair;
      if (index < count) out[index] = first;
      if (index + 1 < count) out[index + 1] = second;
    }
  }
  return out;
}

function boxMuller(wordA: number, wordB: number): [number, number] {
  const radius = Math.sqrt(-2 * logOfDyadic24((wordA >>> 8) + 1));
  const [cos, sin] = cosSinOfTurn24(wordB >>> 8);
  return [radius * cos, radius * sin];
}
