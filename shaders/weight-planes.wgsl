// Reading weights out of the planes of a GpuWeight part (WeightLayout of src/engine/ops/weights.ts),
// shared by every kernel that reads weights: the linear family (linear.wgsl) and the embedding
// gather (embedding.wgsl). Assembled after quant.wgsl; the including module declares the
// `weights: array<vec4<u32>>` binding and the WEIGHT_TYPE override.

// Geometry of one weight part, in u32 words.
struct WeightPlanes {
  rows: u32,
  row_words: u32,
  high_bits_base: u32,
  scales_base: u32,
  scale_row_words: u32,
  // 8-weight groups per row (padded columns / 8)
  groups_per_row: u32,
}

fn weight_word(index: u32) -> u32 {
  return weights[index / 4u][index % 4u];
}

// f16 d (and m) of block `block` of weight row `row`: a word per block for the _1 types, a half
// per block for the _0 types (rows start on a word).
fn scale_bits(planes: WeightPlanes, row: u32, block: u32) -> u32 {
  let row_base = planes.scales_base + row * planes.scale_row_words;
  if (has_min(WEIGHT_TYPE)) {
    return weight_word(row_base + block);
  }
  return (weight_word(row_base + block / 2u) >> (16u * (block % 2u))) & 0xffffu;
}

// Raw words of group `group` (8 weights, see quant.wgsl) of weight row `row`; zeros outside the
// matrix, so padding decodes to 0.
fn read_weight_group(planes: WeightPlanes, row: u32, group: u32) -> RawGroup {
  var raw = RawGroup(vec4<u32>(), vec4<u32>());
  if (row >= planes.rows || group >= planes.groups_per_row) {
    return raw;
  }
  let row_word = row * planes.row_words;
  switch WEIGHT_TYPE {
    case TYPE_F32: {
      let slot = (row_word + 8u * group) / 4u;
      raw.first = weights[slot];
      raw.second = weights[slot + 1u];
    }
    case TYPE_F16, TYPE_BF16: {
      raw.first = weights[(row_word + 4u * group) / 4u];
    }
    default: {
      let block = group / 4u;
      let word = group % 4u;
      if (WEIGHT_TYPE == TYPE_Q8_0) {
        raw.first.x = weight_word(row_word + 8u * block + word);
        raw.first.y = weight_word(row_word + 8u * block + 4u + word);
      } else {
        raw.first.x = weight_word(row_word + 4u * block + word);
      }
      if (has_high_bits(WEIGHT_TYPE)) {
        raw.first.z = weight_word(planes.high_bits_base + row * (planes.groups_per_row / 4u) + block) >> (4u * word);
      }
      raw.first.w = scale_bits(planes, row, block);
    }
  }
  return raw;
}
