// Similarity-weighted token merge of CharaConsist (spec/characonsist-official.md §8), in place on
// the frame's attention output: for each entry (t, m, a),
//   frame[t] = (1 - a) * frame[t] + a * identity[m].
// One thread per (entry, channel). Frame tokens t must be distinct across entries (each element
// has one writer); identity tokens m may repeat. Entries naming a token outside either view are
// skipped, so a bad index list cannot write outside the frame view.

struct MergeParams {
  entries: u32,
  channels: u32,
  frame_tokens: u32,
  identity_tokens: u32,
  frame_offset: u32,
  frame_stride: u32,
  identity_offset: u32,
  identity_stride: u32,
  // Threads per grid row (workgroups in x * 256), to turn the 2-D grid into a flat index.
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> frame: array<f32>;
@group(0) @binding(1) var<storage, read> identity: array<f32>;
@group(0) @binding(2) var<storage, read> merged_frame_tokens: array<u32>;
@group(0) @binding(3) var<storage, read> matched_identity_tokens: array<u32>;
@group(0) @binding(4) var<storage, read> merge_weights: array<f32>;
@group(0) @binding(5) var<uniform> params: MergeParams;

@compute @workgroup_size(256)
fn merge_tokens(@builtin(global_invocation_id) id: vec3<u32>) {
  let flat = id.y * params.row_stride + id.x;
  if (flat >= params.entries * params.channels) {
    return;
  }
  let entry = flat / params.channels;
  let channel = flat % params.channels;
  let frame_token = merged_frame_tokens[entry];
  let identity_token = matched_identity_tokens[entry];
  if (frame_token >= params.frame_tokens || identity_token >= params.identity_tokens) {
    return;
  }
  let weight = merge_weights[entry];
  let at = params.frame_offset + frame_token * params.frame_stride + channel;
  let identity_value = identity[params.identity_offset + identity_token * params.identity_stride + channel];
  frame[at] = (1.0 - weight) * frame[at] + weight * identity_value;
}
