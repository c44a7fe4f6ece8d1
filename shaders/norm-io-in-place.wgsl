// Norm input and output in one buffer, e.g. the q columns of a fused projection normalised in
// place (see norm.wgsl). Safe because each thread writes only the elements it alone read, after
// the workgroup's sums are complete.

@group(0) @binding(1) var<storage, read_write> rows: array<f32>;
@group(0) @binding(2) var<uniform> params: NormParams;

fn load_source(i: u32) -> f32 {
  return rows[i];
}

fn store_target(i: u32, value: f32) {
  rows[i] = value;
}
