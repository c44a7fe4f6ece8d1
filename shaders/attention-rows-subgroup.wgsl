// Row-group reductions for attention.wgsl with subgroup shuffles: no workgroup memory, no
// barrier. Needs ROW_THREADS <= the subgroup size, and subgroups made of consecutive local
// invocation indices (what every WebGPU implementation does for 1-D workgroups), so a row group
// is ROW_THREADS aligned lanes of one subgroup.

// Butterfly over the lanes of a row group: every lane ends with the same bits (IEEE max and + are
// commutative), and every run with the same order.
fn row_maxima(partials: array<f32, QUERIES_PER_THREAD>) -> array<f32, QUERIES_PER_THREAD> {
  var maxima = partials;
  for (var mask = 1u; mask < ROW_THREADS; mask <<= 1u) {
    for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
      maxima[slot] = max(maxima[slot], subgroupShuffleXor(maxima[slot], mask));
    }
  }
  return maxima;
}

fn row_sums(partials: array<f32, QUERIES_PER_THREAD>) -> array<f32, QUERIES_PER_THREAD> {
  var sums = partials;
  for (var mask = 1u; mask < ROW_THREADS; mask <<= 1u) {
    for (var slot = 0u; slot < QUERIES_PER_THREAD; slot++) {
      sums[slot] += subgroupShuffleXor(sums[slot], mask);
    }
  }
  return sums;
}
