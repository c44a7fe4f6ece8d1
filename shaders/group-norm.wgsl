// GroupNorm statistics for the VAE decoder (spec/flux.md §3.6: 32 groups, eps 1e-6, affine) of an
// HWC image that may be stored in row bands. `row_statistics` reduces each image row to one
// (mean, M2) pair per group: a workgroup per row, two passes over the row (the mean, then the
// squared deviations from it). `channel_affine` merges the rows in row order (Chan et al.'s
// pairwise update) and folds gamma and beta into a per-channel scale and shift, which the
// convolution applies as it loads its input (conv.wgsl's prologue). Only per-row partials cross
// band boundaries, so the result is the same, bit for bit, however the image is banded.

const GROUPS = 32u;
// Threads sharing one group's part of a row.
const LANES = 8u;
const WORKGROUP = GROUPS * LANES;

struct RowParams {
  width: u32,
  channels: u32,
  // band view: element offset of its first pixel, elements from one pixel to the next
  source_offset: u32,
  source_stride: u32,
  // image row of the band's first row (where its partials go)
  first_row: u32,
}

@group(0) @binding(0) var<storage, read> source: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> row_params: RowParams;

var<workgroup> lane_totals: array<f32, WORKGROUP>;

// Sum of `value` over the LANES threads of `group` (thread = lane · GROUPS + group), as a fixed tree.
fn group_total(value: f32, thread: u32, group: u32) -> f32 {
  lane_totals[thread] = value;
  workgroupBarrier();
  for (var width = LANES / 2u; width > 0u; width >>= 1u) {
    if (thread < width * GROUPS) {
      lane_totals[thread] += lane_totals[thread + width * GROUPS];
    }
    workgroupBarrier();
  }
  let total = lane_totals[group];
  // Everyone has read the total before the array is reused.
  workgroupBarrier();
  return total;
}

// partials[image row, group] = (mean, sum of squared deviations) of the group's values in the row.
@compute @workgroup_size(WORKGROUP)
fn row_statistics(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) thread: u32) {
  let p = row_params;
  let group = thread % GROUPS;
  let lane = thread / GROUPS;
  let group_channels = p.channels / GROUPS;
  let row_start = p.source_offset + workgroup.x * p.width * p.source_stride + group * group_channels;
  var sum = 0.0;
  for (var column = lane; column < p.width; column += LANES) {
    for (var c = 0u; c < group_channels; c++) {
      sum += source[row_start + column * p.source_stride + c];
    }
  }
  let mean = group_total(sum, thread, group) / f32(p.width * group_channels);
  var squares = 0.0;
  for (var column = lane; column < p.width; column += LANES) {
    for (var c = 0u; c < group_channels; c++) {
      let deviation = source[row_start + column * p.source_stride + c] - mean;
      squares = fma(deviation, deviation, squares);
    }
  }
  let m2 = group_total(squares, thread, group);
  if (lane == 0u) {
    partials[(p.first_row + workgroup.x) * GROUPS + group] = vec2<f32>(mean, m2);
  }
}

struct AffineParams {
  height: u32,
  width: u32,
  channels: u32,
  // gamma [channels] then beta [channels]
  weight_offset: u32,
  // written: scale [channels] then shift [channels]
  affine_offset: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> row_partials: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> norm_weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> affine_target: array<f32>;
@group(0) @binding(3) var<uniform> affine_params: AffineParams;

// One thread per group: merges the rows' partials in row order, then writes the group's channels.
@compute @workgroup_size(GROUPS)
fn channel_affine(@builtin(local_invocation_index) group: u32) {
  let p = affine_params;
  let group_channels = p.channels / GROUPS;
  let row_values = f32(p.width * group_channels);
  var mean = 0.0;
  var m2 = 0.0;
  // Rows 0..row-1 (row · row_values values) merged with row `row` (row_values values).
  for (var row = 0u; row < p.height; row++) {
    let partial = row_partials[row * GROUPS + group];
    let delta = partial.x - mean;
    let share = 1.0 / f32(row + 1u);
    mean = fma(delta, share, mean);
    m2 += partial.y + delta * delta * row_values * f32(row) * share;
  }
  let inverse_deviation = 1.0 / sqrt(m2 / (row_values * f32(p.height)) + p.eps);
  for (var c = group * group_channels; c < (group + 1u) * group_channels; c++) {
    let scale = norm_weight[p.weight_offset + c] * inverse_deviation;
    affine_target[p.affine_offset + c] = scale;
    affine_target[p.affine_offset + p.channels + c] = norm_weight[p.weight_offset + p.channels + c] - mean * scale;
  }
}
