// CPU codecs of the ggml block formats (../shared/spec/flux.md §6.4-6.5, ggml-quants.c):
// dequantizers for every type of ggml-types.ts, ggml's reference quantizers for the legacy
// 32-element types, and f32 <-> f16 / bf16 conversions (round to nearest even). Used by tests,
// by the tiny-model generator (which writes real GGUF files) and by the float64 references.

import { invalidInput } from '../errors';
import { ggmlType, type GgmlTypeName } from './ggml-types';

// ---------------------------------------------------------------------------------------------
// Half precision

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

function f32Bits(value: number): number {
  scratchF32[0] = value;
  return scratchU32[0];
}

function bitsToF32(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0];
}

/** IEEE binary16 bits -> number (exact). */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** number -> IEEE binary16 bits, rounded (via f32) to nearest even; overflow gives infinity. */
export function f32ToF16(value: number): number {
  const bits = f32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 112; // rebias 127 -> 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: the implicit one joins the mantissa, then shifts out with rounding.
    if (halfExponent < -10) return sign;
    return sign | roundShift(mantissa | 0x800000, 14 - halfExponent);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | roundShift((halfExponent << 23) | mantissa, 13);
}

/** value >> shift, rounded to nearest even. */
function roundShift(value: number, shift: number): number {
  const kept = Math.floor(value / 2 ** shift);
  const remainder = value - kept * 2 ** shift;
  const half = 2 ** (shift - 1);
  return remainder > half || (remainder === half && kept & 1) ? kept + 1 : kept;
}

/** bfloat16 bits -> number (exact). */
export function bf16ToF32(bits: number): number {
  return bitsToF32((bits & 0xffff) << 16);
}

/** number -> bfloat16 bits, rounded (via f32) to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(value: number): number {
  const bits = f32Bits(value);
  if ((bits & 0x7fffffff) > 0x7f800000) return (bits >>> 16) | 0x40;
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

// ---------------------------------------------------------------------------------------------
// Dequantization: one decoder per type writes one block's values to out[outOffset…].

type BlockDecoder = (block: DataView, out: Float32Array, outOffset: number) => void;

const f16At = (block: DataView, byte: number) => f16ToF32(block.getUint16(byte, true));

/** Legacy 32-element blocks: 4-bit quants, low nibbles are values 0..15, high nibbles 16..31. */
function nibbleDecoder(quantsAt: number, scale: (block: DataView) => { d: number; m: number; offset: number }, highBitsAt?: number): BlockDecoder {
  return (block, out, outOffset) => {
    const { d, m, offset } = scale(block);
    const highBits = highBitsAt === undefined ? 0 : block.getUint32(highBitsAt, true);
    for (let j = 0; j < 16; j++) {
      const byte = block.getUint8(quantsAt + j);
      const low = (byte & 0xf) | (((highBits >>> j) & 1) << 4);
      const high = (byte >> 4) | (((highBits >>> (j + 16)) & 1) << 4);
      out[outOffset + j] = (low - offset) * d + m;
      out[outOffset + j + 16] = (high - offset) * d + m;
    }
  };
}

/** K-quant 6-bit scale and min of sub-block j (ggml get_scale_min_k4). */
function scaleMinK4(block: DataView, scalesAt: number, j: number): [number, number] {
  const s = (i: number) => block.getUint8(scalesAt + i);
  if (j < 4) return [s(j) & 63, s(j + 4) & 63];
  return [(s(j + 4) & 0xf) | ((s(j - 4) >> 6) << 4), (s(j + 4) >> 4) | ((s(j) >> 6) << 4)];
}

const decodeQ2K: BlockDecoder = (block, out, outOffset) => {
  const d = f16At(block, 80);
  const dmin = f16At(block, 82);
  let y = outOffset;
  let scaleIndex = 0;
  for (let half = 0; half < 2; half++) {
    const quantsAt = 16 + 32 * half;
    for (let shift = 0; shift < 8; shift += 2) {
      for (let part = 0; part < 2; part++) {
        const scale = block.getUint8(scaleIndex++);
        for (let l = 0; l < 16; l++) {
          const q = (block.getUint8(quantsAt + 16 * part + l) >> shift) & 3;
          out[y++] = d * (scale & 0xf) * q - dmin * (scale >> 4);
        }
      }
    }
  }
};

/** Q3_K's sixteen 6-bit scales, unpacked from 12 bytes (ggml's kmask1/kmask2 shuffle). */
function q3kScales(block: DataView): Int8Array {
  const a0 = block.getUint32(96, true);
  const a1 = block.getUint32(100, true);
  const a2 = block.getUint32(104, true);
  const low4 = 0x0f0f0f0f;
  const low2 = 0x03030303;
  const words = new Uint32Array([
    (a0 & low4) | ((a2 & low2) << 4),
    (a1 & low4) | (((a2 >>> 2) & low2) << 4),
    ((a0 >>> 4) & low4) | (((a2 >>> 4) & low2) << 4),
    ((a1 >>> 4) & low4) | (((a2 >>> 6) & low2) << 4),
  ]);
  return new Int8Array(words.buffer);
}

