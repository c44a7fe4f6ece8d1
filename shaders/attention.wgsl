// The attention kernel written in WGSL (see attention-common.wgsl, assembled before it): each
// thread's queries, scores and accumulators are private arrays indexed by loops over their
// constant sizes. The row-group reductions row_maxima and row_sums come from
// attention-rows-workgroup.wgsl or attention-rows-subgroup.wgsl, assembled after it.

var<private> lane: u32;
var<private> tx: u32;
var<private> row_group: u32;
var<private> head: u32;
var<private> head_column: u32;
// The queries this thread accumulates: global row (NO_ROW past the end) and label.
var<private> query_rows: array<u32, QUERIES_PER_THREAD>;
var<private> query_labels: array<u32, QUERIES_PER_THREAD>;
// The query rows this thread stages into workgroup memory (a different set).
var<private> staged_query_rows: array<u32, QUERY_LOADS>;
var<private> scores: array<array<f32, KEYS_PER_THREAD>, QUERIES_PER_THREAD>;
// Online softmax state per query: running max (base 2), this lane's share of the running sum,
// and this lane's output columns, all relative to the running max.
var<private> running_max: array<f32, QUERIES_PER_THREAD>;
var<private> running_sum: array<f32, QUERIES_PER_THREAD>;
var<private> accumulators: array<array<vec4<f32>, OUTPUT_VEC4S_PER_THREAD>, QUERIES_PER_THREAD>;

fn query_in_tile(slot: u32) -> u32 {
  return row_group + ROW_GROUPS * slot;
}

fn key_in_tile(slot: u32) -> u32 {
  return tx + ROW_THREADS * slot;
}

fn start_thread(local_index: u32, workgroup_head: u32, tile_first: u32) {
  lane = local_index;
  tx = lane % ROW_THREADS;
  row_group = lane / ROW_THREADS;
  head = workgroup_head;
  head_column = head * HEAD_DIM;
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    let position = tile_first + query_in_tile(slot);
    let inside = position < params.query_count;
    query_rows[slot] = select(NO_ROW, row_at(position), inside);
    query_labels[slot] = select(OWN_KEYS, label_at(position), inside);
    running_max[slot] = MASKED;
    running_sum[slot] = 0.0;
    for (var v = 0u; v < OUTPUT_VEC4S_PER_THREAD; v++) {
      accumulators[slot][v] = vec4<f32>();
    }
  }
  for (var load = 0u; load < QUERY_LOADS; load++) {
    let position = tile_first + (lane + WORKGROUP * load) / CHUNK_VEC4S;
    staged_query_rows[load] = select(NO_ROW, row_at(position), position < params.query_count);
  }
}

// Stages dims [chunk · DIM_CHUNK, +DIM_CHUNK) of the tile's queries (pre-scaled) and of keys
// [tile_start, tile_start + KEY_TILE) (zero past `end`).
fn stage_query_key_chunk(label: u32, tile_start: u32, end: u32, chunk: u32) {
  let column4 = lane % CHUNK_VEC4S;
  let column = head_column + chunk * DIM_CHUNK + 4u * column4;
  for (var load = 0u; load < QUERY_LOADS; load++) {
    let row = staged_query_rows[load];
    var q = vec4<f32>();
    if (row != NO_ROW) {
      q = query4(row, column) * params.scale_log2;
    }
    stage[swizzled((lane + WORKGROUP * load) / CHUNK_VEC4S, column4, CHUNK_VEC4S)] = q;
  }
  for (var load = 0u; load < KEY_LOADS; load++) {
    let key = (lane + WORKGROUP * load) / CHUNK_VEC4S;
    var k = vec4<f32>();
    if (tile_start + key < end) {
      k = key4(label, tile_start + key, column);
    }
    stage[swizzled(QUERY_TILE + key, column4, CHUNK_VEC4S)] = k;
  }
}

fn accumulate_scores() {
  for (var column4 = 0u; column4 < CHUNK_VEC4S; column4++) {
    var q: array<vec4<f32>, QUERIES_PER_THREAD>;
    for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
      q[slot] = stage[swizzled(query_in_tile(slot), column4, CHUNK_VEC4S)];
    }
    for (var key = 0u; key < KEYS_PER_THREAD; key++) {
      let k = stage[swizzled(QUERY_TILE + key_in_tile(key), column4, CHUNK_VEC4S)];
      for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
        scores[slot][key] += dot(q[slot], k);
      }
    }
  }
}

fn compute_scores(label: u32, tile_start: u32, end: u32) {
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    for (var key = 0u; key < KEYS_PER_THREAD; key++) {
      scores[slot][key] = 0.0;
    }
  }
  for (var chunk = 0u; chunk < HEAD_DIM / DIM_CHUNK; chunk++) {
    stage_query_key_chunk(label, tile_start, end, chunk);
    workgroupBarrier();
    accumulate_scores();
    workgroupBarrier();
  }
}

