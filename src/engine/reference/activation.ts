// Float64 references of the activations and the gated residual (spec/flux.md §1.3-1.5, §4.2).

export function siluReference(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => v / (1 + Math.exp(-v)));
}

/**
 * GELU, tanh approximation: 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³). Evaluated as
 * x / (1 + e^(−2u)), the same function: 1 + tanh(u) cancels to exactly 0 in float64 from x ≈ −6 on.
 */
export function geluTanh(x: number): number {
  return x / (1 + Math.exp(-2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

export function geluTanhReference(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, geluTanh);
}

/** CLIP's quick GELU: x · sigmoid(1.702 x). */
export function quickGelu(x: number): number {
  return x / (1 + Math.exp(-1.702 * x));
}

/** x + gate · y for x, y [rows, cols] (dense) and gate [cols]: a block's residual update. */
export function gatedResidualReference(x: ArrayLike<number>, gate: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const cols = gate.length;
  return Float64Array.from(x, (v, i) => v + gate[i % cols] * y[i]);
}
