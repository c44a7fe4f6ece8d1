// Test data laid out like the engine's activations: a [rows, cols] matrix at an element offset
// with a row stride inside a larger buffer, e.g. the q columns of a fused projection.

import { POISON } from './harness';

export interface Layout {
  rows: number;
  cols: number;
  /** elements */
  offset: number;
  /** elements per row, >= cols */
  stride: number;
}

/** Elements a buffer needs to hold `layout`, plus `slack` after its end. */
export function layoutLength({ rows, cols, offset, stride }: Layout, slack = 3): number {
  return offset + (rows - 1) * stride + cols + slack;
}

/** `matrix` [rows, cols] placed at `layout` in an array whose other elements are `background` (NaN by default). */
export function embed(matrix: ArrayLike<number>, layout: Layout, background?: Float32Array): Float32Array {
  const flat = background ? background.slice() : new Float32Array(new Uint32Array(layoutLength(layout)).fill(POISON).buffer);
  for (let r = 0; r < layout.rows; r++) {
    for (let c = 0; c < layout.cols; c++) flat[layout.offset + r * layout.stride + c] = matrix[r * layout.cols + c];
  }
  return flat;
}

/** The [rows, cols] matrix at `layout` in `flat`. */
export function extract(flat: Float32Array, layout: Layout): Float32Array {
  const matrix = new Float32Array(layout.rows * layout.cols);
  for (let r = 0; r < layout.rows; r++) matrix.set(flat.subarray(layout.offset + r * layout.stride, layout.offset + r * layout.stride + layout.cols), r * layout.cols);
  return matrix;
}

/** Indices of elements outside `layout` whose bits differ between `before` and `after`. */
export function changedOutside(before: Float32Array, after: Float32Array, layout: Layout): number[] {
  const inside = new Uint8Array(before.length);
  for (let r = 0; r < layout.rows; r++) inside.fill(1, layout.offset + r * layout.stride, layout.offset + r * layout.stride + layout.cols);
  const a = new Uint32Array(before.buffer, before.byteOffset, before.length);
  const b = new Uint32Array(after.buffer, after.byteOffset, after.length);
  const changed: number[] = [];
  for (let i = 0; i < a.length; i++) if (!inside[i] && a[i] !== b[i]) changed.push(i);
  return changed;
}
