// Records kernel dispatches into one command encoder and submits them together. Checks every
// binding against the device limits before dispatch, so an oversized tensor fails with a message
// naming the kernel and binding instead of a silent validation error.

import { bindingTooLarge, EngineError } from '../errors';
import type { Kernel } from './kernels';
import type { KernelTiming, Profiler } from './profiler';
import type { GpuRuntime } from './runtime';
import { BufferUsage } from './usage';

export interface BindingRange {
  buffer: GPUBuffer;
  /** bytes */
  offset?: number;
  /** bytes; defaults to the rest of the buffer */
  size?: number;
}
export type Binding = GPUBuffer | BindingRange;

/** Size of one uniform chunk; parameter blocks are sub-allocated from it. */
const UNIFORM_CHUNK_BYTES = 64 * 1024;

export class Recorder {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | undefined;
  private readonly chunks: { buffer: GPUBuffer; staging: Uint8Array; used: number }[] = [];
  private submitted = false;
  private readonly submittedCallbacks: (() => void)[] = [];
  /** Labels the dispatches and copies recorded now (see tagged()). */
  private tag: string | undefined;
  /** Fixed for the whole recording, so its queries are resolved by the profiler that issued them. */
  private readonly profiler: Profiler | undefined;

  constructor(private readonly gpu: GpuRuntime, readonly label: string) {
    this.encoder = gpu.device.createCommandEncoder({ label });
    this.profiler = gpu.profiler;
  }

  /**
   * Records one dispatch. `bindings` maps the kernel's storage binding names to buffers;
   * `params` (a uniform block) is required exactly when the kernel declares one.
   */
  dispatch(kernel: Kernel, bindings: Readonly<Record<string, Binding>>, params: ArrayBufferView | undefined, workgroups: readonly number[]): void {
    const entries = this.storageEntries(kernel, bindings);
    if (kernel.spec.params !== (params !== undefined)) {
      throw internal(`kernel ${kernel.spec.name} ${kernel.spec.params ? 'needs' : 'takes no'} parameters`);
    }
    if (params) entries.push({ binding: entries.length, resource: this.uniform(params) });
    const [x = 1, y = 1, z = 1] = workgroups;
    this.checkWorkgroups(kernel, [x, y, z]);
    if (x * y * z === 0) return;
    const bindGroup = this.gpu.device.createBindGroup({ label: kernel.spec.name, layout: kernel.layout, entries });
    const pass = this.passFor(kernel.spec.name);
    pass.setPipeline(kernel.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
  }

  /** Records a buffer-to-buffer copy (ends the current compute pass). */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, bytes: number): void {
    this.endPass();
    this.profiler?.noteCopy(this.tag);
    this.encoder.copyBufferToBuffer(source, sourceOffset, target, targetOffset, bytes);
  }

  /**
   * Records with `record`, labelling its dispatches and copies with `tag` in the profiler's
   * timings (e.g. which layer a linear kernel ran for); the innermost tag wins.
   */
  tagged<T>(tag: string, record: () => T): T {
    const outer = this.tag;
    this.tag = tag;
    try {
      return record();
    } finally {
      this.tag = outer;
    }
  }

  /** Submits everything recorded; resolves with per-dispatch timings when profiling is on. */
  submit(): Promise<KernelTiming[]> {
    if (this.submitted) throw internal(`recorder ${this.label} submitted twice`);
    this.submitted = true;
    this.endPass();
    if (this.gpu.signal?.aborted) this.abandon(this.gpu.signal.reason);
    const readTimings = this.profiler?.resolve(this.encoder);
    for (const chunk of this.chunks) this.gpu.device.queue.writeBuffer(chunk.buffer, 0, chunk.staging, 0, chunk.used);
    this.gpu.device.queue.submit([this.encoder.finish()]);
    // Queue order makes the chunks safe to reuse for the next recording right away.
    for (const chunk of this.chunks) this.gpu.returnUniformChunk(chunk.buffer);
    for (const callback of this.submittedCallbacks) callback();
    return readTimings ? readTimings() : Promise.resolve([]);
  }

  /** Drops the recording: its uniform chunks go back to the pool, its after-submit callbacks free what they free; throws `reason`. */
  private abandon(reason: unknown): never {
    for (const chunk of this.chunks) this.gpu.returnUniformChunk(chunk.buffer);
    for (const callback of this.submittedCallbacks) callback();
    throw reason;
  }

  /** Runs `callback` right after this recording is submitted (e.g. to free a buffer it binds). */
  afterSubmit(callback: () => void): void {
    this.submittedCallbacks.push(callback);
  }

  private storageEntries(kernel: Kernel, bindings: Readonly<Record<string, Binding>>): GPUBindGroupEntry[] {
    const { limits } = this.gpu;
    return kernel.spec.storage.map((name, binding) => {
      const given = bindings[name];
      if (!given) throw internal(`kernel ${kernel.spec.name}: binding "${name}" is missing`);
      const range: BindingRange = 'buffer' in given ? given : { buffer: given };
      const offset = range.offset ?? 0;
      const size = range.size ?? range.buffer.size - offset;
      if (size > limits.maxStorageBufferBindingSize) throw bindingTooLarge(kernel.spec.name, name, size, limits.maxStorageBufferBindingSize);
      if (offset % limits.minStorageBufferOffsetAlignment !== 0) {
        throw internal(`kernel ${kernel.spec.name}: binding "${name}" offset ${offset} is not a multiple of ${limits.minStorageBufferOffsetAlignment}`);
      }
      return { binding, resource: { buffer: range.buffer, offset, size } };
    });
  }

  private checkWorkgroups(kernel: Kernel, counts: number[]): void {
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (counts.some((count) => count > max || !Number.isInteger(count) || count < 0)) {
      throw internal(`kernel ${kernel.spec.name}: workgroup counts [${counts.join(', ')}] exceed this GPU's ${max} per dimension`);
    }
  }

  private uniform(params: ArrayBufferView): GPUBufferBinding {
    const align = this.gpu.device.limits.minUniformBufferOffsetAlignment;
    const bytes = Math.ceil(params.byteLength / 16) * 16;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || chunk.used + bytes > UNIFORM_CHUNK_BYTES) {
      chunk = { buffer: this.gpu.takeUniformChunk(UNIFORM_CHUNK_BYTES), staging: new Uint8Array(UNIFORM_CHUNK_BYTES), used: 0 };
      this.chunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.staging.set(new Uint8Array(params.buffer, params.byteOffset, params.byteLength), offset);
    chunk.used = Math.ceil((offset + bytes) / align) * align;
    return { buffer: chunk.buffer, offset, size: bytes };
  }

  private passFor(kernelName: string): GPUComputePassEncoder {
    if (!this.pass) {
      const timestampWrites = this.profiler?.nextPass(kernelName, this.tag);
      this.pass = this.encoder.beginComputePass(timestampWrites ? { label: kernelName, timestampWrites } : { label: this.label });
    }
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }
}

export const UNIFORM_USAGE = BufferUsage.UNIFORM | BufferUsage.COPY_DST;

function internal(message: string): EngineError {
  return new EngineError('internal', message, 'This is a bug in the app: please report it with this message.');
}
