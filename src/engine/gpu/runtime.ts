// The engine's handle on one GPU device: limits, optional features, memory accounting, the kernel
// registry and (optionally) the profiler. Everything above src/engine/gpu talks to the GPU
// through this object.

import type { EngineErrorInfo, GpuLimitsReport, GpuReport } from '../../engine-api';
import { openGpu } from './device';
import { KernelRegistry } from './kernels';
import { GpuMemory } from './memory';
import { Profiler } from './profiler';
import { Recorder, UNIFORM_USAGE } from './recorder';

export interface GpuRuntimeOptions {
  /** Time each dispatch with timestamp queries (needs the timestamp-query feature). */
  profile?: boolean;
}

export class GpuRuntime {
  readonly memory: GpuMemory;
  readonly kernels: KernelRegistry;
  private timestamps: Profiler | undefined;
  private profiling: boolean;
  private readonly freeUniformChunks: GPUBuffer[] = [];
  /**
   * The running generation's abort signal, set by the engine: once it is aborted (cancel, lost
   * device), every recording submitted throws its reason instead, so the work stops within one
   * submission and unwinds, freeing its buffers.
   */
  signal: AbortSignal | undefined;

  private constructor(
    /** Held so the GPU object outlives the device (see GpuContext.gpu). */
    readonly gpu: GPU,
    readonly device: GPUDevice,
    readonly report: GpuReport,
    readonly features: ReadonlySet<string>,
    readonly limits: GpuLimitsReport,
    readonly lost: Promise<EngineErrorInfo>,
    options: GpuRuntimeOptions,
  ) {
    this.memory = new GpuMemory(device);
    this.kernels = new KernelRegistry(device);
    this.profiling = options.profile === true;
  }

  /** The profiler while profiling is on and the adapter has timestamp-query; recordings time every dispatch then. */
  get profiler(): Profiler | undefined {
    if (!this.profiling || !this.features.has('timestamp-query')) return undefined;
    this.timestamps ??= new Profiler(this.device);
    return this.timestamps;
  }

  /**
   * Turns per-dispatch timing on or off for recordings made from now on (a benchmark times the
   * plain run, then profiles one more: profiling splits every dispatch into its own pass).
   */
  setProfiling(on: boolean): void {
    this.profiling = on;
  }

  static async open(gpu: GPU | undefined, options: GpuRuntimeOptions = {}): Promise<GpuRuntime> {
    const context = await openGpu(gpu);
    return new GpuRuntime(context.gpu, context.device, context.report, context.features, context.limits, context.lost, options);
  }

  recorder(label: string): Recorder {
    return new Recorder(this, label);
  }

  /** Waits until every submitted command has finished on the GPU. */
  idle(): Promise<void> {
    return this.device.queue.onSubmittedWorkDone();
  }

  takeUniformChunk(bytes: number): GPUBuffer {
    return this.freeUniformChunks.pop() ?? this.memory.createUnchecked('uniform parameters', bytes, UNIFORM_USAGE);
  }

  returnUniformChunk(buffer: GPUBuffer): void {
    this.freeUniformChunks.push(buffer);
  }

  destroy(): void {
    this.memory.releaseAll();
    this.timestamps?.destroy();
    this.device.destroy();
  }
}
