// Register-tiled linear kernel on f32 activations (variants 'f32', 'f16' and 'baseline' of
// src/engine/ops/linear.ts; the tile shape decides which). Per K step each thread loads its
// share of X and of the raw weight words into registers, the workgroup stages them (weights
// dequantized on the way) into workgroup memory, and every thread accumulates its
// THREAD_TILE x THREAD_TILE outputs in f32. The next step's global loads are issued before the
// current step's multiply-adds, so their latency hides behind them: two barriers per step.

const ACTIVATION_LOADS = BM * BK / THREADS;

struct Prefetch {
  activations: array<f32, ACTIVATION_LOADS>,
  weights: array<RawGroup, WEIGHT_FETCHES>,
}

// (row, column) within the tile of the e-th activation the workgroup loads. 32 consecutive
// indices cover 4 rows x 8 columns: global reads stay in 32-byte runs, and the transposing stores
// of a warp hit 32 different banks (with the slot swizzle).
fn activation_coords(e: u32) -> vec2<u32> {
  let column = e % 8u + 8u * ((e / 32u) % (BK / 8u));
  let row = (e / 8u) % 4u + 4u * (e / (4u * BK));
  return vec2<u32>(row, column);
}

fn prefetch(origin: vec2<u32>, k0: u32, thread: u32) -> Prefetch {
  var next: Prefetch;
  for (var i = 0u; i < ACTIVATION_LOADS; i++) {
    let at = activation_coords(thread + i * THREADS);
    next.activations[i] = activation(origin.x + at.x, k0 + at.y);
  }
  next.weights = fetch_weight_tile(origin.y, k0, thread);
  return next;
}

fn stage_tiles(next: Prefetch, thread: u32) {
  for (var i = 0u; i < ACTIVATION_LOADS; i++) {
    let at = activation_coords(thread + i * THREADS);
    stage(A_TILE, at.y, at.x, BM, TileScalar(next.activations[i]));
  }
  for (var i = 0u; i < WEIGHT_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < WEIGHT_GROUPS_PER_TILE) {
      let row = e / GROUPS_PER_TILE_ROW;
      let group = e % GROUPS_PER_TILE_ROW;
      let values = decode_group(WEIGHT_TYPE, next.weights[i]);
      for (var run = 0u; run < 2u; run++) {
        let column = run_column(WEIGHT_TYPE, group, run);
        for (var c = 0u; c < 4u; c++) {
          stage(B_TILE, column + c, row, BN, TileScalar(values[run][c]));
        }
      }
    }
  }
}

@compute @workgroup_size(THREADS)
fn linear_tiled(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) thread: u32) {
  let tile = tile_index(workgroup);
  if (tile >= params.tiles_m * params.tiles_n) {
    return;
  }
  let origin = tile_origin(tile);
  let tx = thread % THREADS_N;
  let ty = thread / THREADS_N;
  var sums: array<array<f32, THREAD_TILE>, THREAD_TILE>;
  var next = prefetch(origin, 0u, thread);
  for (var k0 = 0u; k0 < params.k; k0 += BK) {
    workgroupBarrier();
    stage_tiles(next, thread);
    workgroupBarrier();
    if (k0 + BK < params.k) {
      next = prefetch(origin, k0 + BK, thread);
    }
    // Written out here and in conv.wgsl rather than shared through a function: moving this
    // loop and the weight staging above into helpers that take and return arrays by value made a
    // FLUX step 10x slower on an H100 (12.6 s against 1.2 s at 512x512; such arrays end up in
    // local memory).
    for (var depth = 0u; depth < BK; depth++) {
      let a = fragment(A_TILE, depth, ty, THREADS_M, BM);
      let b = fragment(B_TILE, depth, tx, THREADS_N, BN);
      for (var i = 0u; i < THREAD_TILE; i++) {
        for (var j = 0u; j < THREAD_TILE; j++) {
          sums[i][j] += f32(a[i]) * f32(b[j]);
        }
      }
    }
  }
  store_tile(origin, tx, ty, sums);
}
