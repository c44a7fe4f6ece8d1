// A live preview of FLUX latents without the VAE: packed tokens [rows · cols, 64] (16 channels ×
// a 2x2 patch each) -> RGBA8 at latent resolution [2 rows, 2 cols], each latent pixel's 16
// channels projected to RGB by a fixed linear map plus bias (ComfyUI's published FLUX factors,
// see src/engine/ops/latent-preview.ts), then mapped from [-1, 1] to bytes. One thread per pixel.

struct PreviewParams {
  // token grid: latent height / 2, latent width / 2
  rows: u32,
  cols: u32,
  // token view [rows · cols, 64]
  token_offset: u32,
  token_stride: u32,
  rgba_offset: u32,
  // threads per grid row
  row_stride: u32,
  pad0: u32,
  pad1: u32,
  // RGB of a latent pixel = sum over channels c of channel value · projection[c].rgb, plus projection[16].rgb (the bias)
  projection: array<vec4<f32>, 17>,
}

const CHANNELS = 16u;

@group(0) @binding(0) var<storage, read> tokens: array<f32>;
@group(0) @binding(1) var<storage, read_write> rgba: array<u32>;
@group(0) @binding(2) var<uniform> preview_params: PreviewParams;

// clamp to [-1, 1], 127.5 · (x + 1), rounded to the nearest byte (as the VAE's RGBA packing).
fn to_byte(value: f32) -> u32 {
  return u32(floor(127.5 * (clamp(value, -1.0, 1.0) + 1.0) + 0.5));
}

@compute @workgroup_size(256)
fn latent_preview(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = preview_params;
  let pixel = id.y * p.row_stride + id.x;
  if (pixel >= 4u * p.rows * p.cols) {
    return;
  }
  let x = pixel % (2u * p.cols);
  let y = pixel / (2u * p.cols);
  // Token (y / 2, x / 2) holds channel c's 2x2 patch at features 4c + 2 (y % 2) + x % 2.
  let first = p.token_offset + ((y / 2u) * p.cols + x / 2u) * p.token_stride + (y % 2u) * 2u + x % 2u;
  var rgb = p.projection[CHANNELS].rgb;
  for (var channel = 0u; channel < CHANNELS; channel++) {
    rgb += tokens[first + 4u * channel] * p.projection[channel].rgb;
  }
  rgba[p.rgba_offset + pixel] = to_byte(rgb.r) | (to_byte(rgb.g) << 8u) | (to_byte(rgb.b) << 16u) | (255u << 24u);
}
