// The VAE decoder's input and output (spec/flux.md §3.1, §3.5): the packed latent tokens unpacked
// into an HWC latent with the AutoEncoder's scale and shift, and the decoded image clamped and
// packed into RGBA8. One thread per output element, on a 2-D grid folded as in elementwise.wgsl.

struct UnpackParams {
  // token grid: latent height / 2, latent width / 2
  rows: u32,
  cols: u32,
  channels: u32,
  // token view [rows · cols, 4 · channels]
  token_offset: u32,
  token_stride: u32,
  // latent view [2 rows · 2 cols, channels] (pixel-major)
  latent_offset: u32,
  latent_stride: u32,
  // z = x / scaling_factor + shift_factor
  scaling_factor: f32,
  shift_factor: f32,
  // threads per grid row
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> tokens: array<f32>;
@group(0) @binding(1) var<storage, read_write> latent: array<f32>;
@group(0) @binding(2) var<uniform> unpack_params: UnpackParams;

@compute @workgroup_size(256)
fn unpack_latent(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = unpack_params;
  let flat = id.y * p.row_stride + id.x;
  if (flat >= 4u * p.rows * p.cols * p.channels) {
    return;
  }
  let channel = flat % p.channels;
  let pixel = flat / p.channels;
  let x = pixel % (2u * p.cols);
  let y = pixel / (2u * p.cols);
  // Token (y / 2, x / 2) holds channel c's 2x2 patch at features 4c + 2 (y % 2) + x % 2.
  let token = (y / 2u) * p.cols + x / 2u;
  let feature = channel * 4u + (y % 2u) * 2u + x % 2u;
  let value = tokens[p.token_offset + token * p.token_stride + feature];
  latent[p.latent_offset + pixel * p.latent_stride + channel] = value / p.scaling_factor + p.shift_factor;
}

struct PackParams {
  pixels: u32,
  // image view [pixels, 3]: R, G, B in [-1, 1]
  image_offset: u32,
  image_stride: u32,
  rgba_offset: u32,
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> image: array<f32>;
@group(0) @binding(1) var<storage, read_write> rgba: array<u32>;
@group(0) @binding(2) var<uniform> pack_params: PackParams;

// clamp to [-1, 1], 127.5 · (x + 1), rounded to the nearest byte.
fn to_byte(value: f32) -> u32 {
  return u32(floor(127.5 * (clamp(value, -1.0, 1.0) + 1.0) + 0.5));
}

// One u32 per pixel: R in the low byte, then G, B, and alpha 255.
@compute @workgroup_size(256)
fn pack_rgba(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = pack_params;
  let pixel = id.y * p.row_stride + id.x;
  if (pixel >= p.pixels) {
    return;
  }
  let at = p.image_offset + pixel * p.image_stride;
  rgba[p.rgba_offset + pixel] = to_byte(image[at]) | (to_byte(image[at + 1u]) << 8u) | (to_byte(image[at + 2u]) << 16u) | (255u << 24u);
}
