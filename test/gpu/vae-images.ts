// Conversions between the float64 references' channel-major images and the engine's HWC layout.

import type { ReferenceImage } from '../../src/engine/reference/vae';

/** [C, H, W] -> [H, W, C] */
export function toHwc(image: ReferenceImage): Float64Array {
  const { channels, height, width, values } = image;
  const out = new Float64Array(values.length);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < height * width; p++) out[p * channels + c] = values[c * height * width + p];
  }
  return out;
}

/** [H, W, C] -> [C, H, W] */
export function fromHwc(values: ArrayLike<number>, channels: number, height: number, width: number): ReferenceImage {
  const out = new Float64Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < height * width; p++) out[c * height * width + p] = values[p * channels + c];
  }
  return { channels, height, width, values: out };
}