const decodeQ3K: BlockDecoder = (block, out, outOffset) => {
  const d = f16At(block, 108);
  const scales = q3kScales(block);
  let y = outOffset;
  let scaleIndex = 0;
  let mask = 1;
  for (let half = 0; half < 2; half++) {
    const quantsAt = 32 + 32 * half;
    for (let shift = 0; shift < 8; shift += 2, mask <<= 1) {
      for (let part = 0; part < 2; part++) {
        const scale = d * (scales[scaleIndex++] - 32);
        for (let l = 16 * part; l < 16 * part + 16; l++) {
          const low = (block.getUint8(quantsAt + l) >> shift) & 3;
          const high = block.getUint8(l) & mask ? 0 : 4;
          out[y++] = scale * (low - high);
        }
      }
    }
  }
};

/** Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales/mins; Q5_K adds a fifth bit from qh. */
function kQuant45Decoder(quantsAt: number, highBitsAt?: number): BlockDecoder {
  return (block, out, outOffset) => {
    const d = f16At(block, 0);
    const dmin = f16At(block, 2);
    for (let chunk = 0; chunk < 4; chunk++) {
      for (let nibble = 0; nibble < 2; nibble++) {
        const [scale, min] = scaleMinK4(block, 4, 2 * chunk + nibble);
        const highMask = 1 << (2 * chunk + nibble);
        for (let l = 0; l < 32; l++) {
          const byte = block.getUint8(quantsAt + 32 * chunk + l);
          const low = nibble ? byte >> 4 : byte & 0xf;
          const high = highBitsAt !== undefined && block.getUint8(highBitsAt + l) & highMask ? 16 : 0;
          out[outOffset + 64 * chunk + 32 * nibble + l] = d * scale * (low + high) - dmin * min;
        }
      }
    }
  };
}

const decodeQ6K: BlockDecoder = (block, out, outOffset) => {
  const d = f16At(block, 208);
  for (let half = 0; half < 2; half++) {
    const low = (i: number) => block.getUint8(64 * half + i);
    const high = (i: number) => block.getUint8(128 + 32 * half + i);
    const scale = (i: number) => block.getInt8(192 + 8 * half + i);
    const base = outOffset + 128 * half;
    for (let l = 0; l < 32; l++) {
      const group = l >> 4;
      const q1 = ((low(l) & 0xf) | ((high(l) & 3) << 4)) - 32;
      const q2 = ((low(l + 32) & 0xf) | (((high(l) >> 2) & 3) << 4)) - 32;
      const q3 = ((low(l) >> 4) | (((high(l) >> 4) & 3) << 4)) - 32;
      const q4 = ((low(l + 32) >> 4) | (((high(l) >> 6) & 3) << 4)) - 32;
      out[base + l] = d * scale(group) * q1;
      out[base + l + 32] = d * scale(group + 2) * q2;
      out[base + l + 64] = d * scale(group + 4) * q3;
      out[base + l + 96] = d * scale(group + 6) * q4;
    }
  }
};

const DECODERS: Record<GgmlTypeName, BlockDecoder> = {
  F32: (block, out, i) => void (out[i] = block.getFloat32(0, true)),
  F16: (block, out, i) => void (out[i] = f16At(block, 0)),
  BF16: (block, out, i) => void (out[i] = bf16ToF32(block.getUint16(0, true))),
  Q4_0: nibbleDecoder(2, (b) => ({ d: f16At(b, 0), m: 0, offset: 8 })),
  Q4_1: nibbleDecoder(4, (b) => ({ d: f16At(b, 0), m: f16At(b, 2), offset: 0 })),
  Q5_0: nibbleDecoder(6, (b) => ({ d: f16At(b, 0), m: 0, offset: 16 }), 2),
  Q5_1: nibbleDecoder(8, (b) => ({ d: f16At(b, 0), m: f16At(b, 2), offset: 0 }), 4),
  Q8_0: (block, out, outOffset) => {
    const d = f16At(block, 0);
    for (let j = 0; j < 32; j++) out[outOffset + j] = block.getInt8(2 + j) * d;
  },
  Q2_K: decodeQ2K,
  Q3_K: decodeQ3K,
  Q4_K: kQuant45Decoder(16),
  Q5_K: kQuant45Decoder(48, 16),
  Q6_K: decodeQ6K,
};

