// The entry points of the norms (see norm.wgsl), after an io file that declares where they read and write.

@compute @workgroup_size(WORKGROUP)
fn layer_norm(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let group = group_index(workgroup);
  if (group >= params.group_count) {
    return;
  }
  let source = group_start(group, params.source_offset, params.source_stride);
  let destination = group_start(group, params.target_offset, params.target_stride);
  let statistics = layer_norm_statistics(source, params.group_size, lane);
  for (var c = lane; c < params.group_size; c += WORKGROUP) {
    store_target(destination + c, layer_norm_value(source, c, statistics));
  }
}

@compute @workgroup_size(WORKGROUP)
fn rms_norm(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let group = group_index(workgroup);
  if (group >= params.group_count) {
    return;
  }
  let source = group_start(group, params.source_offset, params.source_stride);
  let destination = group_start(group, params.target_offset, params.target_stride);
  let size = params.group_size;
  var squares = 0.0;
  for (var c = lane; c < size; c += WORKGROUP) {
    let value = load_source(source + c);
    squares = fma(value, value, squares);
  }
  let inverse_rms = inverseSqrt(workgroup_sum(squares, lane) / f32(size) + params.eps);
  for (var c = lane; c < size; c += WORKGROUP) {
    store_target(destination + c, load_source(source + c) * inverse_rms * affine[params.scale_offset + c]);
  }
}
