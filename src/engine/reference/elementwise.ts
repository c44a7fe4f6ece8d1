// Float64 references of the element-wise and reduction kernels.

export function axpyReference(a: number, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => a * x[i] + y[i]);
}

export function sumReference(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}
