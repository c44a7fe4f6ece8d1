// References of the layout kernels: row gather/scatter/concatenation of dense [rows, cols] f32
// matrices, and FLUX's 2x2 latent packing (spec/flux.md §3.1: einops
// "c (h ph) (w pw) -> (h w) (c ph pw)", ph = pw = 2).

/** out[i, :] = source[indices[i], :] */
export function gatherRowsReference(source: ArrayLike<number>, cols: number, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * cols);
  for (let i = 0; i < indices.length; i++) {
    for (let c = 0; c < cols; c++) out[i * cols + c] = source[indices[i] * cols + c];
  }
  return out;
}

/** target (copied) with target[indices[i], :] = source[i, :] */
export function scatterRowsReference(target: ArrayLike<number>, source: ArrayLike<number>, cols: number, indices: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(target);
  for (let i = 0; i < indices.length; i++) {
    for (let c = 0; c < cols; c++) out[indices[i] * cols + c] = source[i * cols + c];
  }
  return out;
}

/** The parts' rows one after the other. */
export function concatRowsReference(parts: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(Array.from(part), at);
    at += part.length;
  }
  return out;
}

/** latent [channels, 2 rows, 2 cols] -> tokens [rows * cols, channels * 4] */
export function patchifyReference(latent: ArrayLike<number>, rows: number, cols: number, channels: number): Float32Array {
  const tokens = new Float32Array(latent.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      for (let ch = 0; ch < channels; ch++) {
        for (let ph = 0; ph < 2; ph++) {
          for (let pw = 0; pw < 2; pw++) {
            const token = r * cols + c;
            const feature = ch * 4 + ph * 2 + pw;
            tokens[token * channels * 4 + feature] = latent[(ch * 2 * rows + 2 * r + ph) * 2 * cols + 2 * c + pw];
          }
        }
      }
    }
  }
  return tokens;
}

/** tokens [rows * cols, channels * 4] -> latent [channels, 2 rows, 2 cols] */
export function unpatchifyReference(tokens: ArrayLike<number>, rows: number, cols: number, channels: number): Float32Array {
  const latent = new Float32Array(tokens.length);
  for (let ch = 0; ch < channels; ch++) {
    for (let y = 0; y < 2 * rows; y++) {
      for (let x = 0; x < 2 * cols; x++) {
        const token = Math.floor(y / 2) * cols + Math.floor(x / 2);
        const feature = ch * 4 + (y % 2) * 2 + (x % 2);
        latent[(ch * 2 * rows + y) * 2 * cols + x] = tokens[token * channels * 4 + feature];
      }
    }
  }
  return latent;
}
