// Subgroup linear kernel for few rows (variant 'subgroups'; 'auto' picks it for M <= 4, the
// modulation GEMV among them). One workgroup per output column n: its threads split the row of W
// into 8-weight groups (coalesced reads of one weight row, no workgroup tiles to stage), each
// thread accumulates GEMV_ROWS rows of X at a time, and the partial sums are reduced by
// subgroupAdd, then across subgroups through workgroup memory in a fixed order (deterministic).
// Needs `enable subgroups;` from the config chunk.

const GEMV_THREADS = 64u;
// Rows of X per pass: one vec4 of partial sums per thread.
const GEMV_ROWS = 4u;

var<workgroup> subgroup_sums: array<vec4<f32>, GEMV_THREADS>;

@compute @workgroup_size(GEMV_THREADS)
fn linear_gemv(
  @builtin(workgroup_id) workgroup: vec3<u32>,
  @builtin(local_invocation_index) thread: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let n = workgroup.y * params.grid_stride + workgroup.x;
  if (n >= params.n) {
    return;
  }
  let rounds = (params.weight_groups + GEMV_THREADS - 1u) / GEMV_THREADS;
  for (var m0 = 0u; m0 < params.m; m0 += GEMV_ROWS) {
    var sums = vec4<f32>();
    for (var round = 0u; round < rounds; round++) {
      let group = round * GEMV_THREADS + thread;
      let weights = decode_group(WEIGHT_TYPE, fetch_weight_group(n, group));
      for (var run = 0u; run < 2u; run++) {
        let k = run_column(WEIGHT_TYPE, group, run);
        for (var row = 0u; row < GEMV_ROWS; row++) {
          sums[row] += dot(weights[run], activation_run(m0 + row, k));
        }
      }
    }
    // Every subgroup's total lands in the slot of its first lane; the other slots hold zeros,
    // whatever the subgroup size.
    let total = subgroupAdd(sums);
    subgroup_sums[thread] = select(vec4<f32>(), total, lane == 0u);
    workgroupBarrier();
    if (thread < GEMV_ROWS && m0 + thread < params.m) {
      var sum = 0.0;
      for (var i = 0u; i < GEMV_THREADS; i++) {
        sum += subgroup_sums[i][thread];
      }
      store_output(m0 + thread, n, sum);
    }
    workgroupBarrier();
  }
}