// Masks the tile's scores (adding the position bias), folds them into the running max and sum
// (rescaling the accumulators) and publishes the probabilities for the value pass.
fn update_softmax(label: u32, tile_start: u32, end: u32) {
  var lane_max: array<f32, QUERIES_PER_THREAD>;
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    lane_max[slot] = MASKED;
    for (var key = 0u; key < KEYS_PER_THREAD; key++) {
      let position = tile_start + key_in_tile(key);
      let visible = key_visible(query_rows[slot], query_labels[slot], label, position, end);
      var score = scores[slot][key];
      // Visible own keys have real query rows and positions inside the table.
      if (params.position_biased != 0u && visible && label == OWN_KEYS) {
        score += position_bias_log2(head, query_rows[slot], position);
      }
      scores[slot][key] = select(MASKED, score, visible);
      lane_max[slot] = max(lane_max[slot], scores[slot][key]);
    }
  }
  let tile_max = row_maxima(lane_max);
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    let new_max = max(running_max[slot], tile_max[slot]);
    // exp2(MASKED − real max) underflows to 0: a query that saw nothing so far has nothing to rescale.
    let correction = exp2(running_max[slot] - new_max);
    running_max[slot] = new_max;
    running_sum[slot] *= correction;
    for (var v = 0u; v < OUTPUT_VEC4S_PER_THREAD; v++) {
      accumulators[slot][v] *= correction;
    }
    let query = query_in_tile(slot);
    for (var key = 0u; key < KEYS_PER_THREAD; key++) {
      let score = scores[slot][key];
      let p = select(0.0, exp2(score - new_max), score != MASKED);
      running_sum[slot] += p;
      let k = key_in_tile(key);
      probabilities[swizzled(query, k / 4u, KEY_TILE_VEC4S)][k % 4u] = p;
    }
  }
  workgroupBarrier();
}

fn stage_value_chunk(label: u32, chunk_start: u32, end: u32) {
  for (var load = 0u; load < VALUE_LOADS; load++) {
    let unit = lane + WORKGROUP * load;
    let key = unit / HEAD_VEC4S;
    let column4 = unit % HEAD_VEC4S;
    var v = vec4<f32>();
    if (chunk_start + key < end) {
      v = value4(label, chunk_start + key, head_column + 4u * column4);
    }
    stage[unit] = v;
  }
}

// accumulators += probabilities · v for the VALUE_CHUNK keys staged at tile column `first_key`.
fn accumulate_values(first_key: u32) {
  for (var key4 = 0u; key4 < VALUE_CHUNK / 4u; key4++) {
    var p: array<vec4<f32>, QUERIES_PER_THREAD>;
    for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
      p[slot] = probabilities[swizzled(query_in_tile(slot), first_key / 4u + key4, KEY_TILE_VEC4S)];
    }
    for (var component = 0u; component < 4u; component++) {
      let key = 4u * key4 + component;
      for (var v = 0u; v < OUTPUT_VEC4S_PER_THREAD; v++) {
        let value = stage[key * HEAD_VEC4S + tx + ROW_THREADS * v];
        for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
          accumulators[slot][v] = fma(vec4<f32>(p[slot][component]), value, accumulators[slot][v]);
        }
      }
    }
  }
}

fn apply_values(label: u32, tile_start: u32, end: u32) {
  for (var first_key = 0u; first_key < KEY_TILE && tile_start + first_key < end; first_key += VALUE_CHUNK) {
    stage_value_chunk(label, tile_start + first_key, end);
    workgroupBarrier();
    accumulate_values(first_key);
    workgroupBarrier();
  }
}

// Attends to keys [begin, end) of the own keys (label 0) or of the extras of `label`.
fn attend(label: u32, begin: u32, end: u32) {
  for (var tile_start = begin; tile_start < end; tile_start += KEY_TILE) {
    compute_scores(label, tile_start, end);
    update_softmax(label, tile_start, end);
    apply_values(label, tile_start, end);
  }
}

fn write_output() {
  let sums = row_sums(running_sum);
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    let row = query_rows[slot];
    if (row == NO_ROW) {
      continue;
    }
    // A query that saw no key at all (no own keys, no extras) gets zeros, not 0/0.
    let inverse_sum = select(0.0, 1.0 / sums[slot], sums[slot] > 0.0);
    for (var v = 0u; v < OUTPUT_VEC4S_PER_THREAD; v++) {
      let out = accumulators[slot][v] * inverse_sum;
      let i = params.output_offset + row * params.output_stride + head_column + 4u * (tx + ROW_THREADS * v);
      output[i] = out.x;
      output[i + 1u] = out.y;
      output[i + 2u] = out.z;
      output[i + 3u] = out.w;
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn attention(@builtin(workgroup_id) workgroup: vec3<u32>, @builtin(local_invocation_index) local_index: u32) {
  let tile_first = workgroup.x * QUERY_TILE;
  let tile_last = min(tile_first + QUERY_TILE, params.query_count) - 1u;
  start_thread(local_index, workgroup.y, tile_first);
  var own_end = params.key_count;
  if (params.causal != 0u) {
    own_end = min(own_end, tile_last + 1u);
  }
  attend(OWN_KEYS, 0u, own_end);
  // Labels ascend along the processing order, so the tile's first and last query bound them.
  if (label_at(tile_first) <= FOREGROUND && label_at(tile_last) >= FOREGROUND) {
    attend(FOREGROUND, params.foreground_begin, params.foreground_end);
  }
  if (label_at(tile_last) == BACKGROUND) {
    attend(BACKGROUND, params.background_begin, params.background_end);
  }
  write_output();
}
