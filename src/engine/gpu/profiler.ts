// Optional per-dispatch GPU timing with timestamp queries. When the adapter lacks
// `timestamp-query` the recorder simply runs without a profiler.

import { MapMode, BufferUsage } from './usage';

/** Query-set size cap of the WebGPU spec. */
const MAX_QUERIES = 4096;

export interface KernelTiming {
  kernel: string;
  ms: number;
}

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private readonly labels: string[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
  }

  /** Timestamp writes for the next pass, or undefined once the query set is full. */
  nextPass(kernel: string): GPUComputePassTimestampWrites | undefined {
    const index = this.labels.length;
    if (2 * index + 2 > MAX_QUERIES) return undefined;
    this.labels.push(kernel);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  /** Resolves the queries recorded so far into `encoder`; read them with read() after submit. */
  resolve(encoder: GPUCommandEncoder): (() => Promise<KernelTiming[]>) | undefined {
    const count = 2 * this.labels.length;
    if (count === 0) return undefined;
    const bytes = count * 8;
    const resolved = this.device.createBuffer({ label: 'profiler resolve', size: bytes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ label: 'profiler read', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    const labels = this.labels.splice(0);
    return async () => {
      await staging.mapAsync(MapMode.READ);
      const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.destroy();
      resolved.destroy();
      return labels.map((kernel, i) => ({ kernel, ms: Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6 }));
    };
  }

  destroy(): void {
    this.querySet.destroy();
  }
}
