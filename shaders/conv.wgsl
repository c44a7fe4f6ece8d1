// 2-D convolution (stride 1, zero padding (KERNEL - 1) / 2) as an implicit GEMM, for the VAE
// decoder (spec/flux.md §3.6): over the output pixels p of a band of image rows,
//   Y[p, o] = Σ_k A[p, k] · W[o, k] + bias[o]  (+ a residual, or + Y itself),
// with k = tap · C_in + c (tap = ky · KERNEL + kx) and A the im2col matrix of the input, which
// is never stored: each A value is read from the HWC input (pixel-major, channels contiguous) as
// the tile is staged, optionally through a nearest x2 upsampling of the input and through a
// per-channel affine map with SiLU (GroupNorm, normalised with statistics from group-norm.wgsl).
// Out-of-image taps read 0 after that map, as padding the normalised tensor does.
//
// Assembled by src/engine/ops/conv.ts from a generated tile-constants chunk, quant.wgsl and
// weight-planes.wgsl (weight reads and decode), this file and linear-tile.wgsl (tile geometry,
// staging, fragments, stores).
// The loop is linear-tiled.wgsl's: per K step each thread prefetches its share of A and of the
// raw weight words into registers, stages them into workgroup memory, and accumulates its
// THREAD_TILE x THREAD_TILE outputs in f32, with the next step's loads issued before the FMAs.

// Weight type: TYPE_F32, TYPE_F16 or TYPE_BF16 of quant.wgsl.
override WEIGHT_TYPE: u32;

const PROLOGUE_NONE = 0u;
const PROLOGUE_AFFINE = 1u;
const PROLOGUE_AFFINE_SILU = 2u;
const RESIDUAL_NONE = 0u;
// + residual_source[p, o] (a view of another buffer)
const RESIDUAL_VIEW = 1u;
// + Y[p, o]: the output accumulates in place
const RESIDUAL_ACCUMULATE = 2u;

const ACTIVATION_LOADS = BM * BK / THREADS;
// Tile rows between the successive A loads of one thread (the thread's K column stays fixed:
// conv.ts requires THREADS to be a multiple of 4 * BK).
const LOAD_ROW_STEP = THREADS / BK;
// A load slot whose pixel lies past the band.
const NO_PIXEL = 0xffffffffu;

