// How ops address activations: a row-major f32 matrix inside a buffer, given by an element offset
// and a row stride. Views let kernels read q/k/v straight out of a fused projection output
// ([L, 21504] in single blocks) and write into a slice of the next layer's input, with no copies.
// Offsets travel as uniform parameters (binding offsets must be 256-byte aligned; element
// offsets need not be).

export interface MatrixView {
  buffer: GPUBuffer;
  /** elements from the start of the buffer to element [0, 0] */
  offset: number;
  /** elements from one row to the next (>= the number of columns used) */
  stride: number;
}

/** A dense [rows, cols] matrix at the start of `buffer`. */
export function dense(buffer: GPUBuffer, cols: number): MatrixView {
  return { buffer, offset: 0, stride: cols };
}

/** Columns [firstCol, …) of `view`, e.g. the k part of a fused qkv projection. */
export function columns(view: MatrixView, firstCol: number): MatrixView {
  return { ...view, offset: view.offset + firstCol };
}

/** Rows [firstRow, …) of `view`, e.g. the image tokens after the text tokens. */
export function rows(view: MatrixView, firstRow: number): MatrixView {
  return { ...view, offset: view.offset + firstRow * view.stride };
}
