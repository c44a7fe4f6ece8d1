// Float64 references of the normalisations (spec/flux.md §1.3, §4.1, §4.2). Matrices are dense,
// row-major Float32/Float64 arrays; every result is a new Float64Array of the input's shape.

/**
 * FLUX's modulated LayerNorm: `(1 + scale) · (x − mean) / sqrt(var + eps) + shift` per row of
 * x [rows, cols], biased variance, no affine parameters; shift and scale are [cols].
 */
export function modulatedLayerNormReference(x: ArrayLike<number>, cols: number, shift: ArrayLike<number>, scale: ArrayLike<number>, eps: number): Float64Array {
  return normaliseRows(x, cols, eps, (normalised, c) => (1 + scale[c]) * normalised + shift[c]);
}

/** Affine LayerNorm (CLIP): `(x − mean) / sqrt(var + eps) · weight + bias` per row of x [rows, cols]. */
export function layerNormReference(x: ArrayLike<number>, cols: number, weight: ArrayLike<number>, bias: ArrayLike<number>, eps: number): Float64Array {
  return normaliseRows(x, cols, eps, (normalised, c) => normalised * weight[c] + bias[c]);
}

/** (x − mean) / sqrt(var + eps) per row (biased variance), mapped through `affine` per column. */
function normaliseRows(x: ArrayLike<number>, cols: number, eps: number, affine: (normalised: number, col: number) => number): Float64Array {
  const out = new Float64Array(x.length);
  for (let row = 0; row * cols < x.length; row++) {
    const base = row * cols;
    let mean = 0;
    for (let c = 0; c < cols; c++) mean += x[base + c];
    mean /= cols;
    let variance = 0;
    for (let c = 0; c < cols; c++) variance += (x[base + c] - mean) ** 2;
    variance /= cols;
    const inverseDeviation = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < cols; c++) out[base + c] = affine((x[base + c] - mean) * inverseDeviation, c);
  }
  return out;
}

/**
 * RMSNorm over consecutive groups of `groupSize` elements (a head's 128 values for FLUX's QK norm,
 * a whole 4096-wide row for T5): `v · rsqrt(mean(v²) + eps) · weight`, weight [groupSize].
 */
export function rmsNormReference(x: ArrayLike<number>, groupSize: number, weight: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += groupSize) {
    let meanSquare = 0;
    for (let i = 0; i < groupSize; i++) meanSquare += x[base + i] ** 2;
    meanSquare /= groupSize;
    const inverseRms = 1 / Math.sqrt(meanSquare + eps);
    for (let i = 0; i < groupSize; i++) out[base + i] = x[base + i] * inverseRms * weight[i];
  }
  return out;
}
