// Int8 quantization of f32 activations for the int8 linear kernel, in the layout of
// int8-blocks.wgsl (assembled before this file). One thread per block.

struct QuantizeParams {
  m: u32,
  k: u32,
  x_offset: u32,
  x_stride: u32,
  scales_base: u32,
  // Threads per row of the folded grid.
  grid_stride: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> quantized: array<u32>;
@group(0) @binding(2) var<uniform> params: QuantizeParams;

@compute @workgroup_size(64)
fn quantize_activations(@builtin(global_invocation_id) id: vec3<u32>) {
  let blocks_per_row = params.k / 32u;
  let index = id.y * params.grid_stride + id.x;
  if (index >= params.m * blocks_per_row) {
    return;
  }
  let m = index / blocks_per_row;
  let first = params.x_offset + m * params.x_stride + 32u * (index % blocks_per_row);
  var largest = 0.0;
  for (var i = 0u; i < 32u; i++) {
    largest = max(largest, abs(x[first + i]));
  }
  let d = largest * INVERSE_127;
  let inverse = block_inverse(d);
  var total = 0;
  for (var word = 0u; word < 8u; word++) {
    let at = first + 4u * word;
    let q = quantize4(vec4<f32>(x[at], x[at + 1u], x[at + 2u], x[at + 3u]), inverse);
    total += q.x + q.y + q.z + q.w;
    quantized[8u * index + word] = pack4xI8(q);
  }
  store_block_scale(index, params.scales_base, d, total);
}
