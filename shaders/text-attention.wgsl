// Image-to-text attention statistics behind CharaConsist's foreground mask
// (spec/characonsist-official.md §5). Per single block, image query i and head h:
//   p_h(i, j) = softmax over the real prompt tokens j < real_len of q_i·k_j, with NO 1/sqrt(d)
//   scale (as the official code does), q and k after QK-norm and RoPE;
//   bg(i) = mean over j < bg_len of sum_h p_h(i, j), fg(i) = the same over bg_len <= j < real_len.
// Three kernels (module = token-dot-tile.wgsl + this file):
//   head_mass          per (tile of 64 image tokens, head): sum of p_h over each range -> [heads, N]
//   accumulate_scores  per token, heads summed in a fixed order, divided by the range lengths, added
//                      to the running per-token sums over blocks (one thread owns a token: no atomics)
//   foreground_mask    mask = background sum <= foreground sum (ties -> foreground)
// Empty ranges: an empty range holds no probability, and its mean is defined as 0. So bg_len = 0
// makes every token foreground (0 <= fg), bg_len = real_len makes every token background (bg is
// heads / real_len > 0 = fg), and real_len = 0 gives 0 <= 0: foreground. Never NaN.
// Each kernel declares its own bindings: WGSL binding numbers are unique per entry point.

override HEAD_DIM: u32 = 128u;

// ---- head_mass ----

struct HeadMassParams {
  image_tokens: u32,
  query_offset: u32,
  query_stride: u32,
  key_offset: u32,
  key_stride: u32,
  real_len: u32,
  bg_len: u32,
}

@group(0) @binding(0) var<storage, read> queries: array<f32>;
@group(0) @binding(1) var<storage, read> keys: array<f32>;
@group(0) @binding(2) var<storage, read_write> head_mass_out: array<vec2<f32>>;
@group(0) @binding(3) var<uniform> mass_params: HeadMassParams;

fn load_a(row: u32, col: u32) -> f32 {
  return queries[mass_params.query_offset + row * mass_params.query_stride + col];
}

fn load_b(row: u32, col: u32) -> f32 {
  return keys[mass_params.key_offset + row * mass_params.key_stride + col];
}

// Below any real logit; far enough from f32's range that subtracting a logit stays finite.
const NO_LOGIT = -1.0e30;

// Online softmax over the keys a thread has seen so far, for its 4 query rows (one per component):
// running maximum, and the sums of exp(logit - maximum) over all keys and over each range.
struct SoftmaxMass {
  maximum: vec4<f32>,
  total: vec4<f32>,
  background: vec4<f32>,
  foreground: vec4<f32>,
}

// [row in tile][lane.x]: per-lane partial values, combined in lane order.
var<workgroup> lane_parts: array<f32, TILE * LANES>;

@compute @workgroup_size(16, 16)
fn head_mass(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
  let lane = local.xy;
  let first_token = group.x * TILE;
  let head = group.y;
  let real_len = mass_params.real_len;
  var state = SoftmaxMass(vec4(NO_LOGIT), vec4(0.0), vec4(0.0), vec4(0.0));
  for (var first_key = 0u; first_key < real_len; first_key += TILE) {
    let range = DotTileRange(first_token, mass_params.image_tokens, first_key, real_len, head * HEAD_DIM, HEAD_DIM);
    state = absorb_keys(state, dot_tile(lane, range), first_key + lane.x);
  }
  let combined = combine_lanes(state, lane);
  // Normalise once per head. The largest logit adds exp(0) = 1, so total >= 1 whenever there are
  // keys; with none (real_len = 0) every sum is 0 and max(total, 1) keeps the mass 0.
  let normaliser = max(combined.total, vec4(1.0));
  let background = combined.background / normaliser;
  let foreground = combined.foreground / normaliser;
  if (lane.x != 0u) {
    return;
  }
  for (var i = 0u; i < SPAN; i++) {
    let token = first_token + lane.y + LANES * i;
    if (token < mass_params.image_tokens) {
      head_mass_out[head * mass_params.image_tokens + token] = vec2(background[i], foreground[i]);
    }
  }
}

