// Rotary position embedding (spec/flux.md §2), applied in place to q or k of every head of a
// [rows, heads · 2·pairs] view. Pair p of a head (dims 2p, 2p+1) is rotated by the angle whose
// (cos, sin) sits in row t, column p of a table [positions, pairs] computed in float64 on the CPU
// (src/engine/ops/rope-table.ts):
//   out[2p]   = cos · x[2p] − sin · x[2p+1]
//   out[2p+1] = sin · x[2p] + cos · x[2p+1]
// Row i of the view uses table row t = i + table_offset (a token sequence rotated at its own
// positions), or t = positions[i] when `gathered` is set (rows gathered from one image, e.g. the
// identity's keys, re-encoded at other tokens' positions: CharaConsist's point tracking).
// One thread per rotated pair.

struct RopeParams {
  rows: u32,
  heads: u32,
  // pairs per head (head_dim / 2) = columns of the table
  pairs: u32,
  // MatrixView of q or k, in elements
  offset: u32,
  stride: u32,
  // table row of view row 0 (sequential mode)
  table_offset: u32,
  // 1: table row = positions[positions_offset + i]
  gathered: u32,
  positions_offset: u32,
  // threads per row of the folded 2-D grid
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> data: array<f32>;
// [positions, pairs] of (cos, sin)
@group(0) @binding(1) var<storage, read> table: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
@group(0) @binding(3) var<uniform> params: RopeParams;

fn table_row(row: u32) -> u32 {
  if (params.gathered != 0u) {
    return positions[params.positions_offset + row];
  }
  return row + params.table_offset;
}

@compute @workgroup_size(256)
fn rope(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.y * params.row_stride + id.x;
  let pairs_per_row = params.heads * params.pairs;
  if (i >= params.rows * pairs_per_row) {
    return;
  }
  let row = i / pairs_per_row;
  // Heads are contiguous and each head is `pairs` pairs, so pair index within the row maps
  // straight to columns (2 · pair_in_row, +1) and to table column pair_in_row % pairs.
  let pair_in_row = i % pairs_per_row;
  let rotation = table[table_row(row) * params.pairs + pair_in_row % params.pairs];
  let e = params.offset + row * params.stride + 2u * pair_in_row;
  let x = vec2<f32>(data[e], data[e + 1u]);
  data[e] = rotation.x * x.x - rotation.y * x.y;
  data[e + 1u] = rotation.y * x.x + rotation.x * x.y;
}
