// Geometry shared by the register-tiled linear kernels (linear-tiled.wgsl, linear-int8.wgsl).
// The tile shape comes from a generated config chunk (src/engine/ops/linear-config.ts):
//   BM, BN       output tile: rows of X / Y, rows of W (columns of Y)
//   BK           columns of K staged per step
//   TILE_DEPTH   rows of a staged tile: BK values, or BK/4 words of packed int8
//   THREAD_TILE  outputs per thread in each direction
//   SWIZZLE      mask of the slot swizzle (0: plain layout)
//   TileScalar   element type of the staged tiles (f32, f16 or u32)
//
// Thread (tx, ty) owns THREAD_TILE x THREAD_TILE outputs in fragments of FRAGMENT consecutive
// rows (columns) spaced THREADS_M * FRAGMENT apart, so the fragment reads of a warp are
// neighbouring vec4s. X and W are staged transposed, [depth][BM] and [depth][BN] in vec4 slots,
// both in one workgroup array, and the inner loop reads both operands as whole vec4s.

const THREADS_M = BM / THREAD_TILE;
const THREADS_N = BN / THREAD_TILE;
const THREADS = THREADS_M * THREADS_N;
const FRAGMENT = min(THREAD_TILE, 4u);
const A_TILE = 0u;
const B_TILE = TILE_DEPTH * BM / 4u;
// Row tiles swept before moving to the next column tile: one weight tile and GROUP_M activation
// tiles then stay in L2 together.
const GROUP_M = 8u;

// Weight groups (8 weights, quant.wgsl) of one staged tile and per thread.
const GROUPS_PER_TILE_ROW = BK / 8u;
const WEIGHT_GROUPS_PER_TILE = BN * GROUPS_PER_TILE_ROW;
const WEIGHT_FETCHES = (WEIGHT_GROUPS_PER_TILE + THREADS - 1u) / THREADS;

var<workgroup> tiles: array<vec4<TileScalar>, TILE_DEPTH * (BM + BN) / 4u>;

// Slot of columns 4s..4s+3 of row `depth` of a staged tile. Slots are XOR-swizzled by the row so
// that transposing stores (many rows, one column) spread over the banks; the swizzle moves whole
// slots, so reads still get 4 consecutive columns.
fn tile_slot(tile: u32, depth: u32, column: u32, width: u32) -> u32 {
  return tile + depth * (width / 4u) + ((column / 4u) ^ (depth & SWIZZLE));
}

fn stage(tile: u32, depth: u32, column: u32, width: u32, value: TileScalar) {
  tiles[tile_slot(tile, depth, column, width)][column % 4u] = value;
}

// Tile row (or column) of the i-th value owned by thread `owner` of `threads` along that side.
fn owned_index(i: u32, owner: u32, threads: u32) -> u32 {
  return ((i / FRAGMENT) * threads + owner) * FRAGMENT + i % FRAGMENT;
}

// The THREAD_TILE values of row `depth` of a staged tile that thread `owner` multiplies.
fn fragment(tile: u32, depth: u32, owner: u32, threads: u32, width: u32) -> array<TileScalar, THREAD_TILE> {
  var values: array<TileScalar, THREAD_TILE>;
  for (var group = 0u; group < THREAD_TILE / FRAGMENT; group++) {
    let first = (group * threads + owner) * FRAGMENT;
    let slot = tiles[tile_slot(tile, depth, first, width)];
    for (var i = 0u; i < FRAGMENT; i++) {
      values[group * FRAGMENT + i] = slot[(first + i) % 4u];
    }
  }
  return values;
}

// Index of this workgroup's output tile in a folded 2-D grid; >= tiles_m * tiles_n for the spare
// workgroups of the last grid row.
fn tile_index(workgroup: vec3<u32>) -> u32 {
  return workgroup.y * params.grid_stride + workgroup.x;
}

// First output row (x) and column (y) of tile `index`, in GROUP_M-row sweeps.
fn tile_origin(index: u32) -> vec2<u32> {
  let per_group = GROUP_M * params.tiles_n;
  let first_m = (index / per_group) * GROUP_M;
  let group_rows = min(params.tiles_m - first_m, GROUP_M);
  let in_group = index % per_group;
  return vec2<u32>((first_m + in_group % group_rows) * BM, (in_group / group_rows) * BN);
}

// Raw weight words of the tile at columns [k0, k0 + BK) of output columns origin_n.. : this
// thread's share, group e = thread + i * THREADS (tile row e / GROUPS_PER_TILE_ROW).
fn fetch_weight_tile(origin_n: u32, k0: u32, thread: u32) -> array<RawGroup, WEIGHT_FETCHES> {
  var raw: array<RawGroup, WEIGHT_FETCHES>;
  for (var i = 0u; i < WEIGHT_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < WEIGHT_GROUPS_PER_TILE) {
      raw[i] = fetch_weight_group(origin_n + e / GROUPS_PER_TILE_ROW, k0 / 8u + e % GROUPS_PER_TILE_ROW);
    }
  }
  return raw;
}

// Writes the outputs of thread (tx, ty) of the tile at `origin` that lie inside Y.
fn store_tile(origin: vec2<u32>, tx: u32, ty: u32, sums: array<array<f32, THREAD_TILE>, THREAD_TILE>) {
  for (var i = 0u; i < THREAD_TILE; i++) {
    let m = origin.x + owned_index(i, ty, THREADS_M);
    for (var j = 0u; j < THREAD_TILE; j++) {
      let n = origin.y + owned_index(j, tx, THREADS_N);
      if (m < params.m && n < params.n) {
        store_output(m, n, sums[i][j]);
      }
    }
  }
}
