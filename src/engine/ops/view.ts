// How ops address activations: a row-major f32 matrix inside a buffer, given by an element offset
// and a row stride. Views let kernels read q/k/v straight out of a fused projection output and
// write into a slice of the next layer's input, with no copies. Offsets travel as uniform
// parameters (binding offsets must be 256-byte aligned; element offsets need not be).

import type { BindingRange } from '../gpu/recorder';

export interface MatrixView {
  buffer: GPUBuffer;
  /** elements from the start of the buffer to element [0, 0] */
  offset: number;
  /** elements from one row to the next (>= the number of columns used) */
  stride: number;
}

/** A run of 4-byte elements (an f32 vector, u32 indices or labels) starting at an element offset. */
export interface VectorView {
  buffer: GPUBuffer;
  /** elements */
  offset: number;
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

/** A binding window and the element offset left inside it. */
export interface ViewBinding {
  binding: BindingRange;
  /** elements from the start of the binding to element [0, 0] */
  offset: number;
}

/**
 * Binds only the part of a buffer a [rows, cols] view covers (rows >= 1), from the 256-byte
 * boundary at or below its first element: activations may live in buffers larger than one
 * storage binding, and a kernel only needs the rows it reads. `alignment` is
 * minStorageBufferOffsetAlignment.
 */
export function viewBinding(view: MatrixView, rows: number, cols: number, alignment: number): ViewBinding {
  const firstByte = 4 * view.offset;
  const start = firstByte - (firstByte % alignment);
  const end = 4 * (view.offset + (rows - 1) * view.stride + cols);
  return { binding: { buffer: view.buffer, offset: start, size: end - start }, offset: (firstByte - start) / 4 };
}

/** The window of `length` elements from `vector.offset` on. */
export function vectorBinding(vector: VectorView, length: number, alignment: number): ViewBinding {
  return viewBinding({ buffer: vector.buffer, offset: vector.offset, stride: length }, 1, length, alignment);
}
