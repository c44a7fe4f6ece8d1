// FLUX's modulated LayerNorm written straight as int8 activations (layout of int8-blocks.wgsl)
// for the int8 linear kernels that read it: the normalised rows are never stored in f32. The
// same arithmetic as layer_norm (norm.wgsl) then quantize_activations, in one pass: one
// workgroup per row (groups_per_row 1); lane i quantizes blocks i, i + WORKGROUP, … of 32 columns.

@group(0) @binding(1) var<storage, read> source_rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> quantized: array<u32>;
@group(0) @binding(3) var<uniform> params: NormParams;

fn load_source(i: u32) -> f32 {
  return source_rows[i];
}

@compute @workgroup_size(WORKGROUP)
fn layer_norm_quantize(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = group_index(workgroup);
  if (row >= params.group_count) {
    return;
  }
  let source = group_start(row, params.source_offset, params.source_stride);
  let statistics = layer_norm_statistics(source, params.group_size, lane);
  let blocks = params.group_size / 32u;
  for (var block = lane; block < blocks; block += WORKGROUP) {
    let first = 32u * block;
    // The values are recomputed rather than kept: a private array indexed by this loop would
    // live in local memory on some drivers.
    var largest = 0.0;
    for (var c = first; c < first + 32u; c++) {
      largest = max(largest, abs(layer_norm_value(source, c, statistics)));
    }
    let d = largest * INVERSE_127;
    let inverse = block_inverse(d);
    let index = row * blocks + block;
    var total = 0;
    for (var word = 0u; word < 8u; word++) {
      let c = first + 4u * word;
      let values = vec4<f32>(
        layer_norm_value(source, c, statistics), layer_norm_value(source, c + 1u, statistics),
        layer_norm_value(source, c + 2u, statistics), layer_norm_value(source, c + 3u, statistics),
      );
      let q = quantize4(values, inverse);
      total += q.x + q.y + q.z + q.w;
      quantized[8u * index + word] = pack4xI8(q);
    }
    store_block_scale(index, params.scales_base, d, total);
  }
}
