// Shared core of the kernels that need dot products between two sets of token rows (text-attention
// statistics, cosine similarity): one workgroup of 16 x 16 threads computes a TILE x TILE block of
// A·Bᵀ. Concatenated in front of the module that uses it; that module defines
//   fn load_a(row: u32, col: u32) -> f32   (element of A, called only for row < a_rows)
//   fn load_b(row: u32, col: u32) -> f32
// Every output is one sequential fma chain over the depth, in the same order for every output,
// so equal input rows give bit-identical results wherever they sit.

const TILE = 64u;
const DEPTH_STEP = 16u;
const LANES = 16u;
const SPAN = 4u; // outputs per thread along each side: TILE / LANES (rows travel as one vec4)

// [depth][row]: the inner loop reads a row-vector at one depth, neighbouring lanes neighbouring words.
var<workgroup> a_tile: array<array<f32, TILE>, DEPTH_STEP>;
var<workgroup> b_tile: array<array<f32, TILE>, DEPTH_STEP>;

// Rows of A are [a_first_row, a_rows) clipped to the tile, likewise for B.
struct DotTileRange {
  a_first_row: u32,
  a_rows: u32,
  b_first_row: u32,
  b_rows: u32,
  first_col: u32,
  depth: u32,
}

// Thread `lane` gets dot(A[a_first_row + lane.y + 16 i], B[b_first_row + lane.x + 16 j]) over
// columns [first_col, first_col + depth) as result[j][i]; rows at or past a_rows / b_rows read as zero.
// Must be called in uniform control flow (it synchronises the workgroup).
fn dot_tile(lane: vec2<u32>, range: DotTileRange) -> array<vec4<f32>, SPAN> {
  let flat_lane = lane.y * LANES + lane.x;
  var acc: array<vec4<f32>, SPAN>;
  for (var d0 = 0u; d0 < range.depth; d0 += DEPTH_STEP) {
    // Consecutive lanes load consecutive columns of a row: coalesced global reads.
    for (var e = flat_lane; e < TILE * DEPTH_STEP; e += LANES * LANES) {
      let row = e / DEPTH_STEP;
      let k = e % DEPTH_STEP;
      let in_depth = d0 + k < range.depth;
      var a = 0.0;
      if (in_depth && range.a_first_row + row < range.a_rows) {
        a = load_a(range.a_first_row + row, range.first_col + d0 + k);
      }
      var b = 0.0;
      if (in_depth && range.b_first_row + row < range.b_rows) {
        b = load_b(range.b_first_row + row, range.first_col + d0 + k);
      }
      a_tile[k][row] = a;
      b_tile[k][row] = b;
    }
    workgroupBarrier();
    for (var k = 0u; k < DEPTH_STEP; k++) {
      let a = vec4(a_tile[k][lane.y], a_tile[k][lane.y + LANES], a_tile[k][lane.y + 2u * LANES], a_tile[k][lane.y + 3u * LANES]);
      for (var j = 0u; j < SPAN; j++) {
        acc[j] = fma(a, vec4(b_tile[k][lane.x + LANES * j]), acc[j]);
      }
    }
    workgroupBarrier();
  }
  return acc;
}
