// A scratch buffer owned by an op, grown on demand and reused across recordings (ops allocate
// nothing per call). A buffer outgrown during a recording may still be bound by an earlier
// dispatch of that recording, so it is released only once the recording has been submitted.

import type { Recorder } from './recorder';
import type { GpuRuntime } from './runtime';

export class ScratchBuffer {
  private buffer: GPUBuffer | undefined;

  constructor(private readonly gpu: GpuRuntime, private readonly label: string) {}

  /** A buffer of at least `bytes` bytes for use in `rec`. */
  get(rec: Recorder, bytes: number): GPUBuffer {
    if (!this.buffer || this.buffer.size < bytes) {
      const outgrown = this.buffer;
      if (outgrown) rec.afterSubmit(() => this.gpu.memory.release(outgrown));
      this.buffer = this.gpu.memory.createUnchecked(this.label, bytes);
    }
    return this.buffer;
  }

  /** Frees the buffer (a later get() allocates again); call once nothing recorded with it is pending. */
  release(): void {
    if (this.buffer) this.gpu.memory.release(this.buffer);
    this.buffer = undefined;
  }
}
