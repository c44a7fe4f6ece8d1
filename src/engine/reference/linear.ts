// Float64 references of the linear layers (src/engine/ops/linear.ts), on dense row-major arrays:
// Y = X W^T (+ b), then an activation or a combination with a given matrix (the epilogues); and
// the int8 activation quantization of the int8 variant, so that path can be checked exactly.

import { geluTanh, quickGelu } from './activation';

export type LinearReferenceEpilogue =
  | { kind: 'none' }
  | { kind: 'gelu-tanh' }
  | { kind: 'quick-gelu' }
  /** Y = residual + gate ⊙ (X W^T + b) */
  | { kind: 'gated-residual'; gate: ArrayLike<number>; residual: ArrayLike<number> }
  /** Y = residual + (X W^T + b) */
  | { kind: 'residual'; residual: ArrayLike<number> }
  /** Y = factor ⊙ (X W^T + b) */
  | { kind: 'multiply'; factor: ArrayLike<number> };

export interface LinearReferenceInputs {
  /** X [rows, depth] */
  x: ArrayLike<number>;
  /** W [cols, depth] (dequantized) */
  weight: ArrayLike<number>;
  rows: number;
  cols: number;
  depth: number;
  /** b [cols] */
  bias?: ArrayLike<number>;
  epilogue?: LinearReferenceEpilogue;
}

/** Y [rows, cols] */
export function linearReference({ x, weight, rows, cols, depth, bias, epilogue = { kind: 'none' } }: LinearReferenceInputs): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let m = 0; m < rows; m++) {
    for (let n = 0; n < cols; n++) {
      let sum = bias ? bias[n] : 0;
      for (let k = 0; k < depth; k++) sum += x[m * depth + k] * weight[n * depth + k];
      const at = m * cols + n;
      y[at] = applyEpilogue(epilogue, sum, at, n);
    }
  }
  return y;
}

/** The epilogue on output `at` (column n) whose sum (with bias) is `sum`. */
function applyEpilogue(epilogue: LinearReferenceEpilogue, sum: number, at: number, n: number): number {
  switch (epilogue.kind) {
    case 'none':
      return sum;
    case 'gelu-tanh':
      return geluTanh(sum);
    case 'quick-gelu':
      return quickGelu(sum);
    case 'gated-residual':
      return epilogue.residual[at] + epilogue.gate[n] * sum;
    case 'residual':
      return epilogue.residual[at] + sum;
    case 'multiply':
      return epilogue.factor[at] * sum;
  }
}

export interface QuantizedActivationsReference {
  /** q [rows, depth], integers in [-127, 127] */
  quants: Int8Array;
  /** d [rows, depth / 32] */
  scales: Float32Array;
  /** d q [rows, depth]: the activations the int8 kernel multiplies */
  values: Float64Array;
}

const INVERSE_127 = Math.fround(1 / 127);

/** Rounds half to even, like WGSL round(). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Int8 activation quantization per row and 32-column block: d = f32(max|x| · f32(1/127)),
 * q = round_half_even(x / d). The GPU divides through an approximate reciprocal, so its q may
 * differ by one where x / d is within a few ulps of a tie.
 */
export function quantizeActivationsReference(x: ArrayLike<number>, rows: number, depth: number): QuantizedActivationsReference {
  const quants = new Int8Array(rows * depth);
  const scales = new Float32Array((rows * depth) / 32);
  const values = new Float64Array(rows * depth);
  for (let block = 0; block < scales.length; block++) {
    const first = block * 32;
    let largest = 0;
    for (let i = first; i < first + 32; i++) largest = Math.max(largest, Math.abs(x[i]));
    const d = Math.fround(largest * INVERSE_127);
    scales[block] = d;
    for (let i = first; i < first + 32; i++) {
      quants[i] = d > 0 ? roundHalfEven(x[i] / d) : 0;
      values[i] = quants[i] * d;
    }
  }
  return { quants, scales, values };
}
