// Element-wise kernels: axpy over flat f32 arrays; activations and the gated residual over matrix
// views. One thread per element; a 2-D grid of workgroups so arrays longer than 65535 * 256
// elements still fit the dispatch limits.

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

// ---- Activations and the gated residual on matrix views -------------------------------------
// Views are [rows, cols] inside their buffers at an element offset and row stride, so an
// activation can read the MLP part of a fused projection and write straight into a slice of the
// next GEMM's input.

struct ViewMapParams {
  rows: u32,
  cols: u32,
  source_offset: u32,
  source_stride: u32,
  target_offset: u32,
  target_stride: u32,
  // Threads per grid row, as in AxpyParams.
  row_stride: u32,
}

// 0: SiLU, 1: GELU (tanh approximation).
override ACTIVATION: u32 = 0u;

@group(0) @binding(0) var<storage, read> activation_source: array<f32>;
@group(0) @binding(1) var<storage, read_write> activation_target: array<f32>;
@group(0) @binding(2) var<uniform> activation_params: ViewMapParams;

// 1 / (1 + e^-z) through e^-|z|, which never overflows (WGSL leaves infinities undefined).
fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e, 1.0, z >= 0.0) / (1.0 + e);
}

fn activate(x: f32) -> f32 {
  if (ACTIVATION == 0u) {
    return x * sigmoid(x);
  }
  // 0.5·x·(1 + tanh(u)) = x·sigmoid(2u): one exp, and no 1 + tanh cancellation for negative x.
  // Beyond |x| = 20, sigmoid(2u) is exactly 0 or 1 in f32; the clamp keeps x³ finite.
  let c = clamp(x, -20.0, 20.0);
  let u = 0.7978845608028654 * fma(0.044715 * c * c, c, c);
  return x * sigmoid(2.0 * u);
}

@compute @workgroup_size(256)
fn activation(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = activation_params;
  let i = id.y * p.row_stride + id.x;
  if (i >= p.rows * p.cols) {
    return;
  }
  let row = i / p.cols;
  let col = i % p.cols;
  let x = activation_source[p.source_offset + row * p.source_stride + col];
  activation_target[p.target_offset + row * p.target_stride + col] = activate(x);
}

struct GatedResidualParams {
  rows: u32,
  cols: u32,
  residual_offset: u32,
  residual_stride: u32,
  update_offset: u32,
  update_stride: u32,
  // element offset of gate [cols] in the modulation buffer
  gate_offset: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read_write> residual: array<f32>;
@group(0) @binding(1) var<storage, read> update: array<f32>;
@group(0) @binding(2) var<storage, read> modulation: array<f32>;
@group(0) @binding(3) var<uniform> residual_params: GatedResidualParams;

// residual += gate · update: the end of every FLUX block (x = x + gate · o).
@compute @workgroup_size(256)
fn gated_residual(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = residual_params;
  let i = id.y * p.row_stride + id.x;
  if (i >= p.rows * p.cols) {
    return;
  }
  let row = i / p.cols;
  let col = i % p.cols;
  let r = p.residual_offset + row * p.residual_stride + col;
  residual[r] = fma(modulation[p.gate_offset + col], update[p.update_offset + row * p.update_stride + col], residual[r]);
}
