// Deterministic sum: each workgroup reduces 256 * ITEMS consecutive elements by a fixed tree
// (no atomics), writing one partial; the host repeats the pass on the partials until one value
// is left. Same input, same bits, every run.

override ITEMS: u32 = 4u;

struct SumParams {
  count: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> params: SumParams;

var<workgroup> tree: array<f32, 256>;

@compute @workgroup_size(256)
fn sum(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let base = group.x * 256u * ITEMS;
  var acc = 0.0;
  for (var item = 0u; item < ITEMS; item++) {
    let i = base + item * 256u + lane;
    if (i < params.count) {
      acc += input[i];
    }
  }
  tree[lane] = acc;
  workgroupBarrier();
  for (var width = 128u; width > 0u; width >>= 1u) {
    if (lane < width) {
      tree[lane] += tree[lane + width];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    partials[group.x] = tree[0];
  }
}
