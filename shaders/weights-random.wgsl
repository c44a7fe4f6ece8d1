// Fills a weight buffer (the plane layout of src/engine/ops/weights.ts) with random data, for
// benchmarks of full-size models without downloading them: random quants, positive f16 scales of
// about `magnitude / quant_range`, random floats in [-magnitude, magnitude) for the float
// types (zero in the padding columns). Values are a hash of the word index and the seed.

struct RandomParams {
  // words of the values plane, and where the other planes start and end
  value_words: u32,
  row_words: u32,
  scales_base: u32,
  total_words: u32,
  // values per word of the values plane for float types (1: f32, 2: f16/bf16); 0: quantized
  floats_per_word: u32,
  // columns of a row holding real weights (the rest of a float row is padding)
  cols: u32,
  seed: u32,
  magnitude: f32,
  grid_stride: u32,
  // 0: f32, 1: f16, 2: bf16 (float types only)
  float_kind: u32,
  // largest quant magnitude of the type (8 for Q4_0, 127 for Q8_0…), so weights stay near `magnitude`
  quant_range: f32,
}

@group(0) @binding(0) var<storage, read_write> words: array<u32>;
@group(0) @binding(1) var<uniform> params: RandomParams;

// PCG-style integer hash (Jarzynski & Olano, "Hash Functions for GPU Rendering", 2020).
fn hash(value: u32) -> u32 {
  let state = value * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// In [-1, 1).
fn signed_unit(bits: u32) -> f32 {
  return f32(bits >> 8u) * (2.0 / 16777216.0) - 1.0;
}

fn float_bits(value: f32) -> u32 {
  switch params.float_kind {
    case 1u: { return pack2x16float(vec2<f32>(value, 0.0)) & 0xffffu; }
    case 2u: { return bitcast<u32>(value) >> 16u; }
    default: { return bitcast<u32>(value); }
  }
}

fn random_float(index: u32, column: u32) -> f32 {
  if (column >= params.cols) {
    return 0.0;
  }
  return params.magnitude * signed_unit(hash(index ^ params.seed));
}

@compute @workgroup_size(256)
fn fill_random(@builtin(global_invocation_id) id: vec3<u32>) {
  let word = id.y * params.grid_stride + id.x;
  if (word >= params.total_words) {
    return;
  }
  let bits = hash(word ^ hash(params.seed));
  if (word >= params.scales_base) {
    // two f16 scales per word (d and, for the _1 types, the min m = -d), d in [1, 1.5) * magnitude / quant_range
    let d = params.magnitude * (1.0 + 0.25 * (signed_unit(bits) + 1.0)) / params.quant_range;
    words[word] = pack2x16float(vec2<f32>(d, -d));
    return;
  }
  if (word >= params.value_words || params.floats_per_word == 0u) {
    words[word] = bits;
    return;
  }
  let column = (word % params.row_words) * params.floats_per_word;
  if (params.floats_per_word == 1u) {
    words[word] = float_bits(random_float(word, column));
  } else {
    words[word] = float_bits(random_float(2u * word, column)) | (float_bits(random_float(2u * word + 1u, column + 1u)) << 16u);
  }
}
