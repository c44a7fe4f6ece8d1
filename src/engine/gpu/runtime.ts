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
  readonly profiler: Profiler | undefined;
  private readonly freeUniformChunks: GPUBuffer[] = [];

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
    this.profiler = options.profile && features.has('timestamp-query') ? new Profiler(device) : undefined;
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
    this.profiler?.destroy();
    this.device.destroy();
  }
}
