// Normalisations over groups of consecutive elements in the rows of an f32 matrix view
// (spec/flux.md §1.3, §4.1, §4.2):
//   layer_norm            (scale_base + scale) · (x − mean) / sqrt(var + eps) + shift, one group
//                         per row (biased variance), with shift and scale [cols] read from the
//                         `affine` buffer: FLUX's modulated pre-attention / pre-MLP norm
//                         (scale_base 1, shift and scale from the output of a modulation GEMM),
//                         or an affine LayerNorm (scale_base 0, scale = weight, shift = bias: CLIP).
//   rms_norm              v · rsqrt(mean(v²) + eps) · weight: one group per head for FLUX's QK
//                         norm (128), one per row for T5's LayerNorm (4096).
// One workgroup normalises one group; sums are fixed trees in workgroup memory, so every run
// gives the same bits. This file holds what the kernels share; a module is this file, then
// norm-io-separate.wgsl or norm-io-in-place.wgsl (one buffer cannot be bound as both read-only
// and writable in one dispatch), which declare `params` and load_source(i) / store_target(i,
// value), then the entry points of norm-entries.wgsl; or this file and norm-quantize.wgsl
// (the modulated LayerNorm written as int8 activations).

const WORKGROUP = 128u;

struct NormParams {
  // rows × groups_per_row
  group_count: u32,
  groups_per_row: u32,
  // elements per group
  group_size: u32,
  // MatrixViews of the input and output, in elements
  source_offset: u32,
  source_stride: u32,
  target_offset: u32,
  target_stride: u32,
  // elements into `affine`: shift (layer norm only) and scale (layer norm) or weight (RMS norm)
  shift_offset: u32,
  scale_offset: u32,
  eps: f32,
  // workgroups per row of the folded 2-D grid
  grid_row_stride: u32,
  // layer norm: added to every scale (1 for FLUX's modulation, 0 for an affine weight)
  scale_base: f32,
  // norm-quantize.wgsl: word offset of the block scales in the quantized output
  scales_base: u32,
}

// The modulation buffer or the affine weight and bias (layer norm), or the RMS weight.
@group(0) @binding(0) var<storage, read> affine: array<f32>;

var<workgroup> partial_sums: array<f32, WORKGROUP>;

fn workgroup_sum(value: f32, lane: u32) -> f32 {
  partial_sums[lane] = value;
  workgroupBarrier();
  for (var width = WORKGROUP / 2u; width > 0u; width >>= 1u) {
    if (lane < width) {
      partial_sums[lane] += partial_sums[lane + width];
    }
    workgroupBarrier();
  }
  let total = partial_sums[0];
  // The next call overwrites partial_sums.
  workgroupBarrier();
  return total;
}

fn group_index(workgroup: vec3<u32>) -> u32 {
  return workgroup.y * params.grid_row_stride + workgroup.x;
}

// Element index of the group's first value in a view with the given offset and stride.
fn group_start(group: u32, offset: u32, stride: u32) -> u32 {
  let row = group / params.groups_per_row;
  let segment = group % params.groups_per_row;
  return offset + row * stride + segment * params.group_size;
}

// (mean, 1 / sqrt(var + eps)) of the `size` values from element `source` (biased variance).
fn layer_norm_statistics(source: u32, size: u32, lane: u32) -> vec2<f32> {
  var sum = 0.0;
  for (var c = lane; c < size; c += WORKGROUP) {
    sum += load_source(source + c);
  }
  let mean = workgroup_sum(sum, lane) / f32(size);
  // Second pass over the centred values: no cancellation, unlike E[x²] − mean².
  var squares = 0.0;
  for (var c = lane; c < size; c += WORKGROUP) {
    let centred = load_source(source + c) - mean;
    squares = fma(centred, centred, squares);
  }
  return vec2<f32>(mean, inverseSqrt(workgroup_sum(squares, lane) / f32(size) + params.eps));
}

// The layer norm's output at column c of the group starting at element `source`.
fn layer_norm_value(source: u32, c: u32, statistics: vec2<f32>) -> f32 {
  let normalised = (load_source(source + c) - statistics.x) * statistics.y;
  return fma(normalised, params.scale_base + affine[params.scale_offset + c], affine[params.shift_offset + c]);
}
