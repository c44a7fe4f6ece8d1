// Optional per-dispatch GPU timing with timestamp queries. When the adapter lacks
// `timestamp-query` the recorder simply runs without a profiler. While profiling, every dispatch
// gets its own compute pass (timestamps are per pass), so a profiled run has more pass
// boundaries than a plain one.

import { MapMode, BufferUsage } from './usage';

/** Query-set size cap of the WebGPU spec. */
const MAX_QUERIES = 4096;

/** The kernel name given to buffer copies (recorded between passes, so not timed themselves). */
export const COPY_KERNEL = 'copy';

export interface KernelTiming {
  /** KernelSpec.name, or COPY_KERNEL */
  kernel: string;
  /** the recorder's tag when it was recorded (e.g. the layer a linear kernel ran for) */
  tag?: string;
  /** GPU time of the dispatch, ms; a copy: the time between the passes around it */
  ms: number;
  /** start and end on the GPU's clock, ms from the profiler's first timestamp (comparable across submissions) */
  beginMs: number;
  endMs: number;
}

interface Entry {
  kernel: string;
  tag: string | undefined;
  /** index of the pass's timestamp pair; copies have none */
  pass?: number;
}

export class Profiler {
  private readonly querySet: GPUQuerySet;
  private entries: Entry[] = [];
  private passes = 0;
  /** The first timestamp ever read, in ns: the origin of beginMs / endMs. */
  private epoch: bigint | undefined;

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
  }

  /** Timestamp writes for the next pass, or undefined once the query set is full. */
  nextPass(kernel: string, tag?: string): GPUComputePassTimestampWrites | undefined {
    const pass = this.passes;
    if (2 * pass + 2 > MAX_QUERIES) return undefined;
    this.passes++;
    this.entries.push({ kernel, tag, pass });
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * pass, endOfPassWriteIndex: 2 * pass + 1 };
  }

  /** Notes a buffer copy recorded between passes; its time is the gap between them. */
  noteCopy(tag?: string): void {
    this.entries.push({ kernel: COPY_KERNEL, tag });
  }

  /** Resolves the queries recorded so far into `encoder`; read them with read() after submit. */
  resolve(encoder: GPUCommandEncoder): (() => Promise<KernelTiming[]>) | undefined {
    const count = 2 * this.passes;
    if (count === 0) {
      this.entries = [];
      return undefined;
    }
    const bytes = count * 8;
    const resolved = this.device.createBuffer({ label: 'profiler resolve', size: bytes, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ label: 'profiler read', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
    const entries = this.entries;
    this.entries = [];
    this.passes = 0;
    return async () => {
      await staging.mapAsync(MapMode.READ);
      const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
      staging.destroy();
      resolved.destroy();
      return this.timings(entries, ticks);
    };
  }

  destroy(): void {
    this.querySet.destroy();
  }

  private timings(entries: Entry[], ticks: BigInt64Array): KernelTiming[] {
    this.epoch ??= ticks[0];
    const ms = (tick: bigint) => Number(tick - this.epoch!) / 1e6;
    const timed = entries.map((entry) => (entry.pass === undefined ? undefined : { begin: ms(ticks[2 * entry.pass]), end: ms(ticks[2 * entry.pass + 1]) }));
    return entries.map((entry, i) => {
      const own = timed[i];
      // A copy spans the gap from the last timed pass before it to the first one after it.
      const begin = own?.begin ?? timed.slice(0, i).findLast((t) => t)?.end ?? timed.find((t) => t)?.begin ?? 0;
      const end = Math.max(begin, own?.end ?? timed.slice(i + 1).find((t) => t)?.begin ?? begin);
      return { kernel: entry.kernel, tag: entry.tag, ms: end - begin, beginMs: begin, endMs: end };
    });
  }
}
