// Register-tiled linear kernel on int8 activations (variant 'int8', block-quantized weights only).
// X has been quantized per row and 32-column block by quantize-activations.wgsl (x ≈ d_x q_x);
// the weight quants become signed bytes (quant.wgsl group_bytes), and dot4I8Packed multiplies four
// pairs at once. Per block the exact integer sum is scaled in f32:
//   sum += d_x d_w Σ q_x q_w  (+ m_w d_x Σ q_x for the _1 types).
// Same tiling as linear-tiled.wgsl, with TILE_DEPTH = BK / 4 rows of packed words.

// Binding 4 (the activations, see linear.wgsl): from byte params.x_offset (a multiple of 16) the
// packed int8 quants [M, K] (int8-blocks.wgsl), and from word params.activation_scales_base the
// pairs (d_x, d_x Σ q_x) as f32 bits, [M, K/32]: rows of a larger quantized matrix are a window.
@group(0) @binding(4) var<storage, read> activations: array<vec4<u32>>;

const BLOCKS_PER_TILE = BK / 32u;
// A vec4<u32> holds 16 quantized activations.
const ACTIVATION_SLOTS_PER_ROW = BK / 16u;
const ACTIVATION_FETCHES = BM * ACTIVATION_SLOTS_PER_ROW / THREADS;
const SCALE_FETCHES = (BM * BLOCKS_PER_TILE + THREADS - 1u) / THREADS;

var<workgroup> activation_scales: array<vec2<f32>, BLOCKS_PER_TILE * BM>;
var<workgroup> weight_scales: array<vec2<f32>, BLOCKS_PER_TILE * BN>;

struct Prefetch {
  activations: array<vec4<u32>, ACTIVATION_FETCHES>,
  scales: array<vec2<f32>, SCALE_FETCHES>,
  weights: array<RawGroup, WEIGHT_FETCHES>,
}

// 16 quantized activations of row m starting at column k; zero outside the matrix.
fn activation_words(m: u32, k: u32) -> vec4<u32> {
  if (m >= params.m || k >= params.k) {
    return vec4<u32>();
  }
  return activations[(params.x_offset + m * params.k + k) / 16u];
}

// (d_x, d_x Σ q_x) of block `block` of row m; zero outside the matrix.
fn activation_scale(m: u32, block: u32) -> vec2<f32> {
  if (m >= params.m || 32u * block >= params.k) {
    return vec2<f32>();
  }
  let word = params.activation_scales_base + 2u * (m * (params.k / 32u) + block);
  let slot = activations[word / 4u];
  return bitcast<vec2<f32>>(select(slot.zw, slot.xy, word % 4u == 0u));
}

fn prefetch(origin: vec2<u32>, k0: u32, thread: u32) -> Prefetch {
  var next: Prefetch;
  for (var i = 0u; i < ACTIVATION_FETCHES; i++) {
    let e = thread + i * THREADS;
    next.activations[i] = activation_words(origin.x + e / ACTIVATION_SLOTS_PER_ROW, k0 + 16u * (e % ACTIVATION_SLOTS_PER_ROW));
  }
  for (var i = 0u; i < SCALE_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < BM * BLOCKS_PER_TILE) {
      next.scales[i] = activation_scale(origin.x + e % BM, k0 / 32u + e / BM);
    }
  }
  next.weights = fetch_weight_tile(origin.y, k0, thread);
  return next;
}

fn stage_tiles(next: Prefetch, thread: u32) {
  for (var i = 0u; i < ACTIVATION_FETCHES; i++) {
    let e = thread + i * THREADS;
    let row = e / ACTIVATION_SLOTS_PER_ROW;
    let first_word = 4u * (e % ACTIVATION_SLOTS_PER_ROW);
    for (var c = 0u; c < 4u; c++) {
      stage(A_TILE, first_word + c, row, BM, next.activations[i][c]);
    }
  }
  for (var i = 0u; i < SCALE_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < BM * BLOCKS_PER_TILE) {
      activation_scales[e] = next.scales[i];
    }
  }
  for (var i = 0u; i < WEIGHT_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < WEIGHT_GROUPS_PER_TILE) {
      let row = e / GROUPS_PER_TILE_ROW;
      let group = e % GROUPS_PER_TILE_ROW;
      let quants = group_bytes(WEIGHT_TYPE, next.weights[i]);
      for (var run = 0u; run < 2u; run++) {
        stage(B_TILE, run_column(WEIGHT_TYPE, group, run) / 4u, row, BN, quants[run]);
      }
      if (group % 4u == 0u) {
        weight_scales[(group / 4u) * BN + row] = group_scale(next.weights[i]);
      }
    }
  }
}

@compute @workgroup_size(THREADS)
fn linear_int8(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) thread: u32) {
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
    for (var block = 0u; block < BLOCKS_PER_TILE; block++) {
      // Explicitly zeroed: Dawn + SwiftShader did not re-zero an uninitialised `var` declared in a loop.
      var dots = array<array<i32, THREAD_TILE>, THREAD_TILE>();
      for (var word = 8u * block; word < 8u * block + 8u; word++) {
        let a = fragment(A_TILE, word, ty, THREADS_M, BM);
        let b = fragment(B_TILE, word, tx, THREADS_N, BN);
        for (var i = 0u; i < THREAD_TILE; i++) {
          for (var j = 0u; j < THREAD_TILE; j++) {
            dots[i][j] += dot4I8Packed(a[i], b[j]);
          }
        }
      }
      for (var i = 0u; i < THREAD_TILE; i++) {
        let scale_x = activation_scales[block * BM + owned_index(i, ty, THREADS_M)];
        for (var j = 0u; j < THREAD_TILE; j++) {
          let scale_w = weight_scales[block * BN + owned_index(j, tx, THREADS_N)];
          sums[i][j] += f32(dots[i][j]) * (scale_x.x * scale_w.x);
          if (has_min(WEIGHT_TYPE)) {
            sums[i][j] += scale_x.y * scale_w.y;
          }
        }
      }
    }
  }
  store_tile(origin, tx, ty, sums);
}
