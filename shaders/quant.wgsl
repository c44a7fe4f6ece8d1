// Decoding of weight matrices in the GPU layout of src/engine/ops/weights.ts (ggml types repacked
// into aligned planes). Kernels work on "groups": 8 weights of one row, as two runs of 4
// consecutive columns. For the 32-element block types a group is the 8 weights of one quant word
// (low nibbles: columns 4i..4i+3 of the block, high nibbles: 16+4i..16+4i+3; ggml's order); for
// float types it is 8 consecutive columns. Pure functions, no bindings: the weight type is an
// argument (an override constant at the call site, so drivers fold the switches away).

const TYPE_F32 = 0u;
const TYPE_F16 = 1u;
const TYPE_BF16 = 2u;
const TYPE_Q8_0 = 3u;
const TYPE_Q4_0 = 4u;
const TYPE_Q4_1 = 5u;
const TYPE_Q5_0 = 6u;
const TYPE_Q5_1 = 7u;

// Raw words of one group, as fetched from the weight planes:
//   F32:       first, second = the bits of run 0 and run 1.
//   F16, BF16: first = 4 words holding the group's 8 halves in column order.
//   quants:    first.x = the quant word (Q8_0: run 0's bytes), first.y = run 1's bytes (Q8_0),
//              first.z = the block's qh shifted so bits 0..3 / 16..19 belong to this group (Q5),
//              first.w = f16 d in the low half and f16 m in the high half (m only for _1 types).
struct RawGroup {
  first: vec4<u32>,
  second: vec4<u32>,
}

fn is_block_quant(weight_type: u32) -> bool {
  return weight_type >= TYPE_Q8_0;
}

fn has_min(weight_type: u32) -> bool {
  return weight_type == TYPE_Q4_1 || weight_type == TYPE_Q5_1;
}

fn has_high_bits(weight_type: u32) -> bool {
  return weight_type == TYPE_Q5_0 || weight_type == TYPE_Q5_1;
}

// First column of run `run` (0 or 1) of group `group`, counted from the group's row start (or
// from any 32-column boundary the group index is counted from).
fn run_column(weight_type: u32, group: u32, run: u32) -> u32 {
  if (is_block_quant(weight_type)) {
    return 32u * (group / 4u) + 4u * (group % 4u) + 16u * run;
  }
  return 8u * group + 4u * run;
}

// Places 4 bits in bit 4 of the 4 bytes of a word (the fifth bit of Q5 quants).
fn spread_fifth_bits(bits: u32) -> u32 {
  return ((bits & 1u) << 4u) | ((bits & 2u) << 11u) | ((bits & 4u) << 18u) | ((bits & 8u) << 25u);
}

// Subtracts `offset` from each of the 4 bytes of `word` (values 0..31) without borrows between
// bytes: bias every byte by 128 first, then flip the bias back.
fn minus_per_byte(word: u32, offset: u32) -> u32 {
  return ((word | 0x80808080u) - offset * 0x01010101u) ^ 0x80808080u;
}

// The group's quants as signed 8-bit values, 4 per word (run 0, run 1). The zero point of the _0
// types is already removed, so weight = q * d (+ m for the _1 types).
fn group_bytes(weight_type: u32, raw: RawGroup) -> vec2<u32> {
  if (weight_type == TYPE_Q8_0) {
    return raw.first.xy;
  }
  var quants = vec2<u32>(raw.first.x & 0x0f0f0f0fu, (raw.first.x >> 4u) & 0x0f0f0f0fu);
  if (has_high_bits(weight_type)) {
    quants |= vec2<u32>(spread_fifth_bits(raw.first.z & 15u), spread_fifth_bits((raw.first.z >> 16u) & 15u));
  }
  switch weight_type {
    case TYPE_Q4_0: {
      return vec2<u32>(minus_per_byte(quants.x, 8u), minus_per_byte(quants.y, 8u));
    }
    case TYPE_Q5_0: {
      return vec2<u32>(minus_per_byte(quants.x, 16u), minus_per_byte(quants.y, 16u));
    }
    default: {
      return quants;
    }
  }
}

// (d, m) of the group's block; m is 0 for the _0 types.
fn group_scale(raw: RawGroup) -> vec2<f32> {
  return unpack2x16float(raw.first.w);
}

// Sign-extends the 4 bytes of a word (no packed_4x8_integer_dot_product needed).
fn signed_bytes(word: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

fn halves(words: vec2<u32>) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(words.x), unpack2x16float(words.y));
}

fn bfloat_halves(words: vec2<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(words.x << 16u, words.x & 0xffff0000u, words.y << 16u, words.y & 0xffff0000u));
}

// The group's 8 weights as f32: run 0, run 1.
fn decode_group(weight_type: u32, raw: RawGroup) -> array<vec4<f32>, 2> {
  switch weight_type {
    case TYPE_F32: {
      return array(bitcast<vec4<f32>>(raw.first), bitcast<vec4<f32>>(raw.second));
    }
    case TYPE_F16: {
      return array(halves(raw.first.xy), halves(raw.first.zw));
    }
    case TYPE_BF16: {
      return array(bfloat_halves(raw.first.xy), bfloat_halves(raw.first.zw));
    }
    default: {
      let quants = group_bytes(weight_type, raw);
      let scale = group_scale(raw);
      return array(signed_bytes(quants.x) * scale.x + scale.y, signed_bytes(quants.y) * scale.x + scale.y);
    }
  }
}
