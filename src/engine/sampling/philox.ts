// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
// counter-based generator built from 32-bit integer multiplies and xors only, so every
// JavaScript engine produces the same bits. Element i of a stream is a pure function of
// (key, i), which also makes it easy to generate on the GPU later.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32 values. */
function mulHi(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((loLo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** One Philox4x32-10 block: four u32 outputs for a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: readonly [number, number, number, number], key: readonly [number, number]): Uint32Array {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0) as [number, number, number, number];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulHi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return Uint32Array.of(c0, c1, c2, c3);
}

/** `count` u32 values of the stream keyed by a 64-bit seed (lo, hi) and a stream id. */
export function philoxStream(seedLo: number, seedHi: number, stream: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  for (let block = 0; 4 * block < count; block++) {
    const words = philox4x32([block, 0, stream, 0], [seedLo, seedHi]);
    out.set(words.subarray(0, Math.min(4, count - 4 * block)), 4 * block);
  }
  return out;
}

/** Uniform floats in [0, 1) with 24 random bits each (exactly representable in f32). */
export function uniformFloats(seed: number, stream: number, count: number): Float32Array {
  const bits = philoxStream(seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0, stream, count);
  return Float32Array.from(bits, (u) => (u >>> 8) * 2 ** -24);
}
