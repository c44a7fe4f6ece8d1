// Point matching for CharaConsist (spec/characonsist-official.md §6): cosine similarity between
// the frame's and the identity's image-token attention outputs ([tokens, C], heads concatenated,
// each row L2-normalised over all C), summed over the single blocks of one step; then, per frame
// token, the best identity token.
// Why a [frame tokens, identity tokens] accumulator (4096 x 4096 f32 = 64 MiB at 1024²) lives
// across all 38 blocks: the match is the argmax of the MEAN over blocks, which per-block maxima
// cannot give.
// Kernels (module = token-dot-tile.wgsl + this file), each with its own bindings (WGSL binding
// numbers are unique per entry point):
//   inverse_norms          1 / max(|row|, 1e-12) per token row (torch's F.normalize epsilon)
//   accumulate_similarity  S (+)= F·Iᵀ in 64 x 64 tiles, both inverse norms applied in the epilogue
//   best_match             per frame token: max and argmax of S over identity tokens, the max
//                          divided by the block count; ties -> the lowest identity index
//   valid_matches          frame fg AND identity fg at the match AND mean similarity > threshold

// ---- inverse_norms ----

struct NormParams {
  rows: u32,
  cols: u32,
  offset: u32,
  stride: u32,
  // Workgroups in x: a long row range is folded into a 2-D grid.
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> norm_rows: array<f32>;
@group(0) @binding(1) var<storage, read_write> inverse_norms_out: array<f32>;
@group(0) @binding(2) var<uniform> norm_params: NormParams;

const NORM_LANES = 64u;
var<workgroup> partial_squares: array<f32, NORM_LANES>;

// One workgroup per row: strided partial sums of squares, then a fixed tree.
@compute @workgroup_size(64)
fn inverse_norms(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = group.y * norm_params.groups_x + group.x;
  if (row >= norm_params.rows) {
    return;
  }
  let first = norm_params.offset + row * norm_params.stride;
  var squares = 0.0;
  for (var col = lane; col < norm_params.cols; col += NORM_LANES) {
    let value = norm_rows[first + col];
    squares = fma(value, value, squares);
  }
  partial_squares[lane] = squares;
  workgroupBarrier();
  for (var width = NORM_LANES / 2u; width > 0u; width >>= 1u) {
    if (lane < width) {
      partial_squares[lane] += partial_squares[lane + width];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    inverse_norms_out[row] = 1.0 / max(sqrt(partial_squares[0]), 1e-12);
  }
}

// ---- accumulate_similarity ----

struct SimilarityParams {
  frame_tokens: u32,
  identity_tokens: u32,
  channels: u32,
  frame_offset: u32,
  frame_stride: u32,
  identity_offset: u32,
  identity_stride: u32,
  // 1 for the first block of a step: overwrite the sums instead of adding to them.
  first_block: u32,
}

@group(0) @binding(0) var<storage, read> frame: array<f32>;
@group(0) @binding(1) var<storage, read> identity: array<f32>;
@group(0) @binding(2) var<storage, read> frame_inverse_norms: array<f32>;
@group(0) @binding(3) var<storage, read> identity_inverse_norms: array<f32>;
@group(0) @binding(4) var<storage, read_write> similarity_sums: array<f32>;
@group(0) @binding(5) var<uniform> similarity_params: SimilarityParams;

fn load_a(row: u32, col: u32) -> f32 {
  return frame[similarity_params.frame_offset + row * similarity_params.frame_stride + col];
}

fn load_b(row: u32, col: u32) -> f32 {
  return identity[similarity_params.identity_offset + row * similarity_params.identity_stride + col];
}

// Workgroup (x, y) owns identity tokens [64 x, 64 x + 64) and frame tokens [64 y, 64 y + 64).
@compute @workgroup_size(16, 16)
fn accumulate_similarity(@builtin(local_invocation_id) local: vec3<u32>, @builtin(workgroup_id) group: vec3<u32>) {
  let lane = local.xy;
  let first_frame = group.y * TILE;
  let first_identity = group.x * TILE;
  let tokens = vec2(similarity_params.frame_tokens, similarity_params.identity_tokens);
  let dots = dot_tile(lane, DotTileRange(first_frame, tokens.x, first_identity, tokens.y, 0u, similarity_params.channels));
  for (var j = 0u; j < SPAN; j++) {
    let identity_token = first_identity + lane.x + LANES * j;
    for (var i = 0u; i < SPAN; i++) {
      let frame_token = first_frame + lane.y + LANES * i;
      if (frame_token < tokens.x && identity_token < tokens.y) {
        let cosine = dots[j][i] * frame_inverse_norms[frame_token] * identity_inverse_norms[identity_token];
        let at = frame_token * tokens.y + identity_token;
        if (similarity_params.first_block != 0u) {
          similarity_sums[at] = cosine;
        } else {
          similarity_sums[at] += cosine;
        }
      }
    }
  }
}

// ---- best_match ----

struct BestMatchParams {
  frame_tokens: u32,
  identity_tokens: u32,
  blocks: u32,
  groups_x: u32,
}

@group(0) @binding(0) var<storage, read> summed_similarity: array<f32>;
@group(0) @binding(1) var<storage, read_write> best_similarity_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> best_match_out: array<u32>;
@group(0) @binding(3) var<uniform> best_params: BestMatchParams;

const MATCH_LANES = 256u;
// Below any sum of cosines.
const NO_SIMILARITY = -1.0e30;
const NO_MATCH = 0xffffffffu;

var<workgroup> lane_best_values: array<f32, MATCH_LANES>;
var<workgroup> lane_best_matches: array<u32, MATCH_LANES>;

// (value, index) order: a larger value wins, an equal value with a lower index wins. It is a
// total order, so the result does not depend on the reduction order.
fn beats(value: f32, index: u32, best_value: f32, best_index: u32) -> bool {
  return value > best_value || (value == best_value && index < best_index);
}

// Comparing sums, not means: the block count is shared by all candidates of a row, so the
// argmax is the same, without divisions that could round two means into a false tie.
@compute @workgroup_size(256)
fn best_match(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let frame_token = group.y * best_params.groups_x + group.x;
  if (frame_token >= best_params.frame_tokens) {
    return;
  }
  let row = frame_token * best_params.identity_tokens;
  var best_value = NO_SIMILARITY;
  var best_index = NO_MATCH;
  // Increasing indices and a strict '>' keep the lowest index among equal values.
  for (var index = lane; index < best_params.identity_tokens; index += MATCH_LANES) {
    let value = summed_similarity[row + index];
    if (value > best_value) {
      best_value = value;
      best_index = index;
    }
  }
  lane_best_values[lane] = best_value;
  lane_best_matches[lane] = best_index;
  workgroupBarrier();
  for (var width = MATCH_LANES / 2u; width > 0u; width >>= 1u) {
    if (lane < width && beats(lane_best_values[lane + width], lane_best_matches[lane + width], lane_best_values[lane], lane_best_matches[lane])) {
      lane_best_values[lane] = lane_best_values[lane + width];
      lane_best_matches[lane] = lane_best_matches[lane + width];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    best_similarity_out[frame_token] = lane_best_values[0] / f32(best_params.blocks);
    best_match_out[frame_token] = lane_best_matches[0];
  }
}

// ---- valid_matches ----

struct ValidMatchParams {
  frame_tokens: u32,
  identity_tokens: u32,
  threshold: f32,
  // Threads per grid row (workgroups in x * 256), to turn the 2-D grid into a flat index.
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> frame_foreground: array<u32>;
@group(0) @binding(1) var<storage, read> identity_foreground: array<u32>;
@group(0) @binding(2) var<storage, read> matched_similarity: array<f32>;
@group(0) @binding(3) var<storage, read> matched_identity: array<u32>;
@group(0) @binding(4) var<storage, read_write> valid_out: array<u32>;
@group(0) @binding(5) var<uniform> valid_params: ValidMatchParams;

// get_shared_fg_mask of the official code, as a 0/1 flag per frame token; the compact index lists
// are built from it on the CPU.
@compute @workgroup_size(256)
fn valid_matches(@builtin(global_invocation_id) id: vec3<u32>) {
  let frame_token = id.y * valid_params.row_stride + id.x;
  if (frame_token >= valid_params.frame_tokens) {
    return;
  }
  let identity_token = matched_identity[frame_token];
  // && short-circuits, so an out-of-range match never indexes the identity mask.
  let valid = frame_foreground[frame_token] != 0u
    && identity_token < valid_params.identity_tokens
    && identity_foreground[identity_token] != 0u
    && matched_similarity[frame_token] > valid_params.threshold;
  valid_out[frame_token] = u32(valid);
}
