// Layout kernels: moving token rows between views and packing latents into tokens. Pure copies,
// so results are exact. One thread per element, on a 2-D grid folded by the host (ops/grid.ts):
// the flat index is id.y * row_stride + id.x. Each section declares its own bindings (WGSL binding
// numbers are unique per entry point, not per module).

// ---- gather_rows / scatter_rows: rows chosen by an index list ----

struct IndexedRowsParams {
  count: u32,
  cols: u32,
  source_offset: u32,
  source_stride: u32,
  source_rows: u32,
  target_offset: u32,
  target_stride: u32,
  target_rows: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> indexed_source: array<f32>;
@group(0) @binding(1) var<storage, read> row_indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> indexed_target: array<f32>;
@group(0) @binding(3) var<uniform> indexed_params: IndexedRowsParams;

// target[i, :] = source[indices[i], :]; an index past the source view gives a row of zeros.
@compute @workgroup_size(256)
fn gather_rows(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = indexed_params;
  let flat = id.y * p.row_stride + id.x;
  if (flat >= p.count * p.cols) {
    return;
  }
  let row = flat / p.cols;
  let col = flat % p.cols;
  let source_row = row_indices[row];
  var value = 0.0;
  if (source_row < p.source_rows) {
    value = indexed_source[p.source_offset + source_row * p.source_stride + col];
  }
  indexed_target[p.target_offset + row * p.target_stride + col] = value;
}

// target[indices[i], :] = source[i, :]; indices must be distinct (one writer per element), and
// an index past the target view is skipped.
@compute @workgroup_size(256)
fn scatter_rows(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = indexed_params;
  let flat = id.y * p.row_stride + id.x;
  if (flat >= p.count * p.cols) {
    return;
  }
  let row = flat / p.cols;
  let col = flat % p.cols;
  let target_row = row_indices[row];
  if (target_row < p.target_rows) {
    indexed_target[p.target_offset + target_row * p.target_stride + col] = indexed_source[p.source_offset + row * p.source_stride + col];
  }
}

// ---- copy_rows: one part of a concatenation ----

struct CopyRowsParams {
  count: u32,
  cols: u32,
  source_offset: u32,
  source_stride: u32,
  target_offset: u32,
  target_stride: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> copy_source: array<f32>;
@group(0) @binding(1) var<storage, read_write> copy_target: array<f32>;
@group(0) @binding(2) var<uniform> copy_params: CopyRowsParams;

@compute @workgroup_size(256)
fn copy_rows(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = copy_params;
  let flat = id.y * p.row_stride + id.x;
  if (flat >= p.count * p.cols) {
    return;
  }
  let row = flat / p.cols;
  let col = flat % p.cols;
  copy_target[p.target_offset + row * p.target_stride + col] = copy_source[p.source_offset + row * p.source_stride + col];
}

// ---- patchify / unpatchify: latent [channels, 2 rows, 2 cols] <-> tokens [rows * cols, channels * 4] ----
// spec/flux.md §3.1: token r * cols + c, feature ch * 4 + ph * 2 + pw holds latent[ch, 2r + ph, 2c + pw].

struct PatchParams {
  rows: u32,
  cols: u32,
  channels: u32,
  token_offset: u32,
  token_stride: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> patch_source: array<f32>;
@group(0) @binding(1) var<storage, read_write> patch_target: array<f32>;
@group(0) @binding(2) var<uniform> patch_params: PatchParams;

// Latent element of (token, feature).
fn latent_index(token: u32, feature: u32) -> u32 {
  let p = patch_params;
  let channel = feature / 4u;
  let y = 2u * (token / p.cols) + (feature / 2u) % 2u;
  let x = 2u * (token % p.cols) + feature % 2u;
  return (channel * 2u * p.rows + y) * 2u * p.cols + x;
}

// One thread per token element, so the token writes are coalesced.
@compute @workgroup_size(256)
fn patchify(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = patch_params;
  let flat = id.y * p.row_stride + id.x;
  let features = 4u * p.channels;
  if (flat >= p.rows * p.cols * features) {
    return;
  }
  let token = flat / features;
  let feature = flat % features;
  patch_target[p.token_offset + token * p.token_stride + feature] = patch_source[latent_index(token, feature)];
}

// One thread per latent element, so the latent writes are coalesced.
@compute @workgroup_size(256)
fn unpatchify(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = patch_params;
  let flat = id.y * p.row_stride + id.x;
  if (flat >= p.rows * p.cols * 4u * p.channels) {
    return;
  }
  let x = flat % (2u * p.cols);
  let y = (flat / (2u * p.cols)) % (2u * p.rows);
  let channel = flat / (4u * p.rows * p.cols);
  let token = (y / 2u) * p.cols + x / 2u;
  let feature = channel * 4u + (y % 2u) * 2u + x % 2u;
  patch_target[flat] = patch_source[p.token_offset + token * p.token_stride + feature];
}