struct ConvParams {
  // GEMM shape: output pixels of the band, output channels, taps * input channels
  m: u32,
  n: u32,
  k: u32,
  // output band: pixels per row, image row of its first pixel
  out_width: u32,
  out_first_row: u32,
  // input image before upsampling
  in_height: u32,
  in_width: u32,
  in_channels: u32,
  // bound input window: element offset of its first pixel, elements per pixel, its image row
  in_offset: u32,
  in_stride: u32,
  in_first_row: u32,
  // 1 or 3
  kernel_size: u32,
  // 1: the input is upsampled x2 (nearest) before the convolution
  upsample: u32,
  prologue: u32,
  // element offset of scale [C_in] followed by shift [C_in]
  affine_offset: u32,
  y_offset: u32,
  y_stride: u32,
  bias_offset: u32,
  residual: u32,
  residual_offset: u32,
  residual_stride: u32,
  // weight planes of src/engine/ops/weights.ts, in u32 words
  weight_row_words: u32,
  // 8-weight groups per weight row (padded K / 8)
  weight_groups: u32,
  tiles_m: u32,
  tiles_n: u32,
  grid_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> affine: array<f32>;
@group(0) @binding(3) var<storage, read> residual_source: array<f32>;
@group(0) @binding(4) var<storage, read> weights: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> x: array<f32>;
@group(0) @binding(6) var<uniform> params: ConvParams;

// Output pixel (row << 16 | column, image coordinates) of each A load slot of this thread.
var<private> load_pixels: array<u32, ACTIVATION_LOADS>;
// Tap and input channel of this thread's K column at the current step.
var<private> load_tap: u32;
var<private> load_channel: u32;

fn silu(value: f32) -> f32 {
  // value · sigmoid(value) through e^-|value|, which never overflows.
  let e = exp(-abs(value));
  return value * select(e, 1.0, value >= 0.0) / (1.0 + e);
}

// Element offset of input pixel (row, column) of the upsampled image in x, or NO_PIXEL outside
// the image.
fn input_pixel(row: i32, column: i32) -> u32 {
  let scale = params.upsample + 1u;
  if (row < 0 || column < 0 || u32(row) >= params.in_height * scale || u32(column) >= params.in_width * scale) {
    return NO_PIXEL;
  }
  let source_row = u32(row) / scale - params.in_first_row;
  let source_column = u32(column) / scale;
  return params.in_offset + (source_row * params.in_width + source_column) * params.in_stride;
}

// The prologue: GroupNorm's affine map, then SiLU.
fn activate(value: f32, channel: u32) -> f32 {
  var result = value;
  if (params.prologue != PROLOGUE_NONE) {
    result = fma(result, affine[params.affine_offset + channel], affine[params.affine_offset + params.in_channels + channel]);
  }
  if (params.prologue == PROLOGUE_AFFINE_SILU) {
    result = silu(result);
  }
  return result;
}

// The input as the convolution sees it: upsampled, normalised, activated; 0 outside the image.
fn input_value(row: i32, column: i32, channel: u32) -> f32 {
  let pixel = input_pixel(row, column);
  if (pixel == NO_PIXEL) {
    return 0.0;
  }
  return activate(x[pixel + channel], channel);
}

// A[pixel, k] at this thread's current K column; 0 in the padding of K.
fn im2col(pixel: u32) -> f32 {
  let taps = params.kernel_size * params.kernel_size;
  if (pixel == NO_PIXEL || load_tap >= taps) {
    return 0.0;
  }
  let pad = i32(params.kernel_size / 2u);
  let row = i32(pixel >> 16u) + i32(load_tap / params.kernel_size) - pad;
  let column = i32(pixel & 0xffffu) + i32(load_tap % params.kernel_size) - pad;
  return input_value(row, column, load_channel);
}

fn load_column(thread: u32) -> u32 {
  return thread % 8u + 8u * ((thread / 32u) % (BK / 8u));
}

// Same (row, column) pattern as linear-tiled.wgsl: 32 consecutive threads cover 4 tile rows x 8
// columns, so a warp reads 8 consecutive channels of 4 pixels, and its transposing stores hit
// distinct banks (with the slot swizzle).
fn start_loads(origin_m: u32, thread: u32) {
  let first_row = (thread / 8u) % 4u + 4u * (thread / (4u * BK));
  for (var i = 0u; i < ACTIVATION_LOADS; i++) {
    let m = origin_m + first_row + i * LOAD_ROW_STEP;
    load_pixels[i] = NO_PIXEL;
    if (m < params.m) {
      load_pixels[i] = ((params.out_first_row + m / params.out_width) << 16u) | (m % params.out_width);
    }
  }
  let column = load_column(thread);
  load_tap = column / params.in_channels;
  load_channel = column % params.in_channels;
}

fn advance_column() {
  load_channel += BK;
  while (load_channel >= params.in_channels) {
    load_channel -= params.in_channels;
    load_tap += 1u;
  }
}

// linear-tile.wgsl's weight fetch, through weight-planes.wgsl (float weights have no high-bit or
// scale planes).
fn fetch_weight_group(row: u32, group: u32) -> RawGroup {
  return read_weight_group(WeightPlanes(params.n, params.weight_row_words, 0u, 0u, 0u, params.weight_groups), row, group);
}

fn store_output(m: u32, n: u32, sum: f32) {
  var value = sum + bias[params.bias_offset + n];
  let index = params.y_offset + m * params.y_stride + n;
  if (params.residual == RESIDUAL_VIEW) {
    value += residual_source[params.residual_offset + m * params.residual_stride + n];
  } else if (params.residual == RESIDUAL_ACCUMULATE) {
    value += y[index];
  }
  y[index] = value;
}

struct Prefetch {
  activations: array<f32, ACTIVATION_LOADS>,
  weights: array<RawGroup, WEIGHT_FETCHES>,
}

// This thread's A values and raw weight words for K step k0; moves the K column on.
fn prefetch(origin_n: u32, k0: u32, thread: u32) -> Prefetch {
  var next = Prefetch();
  for (var i = 0u; i < ACTIVATION_LOADS; i++) {
    next.activations[i] = im2col(load_pixels[i]);
  }
  advance_column();
  next.weights = fetch_weight_tile(origin_n, k0, thread);
  return next;
}

fn stage_tiles(next: Prefetch, thread: u32) {
  let column = load_column(thread);
  let first_row = (thread / 8u) % 4u + 4u * (thread / (4u * BK));
  for (var i = 0u; i < ACTIVATION_LOADS; i++) {
    stage(A_TILE, column, first_row + i * LOAD_ROW_STEP, BM, TileScalar(next.activations[i]));
  }
  for (var i = 0u; i < WEIGHT_FETCHES; i++) {
    let e = thread + i * THREADS;
    if (e < WEIGHT_GROUPS_PER_TILE) {
      let row = e / GROUPS_PER_TILE_ROW;
      let group = e % GROUPS_PER_TILE_ROW;
      let values = decode_group(WEIGHT_TYPE, next.weights[i]);
      for (var run = 0u; run < 2u; run++) {
        let first = run_column(WEIGHT_TYPE, group, run);
        for (var c = 0u; c < 4u; c++) {
          stage(B_TILE, first + c, row, BN, TileScalar(values[run][c]));
        }
      }
    }
  }
}

@compute @workgroup_size(THREADS)
fn conv(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) thread: u32) {
  let tile = tile_index(workgroup);
  if (tile >= params.tiles_m * params.tiles_n) {
    return;
  }
  let origin = tile_origin(tile);
  let tx = thread % THREADS_N;
  let ty = thread / THREADS_N;
  start_loads(origin.x, thread);
  var sums = array<array<f32, THREAD_TILE>, THREAD_TILE>();
  var next = prefetch(origin.y, 0u, thread);
  for (var k0 = 0u; k0 < params.k; k0 += BK) {
    workgroupBarrier();
    stage_tiles(next, thread);
    workgroupBarrier();
    if (k0 + BK < params.k) {
      next = prefetch(origin.y, k0 + BK, thread);
    }
    // Written out here and in linear-tiled.wgsl rather than shared through a function: moving this
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

const DIRECT_THREADS = 64u;
// Output channels per thread: they share every activated input value (the prologue's exp).
const DIRECT_OUTPUTS = 8u;

// Direct convolution (tiles 'direct'): DIRECT_OUTPUTS outputs of one pixel per thread, no
// workgroup memory, no barriers. Far from peak on a real GPU, but the fastest shape on a CPU
// implementation of WebGPU (SwiftShader), so 'auto' picks it on software adapters, as the linear
// family does. Per tap the pixel is resolved once (out-of-image taps add nothing: padding reads
// 0 after the prologue); per 8-weight group the weights are decoded once.
@compute @workgroup_size(DIRECT_THREADS)
fn conv_direct(@builtin(global_invocation_id) id: vec3<u32>) {
  let channel_blocks = (params.n + DIRECT_OUTPUTS - 1u) / DIRECT_OUTPUTS;
  let index = id.y * params.grid_stride + id.x;
  if (index >= params.m * channel_blocks) {
    return;
  }
  let m = index / channel_blocks;
  let first_n = DIRECT_OUTPUTS * (index % channel_blocks);
  let row = i32(params.out_first_row + m / params.out_width);
  let column = i32(m % params.out_width);
  let pad = i32(params.kernel_size / 2u);
  var sums: array<f32, DIRECT_OUTPUTS>;
  for (var tap = 0u; tap < params.kernel_size * params.kernel_size; tap++) {
    let pixel = input_pixel(row + i32(tap / params.kernel_size) - pad, column + i32(tap % params.kernel_size) - pad);
    if (pixel == NO_PIXEL) {
      continue;
    }
    // k = tap · C_in + channel walks the weight rows in runs that end at a group's or a tap's end.
    var channel = 0u;
    while (channel < params.in_channels) {
      let k = tap * params.in_channels + channel;
      let within = k % 8u;
      let count = min(8u - within, params.in_channels - channel);
      var weights: array<array<vec4<f32>, 2>, DIRECT_OUTPUTS>;
      for (var j = 0u; j < DIRECT_OUTPUTS; j++) {
        weights[j] = decode_group(WEIGHT_TYPE, fetch_weight_group(min(first_n + j, params.n - 1u), k / 8u));
      }
      for (var i = 0u; i < count; i++) {
        let value = activate(x[pixel + channel + i], channel + i);
        let slot = within + i;
        for (var j = 0u; j < DIRECT_OUTPUTS; j++) {
          sums[j] = fma(weights[j][slot / 4u][slot % 4u], value, sums[j]);
        }
      }
      channel += count;
    }
  }
  for (var j = 0u; j < DIRECT_OUTPUTS && first_n + j < params.n; j++) {
    store_output(m, first_n + j, sums[j]);
  }
}
