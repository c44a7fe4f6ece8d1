// Norm input and output in two buffers (see norm.wgsl).

@group(0) @binding(1) var<storage, read> source_rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> target_rows: array<f32>;
@group(0) @binding(3) var<uniform> params: NormParams;

fn load_source(i: u32) -> f32 {
  return source_rows[i];
}

fn store_target(i: u32, value: f32) {
  target_rows[i] = value;
}
