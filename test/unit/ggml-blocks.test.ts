import { describe, expect, it } from 'vitest';
import { bf16ToF32, dequantize, f16ToF32, f32ToBf16, f32ToF16, quantize, type QuantizableType } from '../../src/engine/formats/ggml-blocks';
import { ggmlType, type GgmlTypeName } from '../../src/engine/formats/ggml-types';
import { EngineError } from '../../src/engine/errors';
import { freshSeed, randomArray } from '../helpers/random';

/** A block of `size` bytes, zero except the given little-endian fields. */
function block(size: number, fields: { at: number; bytes: number[] }[]): Uint8Array {
  const bytes = new Uint8Array(size);
  for (const { at, bytes: values } of fields) bytes.set(values, at);
  return bytes;
}

/** `count` values of `fill`, with the listed positions overridden. */
function expected(count: number, fill: number, overrides: Record<number, number> = {}, ranges: [number, number, number][] = []): number[] {
  const values = new Array<number>(count).fill(fill);
  for (const [from, to, value] of ranges) values.fill(value, from, to);
  for (const [index, value] of Object.entries(overrides)) values[Number(index)] = value;
  return values;
}

describe('f16 conversion', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.333251953125, 0x3555],
    [65504, 0x7bff],
    [65519.99, 0x7bff], // just below the rounding point to infinity
    [65520, 0x7c00], // ties to even: the next "even" value is infinity
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal: even is 0
    [3 * 2 ** -26, 0x0001],
    [2 ** -14 - 2 ** -25, 0x0400], // tie between the largest subnormal (odd) and the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie: stays even
    [1 + 3 * 2 ** -11, 0x3c02], // tie: rounds up to even
    [-0, 0x8000],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
  ])('f32ToF16(%d) = %i', (value, bits) => {
    expect(f32ToF16(value)).toBe(bits);
  });

  it('keeps NaN a NaN both ways', () => {
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });

  it.each([
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x7bff, 65504],
    [0xbc00, -1],
    [0xfc00, -Infinity],
  ])('f16ToF32(%i) = %d', (bits, value) => {
    expect(f16ToF32(bits)).toBe(value);
  });

  it('round-trips every finite half exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      expect(f32ToF16(f16ToF32(bits))).toBe(bits);
    }
  });
});

describe('bf16 conversion', () => {
  it.each([
    [1, 0x3f80],
    [-1.5, 0xbfc0],
    [1 + 2 ** -8, 0x3f80], // tie: stays even
    [1 + 3 * 2 ** -8, 0x3f82], // tie: rounds up to even
    [1 + 2 ** -8 + 2 ** -20, 0x3f81], // just above the tie
    [3.4028234663852886e38, 0x7f80], // f32 max rounds to infinity
  ])('f32ToBf16(%d) = %i', (value, bits) => {
    expect(f32ToBf16(value)).toBe(bits);
  });

  it('keeps NaN a NaN and decodes by shifting into the high half', () => {
    const nan = f32ToBf16(NaN);
    expect(nan & 0x7f80).toBe(0x7f80);
    expect(nan & 0x7f).not.toBe(0);
    expect(bf16ToF32(0xc0a0)).toBe(-5);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133);
  });
});

