// Row-group reductions for attention.wgsl through workgroup memory, for adapters without
// subgroups: each lane publishes its partial values in the staging space (free between the
// score and value passes, and after the last tile), and reads back its row group's.

const_assert ROW_THREADS % 4u == 0u && QUERY_TILE * ROW_THREADS <= 4u * STAGE_VEC4S;

// The ROW_THREADS partials of each of this thread's queries, as ROW_THREADS / 4 vec4s.
fn publish_partials(partials: array<f32, QUERIES_PER_THREAD>) {
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    let i = query_in_tile(slot) * ROW_THREADS + tx;
    stage[i / 4u][i % 4u] = partials[slot];
  }
  workgroupBarrier();
}

fn row_maxima(partials: array<f32, QUERIES_PER_THREAD>) -> array<f32, QUERIES_PER_THREAD> {
  publish_partials(partials);
  var maxima: array<f32, QUERIES_PER_THREAD>;
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    var m = vec4<f32>(MASKED);
    for (var v = 0u; v < ROW_THREADS / 4u; v++) {
      m = max(m, stage[query_in_tile(slot) * ROW_THREADS / 4u + v]);
    }
    maxima[slot] = max(max(m.x, m.y), max(m.z, m.w));
  }
  return maxima;
}

// Sums in lane order, the same for every lane of the row and every run.
fn row_sums(partials: array<f32, QUERIES_PER_THREAD>) -> array<f32, QUERIES_PER_THREAD> {
  publish_partials(partials);
  var sums: array<f32, QUERIES_PER_THREAD>;
  for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
    var total = 0.0;
    for (var v = 0u; v < ROW_THREADS / 4u; v++) {
      let four = stage[query_in_tile(slot) * ROW_THREADS / 4u + v];
      total += (four.x + four.y) + (four.z + four.w);
    }
    sums[slot] = total;
  }
  return sums;
}