/** Decodes `count` values of type `typeName` from `bytes` (the tensor's bytes as in the file). */
export function dequantize(typeName: GgmlTypeName, bytes: Uint8Array, count: number): Float32Array {
  const type = ggmlType(typeName);
  const blocks = count / type.blockElements;
  if (!Number.isInteger(blocks) || bytes.byteLength < blocks * type.blockBytes) {
    throw invalidInput(
      `Cannot decode ${count} ${typeName} values from ${bytes.byteLength} bytes (blocks of ${type.blockElements} values, ${type.blockBytes} bytes).`,
      'The tensor data is truncated or its shape does not match its type: use an unmodified model file.',
    );
  }
  const out = new Float32Array(count);
  const decode = DECODERS[typeName];
  for (let b = 0; b < blocks; b++) {
    decode(new DataView(bytes.buffer, bytes.byteOffset + b * type.blockBytes, type.blockBytes), out, b * type.blockElements);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reference quantizers (ggml quantize_row_*_ref, computed in f32 like the C code).

export type QuantizableType = 'F32' | 'F16' | 'BF16' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'Q8_0';

type BlockEncoder = (values: Float32Array, block: DataView) => void;

/** Rounds to f32, so the quantizers make the same decisions as ggml's float code. */
const toF32 = Math.fround;

/** The value of largest magnitude, sign kept (the first one on ties, as in ggml). */
function signedAbsMax(values: Float32Array): number {
  let max = 0;
  for (const v of values) if (Math.abs(v) > Math.abs(max)) max = v;
  return max;
}

function minMax(values: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return [min, max];
}

/** Writes 32 quants of `bits` (4 or 5) as nibbles + (for 5 bits) the qh word, ggml's layout. */
function writeQuants(block: DataView, quants: number[], quantsAt: number, highBitsAt?: number): void {
  let highBits = 0;
  for (let j = 0; j < 16; j++) {
    block.setUint8(quantsAt + j, (quants[j] & 0xf) | ((quants[j + 16] & 0xf) << 4));
    highBits |= ((quants[j] >> 4) & 1) << j;
    highBits |= ((quants[j + 16] >> 4) & 1) << (j + 16);
  }
  if (highBitsAt !== undefined) block.setUint32(highBitsAt, highBits >>> 0, true);
}

/** Q4_0 / Q5_0: d = max / -2^(bits-1), q = min(2^bits - 1, trunc(x/d + 2^(bits-1) + 0.5)). */
function symmetricEncoder(bits: 4 | 5): BlockEncoder {
  const offset = 1 << (bits - 1);
  const top = (1 << bits) - 1;
  return (values, block) => {
    const d = toF32(signedAbsMax(values) / -offset);
    const inverse = d ? toF32(1 / d) : 0;
    block.setUint16(0, f32ToF16(d), true);
    const quants = Array.from(values, (v) => Math.min(top, Math.trunc(toF32(toF32(v * inverse) + offset + 0.5))));
    writeQuants(block, quants, bits === 4 ? 2 : 6, bits === 4 ? undefined : 2);
  };
}

/** Q4_1 / Q5_1: d = (max - min) / (2^bits - 1), m = min, q = trunc((x - m)/d + 0.5). */
function affineEncoder(bits: 4 | 5): BlockEncoder {
  const top = (1 << bits) - 1;
  return (values, block) => {
    const [min, max] = minMax(values);
    const d = toF32(toF32(max - min) / top);
    const inverse = d ? toF32(1 / d) : 0;
    block.setUint16(0, f32ToF16(d), true);
    block.setUint16(2, f32ToF16(min), true);
    // ggml clamps the 4-bit case only; (x - min)/d + 0.5 stays below 2^bits in exact arithmetic.
    const quants = Array.from(values, (v) => Math.min(top, Math.trunc(toF32(toF32(toF32(v - min) * inverse) + 0.5))));
    writeQuants(block, quants, bits === 4 ? 4 : 8, bits === 4 ? undefined : 4);
  };
}

const encodeQ8_0: BlockEncoder = (values, block) => {
  let amax = 0;
  for (const v of values) amax = Math.max(amax, Math.abs(v));
  const d = toF32(amax / 127);
  const inverse = d ? toF32(1 / d) : 0;
  block.setUint16(0, f32ToF16(d), true);
  // roundf: half away from zero.
  values.forEach((v, j) => block.setInt8(2 + j, Math.sign(v) * Math.round(Math.abs(toF32(v * inverse)))));
};

const ENCODERS: Record<QuantizableType, BlockEncoder> = {
  F32: (values, block) => block.setFloat32(0, values[0], true),
  F16: (values, block) => block.setUint16(0, f32ToF16(values[0]), true),
  BF16: (values, block) => block.setUint16(0, f32ToBf16(values[0]), true),
  Q4_0: symmetricEncoder(4),
  Q4_1: affineEncoder(4),
  Q5_0: symmetricEncoder(5),
  Q5_1: affineEncoder(5),
  Q8_0: encodeQ8_0,
};

/** Encodes `values` as `typeName` blocks, byte for byte as ggml's reference quantizer writes them. */
export function quantize(typeName: QuantizableType, values: Float32Array): Uint8Array {
  const type = ggmlType(typeName);
  const blocks = values.length / type.blockElements;
  if (!Number.isInteger(blocks)) {
    throw invalidInput(`${values.length} values are not a whole number of ${typeName} blocks of ${type.blockElements}.`, 'Pass a multiple of the block size.');
  }
  const bytes = new Uint8Array(blocks * type.blockBytes);
  const encode = ENCODERS[typeName];
  for (let b = 0; b < blocks; b++) {
    const block = new DataView(bytes.buffer, b * type.blockBytes, type.blockBytes);
    encode(values.subarray(b * type.blockElements, (b + 1) * type.blockElements), block);
  }
  return bytes;
}
