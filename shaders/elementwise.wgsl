// Element-wise kernels over flat f32 arrays. One thread per element; a 2-D grid of workgroups so
// arrays longer than 65535 * 256 elements still fit the dispatch limits.

struct AxpyParams {
  count: u32,
  a: f32,
  // Threads per grid row (workgroups in x * 256), to turn the 2-D grid into a flat index.
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: AxpyParams;

// out = a * x + y
@compute @workgroup_size(256)
fn axpy(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.y * params.row_stride + id.x;
  if (i >= params.count) {
    return;
  }
  out[i] = fma(params.a, x[i], y[i]);
}
