// Int8 activation blocks as the int8 linear kernel reads them (linear-int8.wgsl), like ggml's
// Q8_0/Q8_1 activations: per row and 32-column block, d = max|x| / 127 and q = round(x / d)
// (ties to even), packed four per word [M, K/4]; then from word `scales_base` the pairs
// (d, d Σ q) as f32 bits [M, K/32]. Shared by quantize-activations.wgsl and norm-quantize.wgsl.

// 1/127 rounded to f32: d = max|x| * INVERSE_127 is one correctly rounded multiplication, which
// the CPU reference reproduces bit for bit (a WGSL division would not be).
const INVERSE_127 = 0.007874015718698502;

// 1 / d, or 0 for an all-zero block.
fn block_inverse(d: f32) -> f32 {
  return select(0.0, 1.0 / d, d > 0.0);
}

fn quantize4(values: vec4<f32>, inverse: f32) -> vec4<i32> {
  return vec4<i32>(round(values * inverse));
}

// Writes the pair (d, d Σ q) of block `index` (row-major over [M, K/32]).
fn store_block_scale(index: u32, scales_base: u32, d: f32, total: i32) {
  quantized[scales_base + 2u * index] = bitcast<u32>(d);
  quantized[scales_base + 2u * index + 1u] = bitcast<u32>(d * f32(total));
}
