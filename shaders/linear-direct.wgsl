// Direct linear kernel (variant 'direct'): each thread computes DIRECT_ROWS outputs of one
// column, decoding each weight group once for all of them; no workgroup memory, no barriers.
// Far from peak on a real GPU, but the fastest shape on a CPU implementation of WebGPU
// (SwiftShader), where barriers and large register tiles cost the most (a 22x256x256 layer runs
// in tens of ms here against ~400 ms with the 128x128 register tile), so 'auto' picks it on
// software adapters. (Spelling the four rows out by hand instead of the inner loop made
// SwiftShader's shader compiler run for minutes.)

const DIRECT_THREADS = 64u;
const DIRECT_ROWS = 4u;

@compute @workgroup_size(DIRECT_THREADS)
fn linear_direct(@builtin(global_invocation_id) id: vec3<u32>) {
  let index = id.y * params.grid_stride + id.x;
  let row_blocks = (params.m + DIRECT_ROWS - 1u) / DIRECT_ROWS;
  if (index >= row_blocks * params.n) {
    return;
  }
  let m0 = (index / params.n) * DIRECT_ROWS;
  let n = index % params.n;
  var sums = array<f32, DIRECT_ROWS>(0.0, 0.0, 0.0, 0.0);
  for (var group = 0u; group < params.weight_groups; group++) {
    let weights = decode_group(WEIGHT_TYPE, fetch_weight_group(n, group));
    let k0 = run_column(WEIGHT_TYPE, group, 0u);
    let k1 = run_column(WEIGHT_TYPE, group, 1u);
    for (var row = 0u; row < DIRECT_ROWS; row++) {
      sums[row] += dot(weights[0], activation_run(m0 + row, k0)) + dot(weights[1], activation_run(m0 + row, k1));
    }
  }
  for (var row = 0u; row < DIRECT_ROWS; row++) {
    if (m0 + row < params.m) {
      store_output(m0 + row, n, sums[row]);
    }
  }
}