// Folds one tile of logits (logits[j] = the 4 rows against key first_key + 16 j) into the state.
fn absorb_keys(state: SoftmaxMass, logits: array<vec4<f32>, SPAN>, first_key: u32) -> SoftmaxMass {
  var maximum = state.maximum;
  for (var j = 0u; j < SPAN; j++) {
    if (first_key + LANES * j < mass_params.real_len) {
      maximum = max(maximum, logits[j]);
    }
  }
  let rescale = exp(state.maximum - maximum);
  var next = SoftmaxMass(maximum, state.total * rescale, state.background * rescale, state.foreground * rescale);
  for (var j = 0u; j < SPAN; j++) {
    let key = first_key + LANES * j;
    if (key < mass_params.real_len) {
      let weight = exp(logits[j] - maximum);
      next.total += weight;
      if (key < mass_params.bg_len) {
        next.background += weight;
      } else {
        next.foreground += weight;
      }
    }
  }
  return next;
}

// Merges the 16 lanes that share each query row: common maximum, then sums in lane order.
fn combine_lanes(state: SoftmaxMass, lane: vec2<u32>) -> SoftmaxMass {
  let row_maximum = max_over_lanes(state.maximum, lane);
  let rescale = exp(state.maximum - row_maximum);
  return SoftmaxMass(
    row_maximum,
    sum_over_lanes(state.total * rescale, lane),
    sum_over_lanes(state.background * rescale, lane),
    sum_over_lanes(state.foreground * rescale, lane),
  );
}

fn share_with_lanes(value: vec4<f32>, lane: vec2<u32>) {
  for (var i = 0u; i < SPAN; i++) {
    lane_parts[(lane.y + LANES * i) * LANES + lane.x] = value[i];
  }
  workgroupBarrier();
}

fn max_over_lanes(value: vec4<f32>, lane: vec2<u32>) -> vec4<f32> {
  share_with_lanes(value, lane);
  var result = vec4(NO_LOGIT);
  for (var i = 0u; i < SPAN; i++) {
    for (var other = 0u; other < LANES; other++) {
      result[i] = max(result[i], lane_parts[(lane.y + LANES * i) * LANES + other]);
    }
  }
  workgroupBarrier();
  return result;
}

fn sum_over_lanes(value: vec4<f32>, lane: vec2<u32>) -> vec4<f32> {
  share_with_lanes(value, lane);
  var result = vec4(0.0);
  for (var i = 0u; i < SPAN; i++) {
    for (var other = 0u; other < LANES; other++) {
      result[i] += lane_parts[(lane.y + LANES * i) * LANES + other];
    }
  }
  workgroupBarrier();
  return result;
}

// ---- accumulate_scores ----

struct AccumulateParams {
  image_tokens: u32,
  heads: u32,
  bg_len: u32,
  real_len: u32,
  // 1 for the first block of a run: overwrite the sums instead of adding to them.
  first_block: u32,
  // Threads per grid row (workgroups in x * 256), to turn the 2-D grid into a flat index.
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> head_mass_in: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> score_sums: array<vec2<f32>>;
@group(0) @binding(2) var<uniform> accumulate_params: AccumulateParams;

@compute @workgroup_size(256)
fn accumulate_scores(@builtin(global_invocation_id) id: vec3<u32>) {
  let token = id.y * accumulate_params.row_stride + id.x;
  let tokens = accumulate_params.image_tokens;
  if (token >= tokens) {
    return;
  }
  var mass = vec2(0.0);
  for (var head = 0u; head < accumulate_params.heads; head++) {
    mass += head_mass_in[head * tokens + token];
  }
  let bg_len = accumulate_params.bg_len;
  // An empty range has no mass: dividing by max(length, 1) makes its mean 0.
  let lengths = vec2(f32(max(bg_len, 1u)), f32(max(accumulate_params.real_len - bg_len, 1u)));
  let scores = mass / lengths;
  if (accumulate_params.first_block != 0u) {
    score_sums[token] = scores;
  } else {
    score_sums[token] += scores;
  }
}

// ---- foreground_mask ----

struct MaskParams {
  image_tokens: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> block_score_sums: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> mask: array<u32>;
@group(0) @binding(2) var<uniform> mask_params: MaskParams;

// The official rule compares the means over blocks; both sums share the block count, so comparing
// the sums gives the same order without a division that could round two means into a false tie.
@compute @workgroup_size(256)
fn foreground_mask(@builtin(global_invocation_id) id: vec3<u32>) {
  let token = id.y * mask_params.row_stride + id.x;
  if (token >= mask_params.image_tokens) {
    return;
  }
  let sums = block_score_sums[token];
  mask[token] = u32(sums.x <= sums.y);
}
