// Labelled GPU buffer allocation with a running byte count (live and peak), upload and readback.
// Every buffer the engine owns goes through here, so the memory plan printed by the tools and
// the peak shown to users are real numbers, not estimates.

import { EngineError, outOfMemory } from '../errors';
import { BufferUsage, MapMode } from './usage';

export const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

/** Buffer sizes must be multiples of 4 bytes for writeBuffer and copies. */
export function align4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}

export class GpuMemory {
  private readonly sizes = new Map<GPUBuffer, number>();
  private readonly labels = new Map<GPUBuffer, string>();
  private live = 0;
  private peak = 0;

  constructor(readonly device: GPUDevice) {}

  /** Allocates `bytes` (rounded up to 4); turns a driver out-of-memory into a typed error naming `label`. */
  async allocate(label: string, bytes: number, usage: number = STORAGE): Promise<GPUBuffer> {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const buffer = this.createUnchecked(label, bytes, usage);
    const validation = await this.device.popErrorScope();
    const memory = await this.device.popErrorScope();
    const failure = memory ?? validation;
    if (failure) {
      this.release(buffer);
      throw outOfMemory(label, bytes, failure.message);
    }
    return buffer;
  }

  /**
   * Synchronous allocation for small, frequent buffers (uniforms, staging) where an error scope
   * round trip would cost more than the allocation; failures surface through the device's
   * uncaptured-error path instead.
   */
  createUnchecked(label: string, bytes: number, usage: number = STORAGE): GPUBuffer {
    const size = Math.max(4, align4(bytes));
    const buffer = this.device.createBuffer({ label, size, usage });
    this.sizes.set(buffer, size);
    this.labels.set(buffer, label);
    this.live += size;
    this.peak = Math.max(this.peak, this.live);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined) return;
    this.sizes.delete(buffer);
    this.labels.delete(buffer);
    this.live -= size;
    buffer.destroy();
  }

  releaseAll(): void {
    for (const buffer of [...this.sizes.keys()]) this.release(buffer);
  }

  /** Every live buffer's label and size in bytes, for memory plans and leak hunting. */
  entries(): { label: string; bytes: number }[] {
    return [...this.sizes].map(([buffer, bytes]) => ({ label: this.labels.get(buffer) ?? '', bytes }));
  }

  /** Bytes currently allocated through this object. */
  get liveBytes(): number {
    return this.live;
  }

  /** Highest liveBytes seen since creation or the last resetPeak(). */
  get peakBytes(): number {
    return this.peak;
  }

  resetPeak(): void {
    this.peak = this.live;
  }

  /** Copies typed-array data into `buffer` at `byteOffset`. */
  upload(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    if (data.byteLength % 4 !== 0) {
      throw new EngineError('internal', `upload to ${buffer.label}: ${data.byteLength} bytes is not a multiple of 4`, 'Please report this bug.');
    }
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Uploads into a new labelled buffer. */
  async uploadNew(label: string, data: ArrayBufferView, usage: number = STORAGE): Promise<GPUBuffer> {
    const buffer = await this.allocate(label, data.byteLength, usage);
    this.upload(buffer, data);
    return buffer;
  }

  /** Reads `bytes` bytes of `buffer` starting at `byteOffset` back to the CPU. */
  async readback(buffer: GPUBuffer, bytes = buffer.size, byteOffset = 0): Promise<ArrayBuffer> {
    const size = align4(bytes);
    const staging = this.createUnchecked(`readback of ${buffer.label}`, size, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    const encoder = this.device.createCommandEncoder({ label: `readback ${buffer.label}` });
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MapMode.READ);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      this.release(staging);
    }
  }

  async readF32(buffer: GPUBuffer, count = buffer.size / 4, elementOffset = 0): Promise<Float32Array> {
    return new Float32Array(await this.readback(buffer, count * 4, elementOffset * 4));
  }

  async readU32(buffer: GPUBuffer, count = buffer.size / 4, elementOffset = 0): Promise<Uint32Array> {
    return new Uint32Array(await this.readback(buffer, count * 4, elementOffset * 4));
  }
}
