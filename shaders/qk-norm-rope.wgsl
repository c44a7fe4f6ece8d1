// FLUX's QK norm and rotary embedding in one pass over q and k (spec/flux.md §1.3, §2), in place:
// per head, v · rsqrt(mean(v²) + eps) · scale (RMSNorm, scale [head_dim] shared by the heads),
// then pair p (dims 2p, 2p+1) rotated by (cos, sin) from row t, column p of the table
// (shaders/rope.wgsl, table row t = view row + table_offset). The same arithmetic as rms_norm
// (norm.wgsl) followed by rope, without writing and re-reading q and k in between.
//
// One workgroup per (tensor, row, head): workgroups [0, rows·heads) take q, the next rows·heads
// take k. Lane i owns pairs i, i + WORKGROUP, …; the sum of squares is a fixed tree in workgroup
// memory, so every run gives the same bits.

const WORKGROUP = 64u;

struct QkNormRopeParams {
  rows: u32,
  heads: u32,
  // head_dim / 2
  pairs: u32,
  // MatrixViews of q and k, in elements
  queries_offset: u32,
  queries_stride: u32,
  keys_offset: u32,
  keys_stride: u32,
  // element offsets of the RMSNorm scales in their buffers
  query_scale_offset: u32,
  key_scale_offset: u32,
  // table row of view row 0
  table_offset: u32,
  eps: f32,
  // workgroups per row of the folded 2-D grid
  grid_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> queries: array<f32>;
@group(0) @binding(1) var<storage, read_write> keys: array<f32>;
@group(0) @binding(2) var<storage, read> query_scale: array<f32>;
@group(0) @binding(3) var<storage, read> key_scale: array<f32>;
// [positions, pairs] of (cos, sin)
@group(0) @binding(4) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> params: QkNormRopeParams;

var<workgroup> squares: array<f32, WORKGROUP>;

// Dims 2·pair, 2·pair + 1 of the head starting at element `first` of q (is_key false) or k.
fn load_pair(is_key: bool, first: u32, pair: u32) -> vec2<f32> {
  let e = first + 2u * pair;
  if (is_key) {
    return vec2<f32>(keys[e], keys[e + 1u]);
  }
  return vec2<f32>(queries[e], queries[e + 1u]);
}

fn store_pair(is_key: bool, first: u32, pair: u32, value: vec2<f32>) {
  let e = first + 2u * pair;
  if (is_key) {
    keys[e] = value.x;
    keys[e + 1u] = value.y;
  } else {
    queries[e] = value.x;
    queries[e + 1u] = value.y;
  }
}

fn scale_pair(is_key: bool, pair: u32) -> vec2<f32> {
  if (is_key) {
    let s = params.key_scale_offset + 2u * pair;
    return vec2<f32>(key_scale[s], key_scale[s + 1u]);
  }
  let s = params.query_scale_offset + 2u * pair;
  return vec2<f32>(query_scale[s], query_scale[s + 1u]);
}

@compute @workgroup_size(WORKGROUP)
fn qk_norm_rope(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let group = workgroup.y * params.grid_stride + workgroup.x;
  let per_tensor = params.rows * params.heads;
  // Uniform per workgroup: the barriers below are reached by all its lanes or none.
  if (group >= 2u * per_tensor) {
    return;
  }
  let is_key = group >= per_tensor;
  let row = (group % per_tensor) / params.heads;
  let head = group % params.heads;
  let width = 2u * params.pairs;
  let first = select(params.queries_offset + row * params.queries_stride, params.keys_offset + row * params.keys_stride, is_key) + head * width;

  var sum = 0.0;
  for (var pair = lane; pair < params.pairs; pair += WORKGROUP) {
    let v = load_pair(is_key, first, pair);
    sum = fma(v.y, v.y, fma(v.x, v.x, sum));
  }
  squares[lane] = sum;
  workgroupBarrier();
  for (var half = WORKGROUP / 2u; half > 0u; half >>= 1u) {
    if (lane < half) {
      squares[lane] += squares[lane + half];
    }
    workgroupBarrier();
  }
  let inverse_rms = inverseSqrt(squares[0] / f32(width) + params.eps);

  let table_row = (row + params.table_offset) * params.pairs;
  for (var pair = lane; pair < params.pairs; pair += WORKGROUP) {
    let v = load_pair(is_key, first, pair) * inverse_rms * scale_pair(is_key, pair);
    let rotation = table[table_row + pair];
    store_pair(is_key, first, pair, vec2<f32>(rotation.x * v.x - rotation.y * v.y, rotation.y * v.x + rotation.x * v.y));
  }
}
