// Argument checks shared by the ops: a wrong shape, offset or stride fails with a typed error
// naming the op and operand (`what`, e.g. "rope view"), instead of a kernel silently reading a
// neighbour's data or writing outside its tensor.

import { invalidInput } from '../errors';
import type { Binding } from '../gpu/recorder';
import type { MatrixView, VectorView } from './view';

const REPORT = 'This is a bug in the app: please report it with this message.';

export function requireThat(what: string, condition: boolean, problem: string): void {
  if (!condition) throw invalidInput(`${what}: ${problem}.`, REPORT);
}

/** `value` must be an integer in [minimum, 2^32) (it travels as a u32). */
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

/** Throws unless `binding` holds at least `count` 4-byte elements. */
export function requireElements(what: string, binding: Binding, count: number): void {
  const range = 'buffer' in binding ? binding : { buffer: binding };
  const bytes = range.size ?? range.buffer.size - (range.offset ?? 0);
  if (4 * count > bytes) throw invalidInput(`${what} holds ${bytes} bytes, needs ${4 * count}.`, REPORT);
}

function checkEnd(what: string, buffer: GPUBuffer, endElement: number): void {
  if (endElement * 4 > buffer.size) {
    throw invalidInput(`${what} ends at element ${endElement}, past the end of buffer "${buffer.label}" (${buffer.size / 4} elements).`, REPORT);
  }
}

/** Throws when a written buffer is also read by the same dispatch (WebGPU forbids binding it both ways). */
export function checkDistinct(written: string, target: GPUBuffer, readViews: Readonly<Record<string, { buffer: GPUBuffer }>>): void {
  for (const [name, view] of Object.entries(readViews)) {
    if (view.buffer === target) {
      throw invalidInput(`${written} and ${name} are in the same buffer "${target.label}"; WebGPU cannot bind one buffer as both read-only and writable in a dispatch.`, REPORT);
    }
  }
}

/** The buffer behind a binding. */
export function bufferOf(binding: Binding): GPUBuffer {
  return 'buffer' in binding ? binding.buffer : binding;
}
