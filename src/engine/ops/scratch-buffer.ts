// A scratch buffer owned by an op, grown on demand and reused across recordings (ops allocate
// nothing per call). Growing releases the old buffer, so an op must not grow it while an earlier,
// unsubmitted recording still uses it: record the largest shape first, or submit in between.

import type { GpuRuntime } from '../gpu/runtime';

export class ScratchBuffer {
  private buffer: GPUBuffer | undefined;

  constructor(private readonly gpu: GpuRuntime, private readonly label: string) {}

  /** A buffer of at least `bytes` bytes. */
  get(bytes: number): GPUBuffer {
    if (!this.buffer || this.buffer.size < bytes) {
      if (this.buffer) this.gpu.memory.release(this.buffer);
      this.buffer = this.gpu.memory.createUnchecked(this.label, bytes);
    }
    return this.buffer;
  }
}