describe('dequantize: hand-built blocks', () => {
  const cases: { type: GgmlTypeName; bytes: Uint8Array; values: number[] }[] = [
    { type: 'F32', bytes: new Uint8Array([0x00, 0x00, 0xc0, 0xbf, 0x00, 0x00, 0x80, 0x7f]), values: [-1.5, Infinity] },
    { type: 'F16', bytes: new Uint8Array([0x00, 0x3c, 0x01, 0x80]), values: [1, -(2 ** -24)] },
    { type: 'BF16', bytes: new Uint8Array([0x80, 0x3f, 0xa0, 0xc0]), values: [1, -5] },
    {
      // d = 0.5; nibble 8 is zero; low nibbles are values 0..15, high nibbles 16..31.
      type: 'Q4_0',
      bytes: block(18, [{ at: 0, bytes: [0x00, 0x38] }, { at: 2, bytes: new Array(16).fill(0x88) }, { at: 2, bytes: [0x0f] }, { at: 17, bytes: [0xf0] }]),
      values: expected(32, 0, { 0: 3.5, 16: -4, 15: -4, 31: 3.5 }),
    },
    {
      // d = 0.5, m = -1.
      type: 'Q4_1',
      bytes: block(20, [{ at: 0, bytes: [0x00, 0x38, 0x00, 0xbc] }, { at: 4 + 3, bytes: [0x5a] }]),
      values: expected(32, -1, { 3: 4, 19: 1.5 }),
    },
    {
      // d = 0.25; qh bit j is the fifth bit of value j (bits 16..31: values 16..31).
      type: 'Q5_0',
      bytes: block(22, [{ at: 0, bytes: [0x00, 0x34] }, { at: 2, bytes: [0x01, 0x00, 0x00, 0x80] }, { at: 6 + 1, bytes: [0x0f] }, { at: 6 + 15, bytes: [0xf0] }]),
      values: expected(32, -4, { 0: 0, 1: -0.25, 31: 3.75 }),
    },
    {
      // d = 1, m = 0.5; qh bit 16 lifts value 16 by 16.
      type: 'Q5_1',
      bytes: block(24, [{ at: 0, bytes: [0x00, 0x3c, 0x00, 0x38] }, { at: 4, bytes: [0x00, 0x00, 0x01, 0x00] }, { at: 8, bytes: [0x21] }]),
      values: expected(32, 0.5, { 0: 1.5, 16: 18.5 }),
    },
    {
      // d = 2; signed bytes -128, 127, -1.
      type: 'Q8_0',
      bytes: block(34, [{ at: 0, bytes: [0x00, 0x40] }, { at: 2, bytes: [0x80, 0x7f, 0xff] }]),
      values: expected(32, 0, { 0: -256, 1: 254, 2: -2 }),
    },
    {
      // d = 1, dmin = 0.5; scale byte = scale | min << 4; 2-bit quants, shifts 0/2/4/6 per 32 outputs.
      type: 'Q2_K',
      bytes: block(84, [
        { at: 0, bytes: [0x21, 0x03, 0x05, 0, 0, 0, 0x1f] },
        { at: 15, bytes: [0x42] },
        { at: 16, bytes: [0xe4] },
        { at: 16 + 32 + 17, bytes: [0x80] },
        { at: 80, bytes: [0x00, 0x3c, 0x00, 0x38] },
      ]),
      values: expected(256, 0, { 32: 5, 96: 44.5, 241: 2 }, [[0, 16, -1], [97, 112, -0.5], [240, 256, -2]]),
    },
    {
      // d = 2; every 6-bit scale is 32 (= 0) except scale 0 = 33 (+1) and scale 15 = 31 (-1);
      // a clear hmask bit subtracts 4.
      type: 'Q3_K',
      bytes: block(110, [
        { at: 1, bytes: [0x01] },
        { at: 19, bytes: [0x80] },
        { at: 32, bytes: [0x03] },
        { at: 82, bytes: [0xc0] },
        { at: 96, bytes: [0x01, 0, 0, 0, 0, 0, 0, 0xf0, 0xaa, 0xaa, 0xaa, 0x6a] },
        { at: 108, bytes: [0x00, 0x40] },
      ]),
      values: expected(256, 0, { 0: -2, 1: 0, 242: 2, 243: 0 }, [[2, 16, -8], [240, 256, 8]]),
    },
    {
      // d = 1, dmin = 0.5; sub-block 0: scale 2, min 4; sub-block 5: scale 17, min 35 (6-bit split).
      type: 'Q4_K',
      bytes: block(144, [
        { at: 0, bytes: [0x00, 0x3c, 0x00, 0x38] },
        { at: 4, bytes: [0x02, 0x40, 0, 0, 0x04, 0x80, 0, 0, 0, 0x31] },
        { at: 16, bytes: [0x0f] },
        { at: 16 + 64 + 3, bytes: [0xa0] },
      ]),
      values: expected(256, 0, { 0: 28, 163: 152.5 }, [[1, 32, -2], [160, 192, -17.5]]),
    },
    {
      // d = dmin = 1; sub-block 0: scale 1, min 1; sub-block 7: scale 2; qh adds 16.
      type: 'Q5_K',
      bytes: block(176, [
        { at: 0, bytes: [0x00, 0x3c, 0x00, 0x3c] },
        { at: 4, bytes: [0x01, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x02] },
        { at: 16, bytes: [0x01, 0x01, 0, 0, 0, 0x80] },
        { at: 48 + 1, bytes: [0x0f] },
        { at: 48 + 96 + 6, bytes: [0x30] },
      ]),
      values: expected(256, 0, { 0: 15, 1: 30, 229: 32, 230: 6 }, [[2, 32, -1]]),
    },
    {
      // d = 0.5; int8 scales 2, -1 and 4; 6-bit quants biased by 32.
      type: 'Q6_K',
      bytes: block(210, [
        { at: 0, bytes: [0x0f] },
        { at: 33, bytes: [0x05] },
        { at: 64 + 32 + 20, bytes: [0x70] },
        { at: 128, bytes: [0x03] },
        { at: 128 + 32 + 20, bytes: [0x80] },
        { at: 192, bytes: [2, 0, 0xff] },
        { at: 207, bytes: [4] },
        { at: 208, bytes: [0x00, 0x38] },
      ]),
      values: expected(256, 0, { 0: 31, 33: 13.5, 244: 14 }, [[1, 16, -32], [32, 48, 16], [240, 256, -64]]),
    },
  ];

  it.each(cases)('$type', ({ type, bytes, values }) => {
    // `+ 0` folds -0 (a zero scale times a negative quant) into 0, which toEqual tells apart.
    expect(Array.from(dequantize(type, bytes, values.length), (v) => v + 0)).toEqual(values);
  });

  it('decodes consecutive blocks in order', () => {
    const two = new Uint8Array(68);
    two.set([0x00, 0x3c, 1], 0); // block 0: d = 1, value 0 = 1
    two.set([0x00, 0x40, 0, 0xfe], 34); // block 1: d = 2, value 1 = -2
    const values = dequantize('Q8_0', two, 64);
    expect([values[0], values[1], values[32], values[33]]).toEqual([1, 0, 0, -4]);
  });

  it('rejects a count that is not whole blocks, or too few bytes', () => {
    expect(() => dequantize('Q4_0', new Uint8Array(18), 31)).toThrow(EngineError);
    expect(() => dequantize('Q4_K', new Uint8Array(143), 256)).toThrow(/from 143 bytes/);
  });
});

