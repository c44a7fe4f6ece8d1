// Float64 reference of the latent preview (ops/latent-preview.ts): unpatchify the packed tokens,
// project each latent pixel's 16 channels to RGB with the published factors, map [-1, 1] to bytes.

import { FLUX_LATENT_RGB_BIAS, FLUX_LATENT_RGB_FACTORS } from '../ops/latent-preview';
import { unpatchifyReference } from './layout';

const CHANNELS = FLUX_LATENT_RGB_FACTORS.length;

/** tokens [rows · cols, 64] -> RGBA bytes [2 rows, 2 cols, 4] */
export function latentPreviewReference(tokens: ArrayLike<number>, rows: number, cols: number): Uint8Array {
  const latent = unpatchifyReference(tokens, rows, cols, CHANNELS);
  const pixels = 4 * rows * cols;
  const rgba = new Uint8Array(4 * pixels);
  for (let pixel = 0; pixel < pixels; pixel++) {
    for (let colour = 0; colour < 3; colour++) {
      let value = FLUX_LATENT_RGB_BIAS[colour];
      for (let channel = 0; channel < CHANNELS; channel++) value += latent[channel * pixels + pixel] * FLUX_LATENT_RGB_FACTORS[channel][colour];
      rgba[4 * pixel + colour] = Math.floor(127.5 * (Math.min(1, Math.max(-1, value)) + 1) + 0.5);
    }
    rgba[4 * pixel + 3] = 255;
  }
  return rgba;
}
