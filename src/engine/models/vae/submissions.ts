// The VAE decode is many short submissions (a band of rows each, so none runs long enough to
// trip a driver watchdog and freed rows are really free before new ones are allocated). This
// keeps at most two of them in flight and collects their GPU timings (when profiling is on)
// without waiting for each.

import type { KernelTiming } from '../../gpu/profiler';
import type { Recorder } from '../../gpu/recorder';
import type { GpuRuntime } from '../../gpu/runtime';

export class Submissions {
  private previous: Promise<void> = Promise.resolve();
  private readonly timings: Promise<KernelTiming[]>[] = [];

  constructor(private readonly gpu: GpuRuntime) {}

  /** Submits `rec`; resolves once the submission before it has finished on the GPU. */
  async submit(rec: Recorder): Promise<void> {
    this.timings.push(rec.submit());
    const previous = this.previous;
    this.previous = this.gpu.idle();
    await previous;
  }

  /** Waits for everything submitted; the timings of every dispatch, in order. */
  async finish(): Promise<KernelTiming[]> {
    await this.previous;
    return (await Promise.all(this.timings)).flat();
  }
}