describe('quantize: ggml reference bytes', () => {
  it('Q4_0 takes d = max / -8 from the signed extreme', () => {
    // Extreme -8 -> d = 1, q = x + 8.
    const values = Float32Array.from({ length: 32 }, (_, j) => (j < 16 ? j - 8 : 7 - (j - 16)));
    const bytes = quantize('Q4_0', values);
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x00, 0x3c]);
    expect(Array.from(bytes.subarray(2))).toEqual(Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4)));
    // Extreme +8 -> d = -1: the extreme maps to nibble 0 and comes back exactly.
    const positive = values.map((v) => -v);
    const back = dequantize('Q4_0', quantize('Q4_0', positive), 32);
    expect(back[0]).toBe(8);
    expect(Array.from(quantize('Q4_0', positive).subarray(0, 2))).toEqual([0x00, 0xbc]);
  });

  it('Q5_0 and Q5_1 store the fifth bit in qh', () => {
    const ramp = Float32Array.from({ length: 32 }, (_, j) => j);
    const q51 = quantize('Q5_1', ramp);
    // d = 31/31 = 1, m = 0: q = j; qh holds bit 4 of each value.
    expect(new DataView(q51.buffer).getUint32(4, true)).toBe(0xffff0000);
    expect(Array.from(dequantize('Q5_1', q51, 32))).toEqual(Array.from(ramp));
    const centred = Float32Array.from({ length: 32 }, (_, j) => j - 16);
    const q50 = quantize('Q5_0', centred);
    // extreme -16 -> d = 1, q = x + 16 = j.
    expect(new DataView(q50.buffer).getUint32(2, true)).toBe(0xffff0000);
    expect(Array.from(dequantize('Q5_0', q50, 32))).toEqual(Array.from(centred));
  });

  it('Q8_0 rounds half away from zero', () => {
    const values = new Float32Array(32);
    values[0] = 127; // d = 1
    values[1] = 2.5;
    values[2] = -2.5;
    const bytes = quantize('Q8_0', values);
    expect(new Int8Array(bytes.buffer, 2, 3)).toEqual(new Int8Array([127, 3, -3]));
  });

  it('an all-zero block quantizes to zeros', () => {
    for (const type of ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0'] as const) {
      expect(Array.from(dequantize(type, quantize(type, new Float32Array(32)), 32)).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('quantize -> dequantize round trips', () => {
  /** Largest error each format allows for one block: half a step (a full step where ggml clamps), plus f16 rounding of d and m. */
  const bounds: Record<QuantizableType, (block: Float32Array) => number> = {
    F32: () => 0,
    F16: (b) => Math.max(...b.map(Math.abs)) * 2 ** -11,
    BF16: (b) => Math.max(...b.map(Math.abs)) * 2 ** -8,
    Q8_0: (b) => (Math.max(...b.map(Math.abs)) / 127) * (0.5 + 127 * 2 ** -11),
    Q4_0: (b) => (Math.max(...b.map(Math.abs)) / 8) * (1 + 8 * 2 ** -11),
    Q5_0: (b) => (Math.max(...b.map(Math.abs)) / 16) * (1 + 16 * 2 ** -11),
    Q4_1: (b) => spread(b, 15) * (0.5 + 15 * 2 ** -11) + Math.abs(Math.min(...b)) * 2 ** -11,
    Q5_1: (b) => spread(b, 31) * (0.5 + 31 * 2 ** -11) + Math.abs(Math.min(...b)) * 2 ** -11,
  };
  const spread = (b: Float32Array, steps: number) => (Math.max(...b) - Math.min(...b)) / steps;

  it.each(Object.keys(bounds) as QuantizableType[])('%s stays within its error bound', (type) => {
    const seed = freshSeed(`round trip ${type}`);
    const blockElements = Math.max(32, ggmlType(type).blockElements);
    // Blocks of different scales and offsets, including all-positive ones for the min path.
    const values = new Float32Array(blockElements * 64);
    for (let b = 0; b < 64; b++) {
      const [scale, shift] = randomArray(seed, 2, -1, 3);
      values.set(randomArray(seed, blockElements).map((v) => 10 ** scale * (v + shift)), b * blockElements);
    }
    const back = dequantize(type, quantize(type, values), values.length);
    for (let b = 0; b < 64; b++) {
      const original = values.subarray(b * blockElements, (b + 1) * blockElements);
      const bound = bounds[type](original) * (1 + 1e-6);
      const worst = Math.max(...original.map((v, i) => Math.abs(v - back[b * blockElements + i])));
      expect(worst).toBeLessThanOrEqual(bound);
    }
  });
});
