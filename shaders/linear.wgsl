// Shared part of the linear kernels, Y[M, N] = X[M, K] · W[N, K]^T (+ bias, + epilogue), always
// accumulated in f32: parameters, bindings, the weight fetch and the epilogue. Assembled after
// quant.wgsl and weight-planes.wgsl and before one kernel body (linear-tiled.wgsl,
// linear-int8.wgsl, linear-gemv.wgsl) by src/engine/ops/linear-config.ts.

// Weight type: one of the TYPE_* constants of quant.wgsl.
override WEIGHT_TYPE: u32;

// Epilogue codes (EPILOGUE_CODES of src/engine/ops/linear.ts); 0 is none.
const EPILOGUE_GELU_TANH = 1u;
// Y[m, n] += gate[n] * result: Y is also the residual.
const EPILOGUE_GATED_RESIDUAL = 2u;
// Y[m, n] += result: Y is also the residual.
const EPILOGUE_RESIDUAL = 3u;
// Y[m, n] *= result: Y holds the other factor (T5's gelu(wi_0 x) * wi_1 x).
const EPILOGUE_MULTIPLY = 4u;
const EPILOGUE_QUICK_GELU = 5u;

struct LinearParams {
  m: u32,
  n: u32,
  k: u32,
  // MatrixViews: element offsets and row strides.
  x_offset: u32,
  x_stride: u32,
  y_offset: u32,
  y_stride: u32,
  // 0 or 1
  has_bias: u32,
  bias_offset: u32,
  epilogue: u32,
  gate_offset: u32,
  // Weight planes (WeightLayout of src/engine/ops/weights.ts), in u32 words.
  weight_row_words: u32,
  high_bits_base: u32,
  scales_base: u32,
  scale_row_words: u32,
  // 8-weight groups per row (padded columns / 8).
  weight_groups: u32,
  // Output tiles of the tiled kernels, and workgroups per row of a folded grid.
  tiles_m: u32,
  tiles_n: u32,
  grid_stride: u32,
  // int8 path: word offset of the activation scales behind the quantized activations.
  activation_scales_base: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<vec4<u32>>;
// Binding 4 holds the activations: f32 X here; the int8 kernel binds its quantized copy of X
// there under another name (linear-int8.wgsl), and no entry point uses both.
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<uniform> params: LinearParams;

// X[m, k], zero outside the matrix (tile padding).
fn activation(m: u32, k: u32) -> f32 {
  if (m >= params.m || k >= params.k) {
    return 0.0;
  }
  return x[params.x_offset + m * params.x_stride + k];
}

// X[m, k..k+3], zero outside the matrix.
fn activation_run(m: u32, k: u32) -> vec4<f32> {
  return vec4<f32>(activation(m, k), activation(m, k + 1u), activation(m, k + 2u), activation(m, k + 3u));
}

// The planes of this dispatch's weight part (weight-planes.wgsl).
fn linear_planes() -> WeightPlanes {
  return WeightPlanes(params.n, params.weight_row_words, params.high_bits_base, params.scales_base, params.scale_row_words, params.weight_groups);
}

// Raw words of group `group` of weight row `row`; zeros outside the matrix.
fn fetch_weight_group(row: u32, group: u32) -> RawGroup {
  return read_weight_group(linear_planes(), row, group);
}

// 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3), written as x / (1 + exp(-2u)): the
// tanh form cancels to 0 for large negative x (1 + tanh(u) in f32), this one keeps the relative
// precision of the small outputs, and its overflow to x / inf = -0 is the right limit.
fn gelu_tanh(value: f32) -> f32 {
  let inner = 0.7978845608028654 * (value + 0.044715 * value * value * value);
  return value / (1.0 + exp(-2.0 * inner));
}

// x * sigmoid(1.702 x) (CLIP), as x / (1 + exp(-1.702 x)); the clamp keeps exp finite, where the
// output is already 0 to f32 precision relative to |x|.
fn quick_gelu(value: f32) -> f32 {
  return value / (1.0 + exp(min(-1.702 * value, 80.0)));
}

// Adds the bias, applies the epilogue and writes Y[m, n].
fn store_output(m: u32, n: u32, sum: f32) {
  var value = sum;
  if (params.has_bias != 0u) {
    value += bias[params.bias_offset + n];
  }
  let index = params.y_offset + m * params.y_stride + n;
  switch params.epilogue {
    case EPILOGUE_GELU_TANH: {
      value = gelu_tanh(value);
    }
    case EPILOGUE_GATED_RESIDUAL: {
      value = y[index] + gate[params.gate_offset + n] * value;
    }
    case EPILOGUE_RESIDUAL: {
      value = y[index] + value;
    }
    case EPILOGUE_MULTIPLY: {
      value = y[index] * value;
    }
    case EPILOGUE_QUICK_GELU: {
      value = quick_gelu(value);
    }
    default: {}
  }
  y[index] = value;
}
