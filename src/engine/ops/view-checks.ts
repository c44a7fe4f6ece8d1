// Shape checks shared by the ops that address activations through views: a wrong offset or
// stride must fail with a message naming the operand, not read a neighbour's data.

import { invalidInput } from '../errors';
import type { MatrixView } from './view';

const REPORT = 'This is a bug in the app: please report it with this message.';

/** A run of 4-byte elements (u32 indices or labels, an f32 vector) starting at an element offset. */
export interface VectorView {
  buffer: GPUBuffer;
  /** elements */
  offset: number;
}

export function requireCount(what: string, value: number, minimum = 1): void {
  if (!Number.isInteger(value) || value < minimum || value > 0xffffffff) {
    throw invalidInput(`${what} must be an integer >= ${minimum}, got ${value}.`, REPORT);
  }
}

/** Throws unless `view` holds a [rows, cols] matrix inside its buffer. */
export function checkView(what: string, view: MatrixView, rows: number, cols: number): void {
  requireCount(`${what} offset`, view.offset, 0);
  if (!Number.isInteger(view.stride) || view.stride < cols) {
    throw invalidInput(`${what}: row stride ${view.stride} is shorter than its ${cols} columns.`, REPORT);
  }
  if (rows > 0) checkEnd(what, view.buffer, view.offset + (rows - 1) * view.stride + cols);
}

/** Throws unless `count` elements starting at `vector.offset` lie inside its buffer. */
export function checkVector(what: string, vector: VectorView, count: number): void {
  requireCount(`${what} offset`, vector.offset, 0);
  checkEnd(what, vector.buffer, vector.offset + count);
}

function checkEnd(what: string, buffer: GPUBuffer, endElement: number): void {
  if (endElement * 4 > buffer.size) {
    throw invalidInput(`${what} ends at element ${endElement}, past the end of buffer "${buffer.label}" (${buffer.size / 4} elements).`, REPORT);
  }
}

/** Throws when a written view shares its buffer with a view the same dispatch reads. */
export function checkDistinct(written: string, target: GPUBuffer, readViews: Readonly<Record<string, { buffer: GPUBuffer }>>): void {
  for (const [name, view] of Object.entries(readViews)) {
    if (view.buffer === target) {
      throw invalidInput(`${written} and ${name} are in the same buffer "${target.label}"; WebGPU cannot bind one buffer as both read-only and writable in a dispatch.`, REPORT);
    }
  }
}
