// FLUX latent packing (BFL sampling.py "b c (h ph) (w pw) -> b (h w) (c ph pw)", ph = pw = 2):
// a [16, 2R, 2C] channel-major latent <-> [R*C, 64] tokens, token r*C + c, feature ch*4 + ph*2 + pw.
// CPU versions for noise generation and the CLI; the GPU has its own kernel for the VAE path.

export const LATENT_CHANNELS = 16;
export const TOKEN_FEATURES = 64;

export function packLatents(latent: Float32Array, rows: number, cols: number): Float32Array {
  const tokens = new Float32Array(rows * cols * TOKEN_FEATURES);
  forEachLatentElement(rows, cols, (latentIndex, tokenIndex) => {
    tokens[tokenIndex] = latent[latentIndex];
  });
  return tokens;
}

export function unpackLatents(tokens: Float32Array, rows: number, cols: number): Float32Array {
  const latent = new Float32Array(rows * cols * TOKEN_FEATURES);
  forEachLatentElement(rows, cols, (latentIndex, tokenIndex) => {
    latent[latentIndex] = tokens[tokenIndex];
  });
  return latent;
}

function forEachLatentElement(rows: number, cols: number, visit: (latentIndex: number, tokenIndex: number) => void): void {
  const width = 2 * cols;
  const height = 2 * rows;
  for (let ch = 0; ch < LATENT_CHANNELS; ch++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const token = (y >> 1) * cols + (x >> 1);
        const feature = ch * 4 + (y & 1) * 2 + (x & 1);
        visit((ch * height + y) * width + x, token * TOKEN_FEATURES + feature);
      }
    }
  }
}

/** Initial noise for a rows x cols token grid, drawn in latent layout then packed (as BFL does). */
export function packedNoise(noise: (count: number) => Float32Array, rows: number, cols: number): Float32Array {
  return packLatents(noise(rows * cols * TOKEN_FEATURES), rows, cols);
}
