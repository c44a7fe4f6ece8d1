// Binary morphology on the image-token grid, for the foreground mask's clean-up
// (spec/characonsist-official.md §5: erode 3x3, then dilate 5x5, all-ones kernels, one iteration
// each). Border as OpenCV's default for erode/dilate: pixels outside the image are ignored, so
// they never erode and never dilate anything. A pixel is set when nonzero; outputs are 0/1.
// One thread per pixel; the window is (2 radius + 1)² clipped to the image.

struct MorphologyParams {
  rows: u32,
  cols: u32,
  radius: u32,
  // Threads per grid row (workgroups in x * 256), to turn the 2-D grid into a flat index.
  row_stride: u32,
}

@group(0) @binding(0) var<storage, read> mask_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> mask_out: array<u32>;
@group(0) @binding(2) var<uniform> params: MorphologyParams;

// (set pixels, pixels inside the image) in the window centred on `pixel`.
fn window_counts(pixel: u32) -> vec2<u32> {
  let row = pixel / params.cols;
  let col = pixel % params.cols;
  let radius = params.radius;
  let top = max(row, radius) - radius;
  let bottom = min(row + radius, params.rows - 1u);
  let left = max(col, radius) - radius;
  let right = min(col + radius, params.cols - 1u);
  var set_pixels = 0u;
  for (var y = top; y <= bottom; y++) {
    for (var x = left; x <= right; x++) {
      set_pixels += u32(mask_in[y * params.cols + x] != 0u);
    }
  }
  return vec2(set_pixels, (bottom - top + 1u) * (right - left + 1u));
}

fn pixel_index(id: vec3<u32>) -> u32 {
  return id.y * params.row_stride + id.x;
}

// Set where every pixel of the window inside the image is set.
@compute @workgroup_size(256)
fn erode(@builtin(global_invocation_id) id: vec3<u32>) {
  let pixel = pixel_index(id);
  if (pixel >= params.rows * params.cols) {
    return;
  }
  let counts = window_counts(pixel);
  mask_out[pixel] = u32(counts.x == counts.y);
}

// Set where any pixel of the window inside the image is set.
@compute @workgroup_size(256)
fn dilate(@builtin(global_invocation_id) id: vec3<u32>) {
  let pixel = pixel_index(id);
  if (pixel >= params.rows * params.cols) {
    return;
  }
  mask_out[pixel] = u32(window_counts(pixel).x > 0u);
}
