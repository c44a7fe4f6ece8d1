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
// gives the same bits. The source/target bindings come from norm-io-separate.wgsl or
// norm-io-in-place.wgsl (one buffer cannot be bound as both read-only and writable in one
// dispatch), which declare `params` and load_source(i) / store_target(i, value).

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

@compute @workgroup_size(WORKGROUP)
fn layer_norm(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let group = group_index(workgroup);
  if (group >= params.group_count) {
    return;
  }
  let source = group_start(group, params.source_offset, params.source_stride);
  let destination = group_start(group, params.target_offset, params.target_stride);
  let size = params.group_size;
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
  let inverse_deviation = inverseSqrt(workgroup_sum(squares, lane) / f32(size) + params.eps);
  for (var c = lane; c < size; c += WORKGROUP) {
    let normalised = (load_source(source + c) - mean) * inverse_deviation;
    store_target(destination + c, fma(normalised, params.scale_base + affine[params.scale_offset + c], affine[params.shift_offset + c]));
  }
}

@compute @workgroup_size(WORKGROUP)
fn rms_norm(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let group = group_index(workgroup);
  if (group >= params.group_count) {
    return;
  }
  let source = group_start(group, params.source_offset, params.source_stride);
  let destination = group_start(group, params.target_offset, params.target_stride);
  let size = params.group_size;
  var squares = 0.0;
  for (var c = lane; c < size; c += WORKGROUP) {
    let value = load_source(source + c);
    squares = fma(value, value, squares);
  }
  let inverse_rms = inverseSqrt(workgroup_sum(squares, lane) / f32(size) + params.eps);
  for (var c = lane; c < size; c += WORKGROUP) {
    store_target(destination + c, load_source(source + c) * inverse_rms * affine[params.scale_offset + c]);
  }
}
