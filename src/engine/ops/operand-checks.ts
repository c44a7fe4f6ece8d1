// Argument checks for the CharaConsist and layout ops, which address tensors through MatrixViews
// and plain bindings: a wrong shape fails with a typed error naming the op and the operand,
// instead of a kernel silently reading or writing outside the tensor.

import { invalidInput } from '../errors';
import type { Binding } from '../gpu/recorder';
import type { MatrixView } from './view';

const REPORT = 'This is a bug in the app: please report it with this message.';

function fail(op: string, message: string): never {
  throw invalidInput(`${op}: ${message}`, REPORT);
}

export function requireThat(op: string, condition: boolean, message: string): void {
  if (!condition) fail(op, message);
}

/** `value` must be an integer in [min, 2^32) (it travels as a u32). */
export function requireCount(op: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min || value > 0xffffffff) fail(op, `${name} must be an integer >= ${min}, got ${value}`);
}

/** `view` must hold a [rows, cols] f32 matrix inside its buffer. */
export function requireView(op: string, name: string, view: MatrixView, rows: number, cols: number): void {
  requireCount(op, `${name} offset`, view.offset, 0);
  if (!Number.isInteger(view.stride) || view.stride < cols) fail(op, `${name} stride ${view.stride} is below its ${cols} columns`);
  const endElement = rows === 0 ? 0 : view.offset + (rows - 1) * view.stride + cols;
  if (4 * endElement > view.buffer.size) {
    fail(op, `${name} [${rows}, ${cols}] at offset ${view.offset}, stride ${view.stride} runs past its ${view.buffer.size}-byte buffer`);
  }
}

/** `binding` must hold at least `count` 4-byte elements. */
export function requireElements(op: string, name: string, binding: Binding, count: number): void {
  const range = 'buffer' in binding ? binding : { buffer: binding };
  const bytes = range.size ?? range.buffer.size - (range.offset ?? 0);
  if (4 * count > bytes) fail(op, `${name} holds ${bytes} bytes, needs ${4 * count}`);
}

/** A buffer written by a dispatch cannot also be bound for reading in it (a WebGPU rule). */
export function requireSeparate(op: string, written: string, writtenBuffer: GPUBuffer, read: string, readBuffer: GPUBuffer): void {
  if (writtenBuffer === readBuffer) fail(op, `${written} and ${read} must be in different buffers`);
}

/** The buffer behind a binding. */
export function bufferOf(binding: Binding): GPUBuffer {
  return 'buffer' in binding ? binding.buffer : binding;
}
