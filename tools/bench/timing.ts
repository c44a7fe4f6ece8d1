// Timing of GPU work for the benchmarks: warm-up, then repeated submissions, median of the
// per-submission GPU time (timestamp queries when the adapter has them, else wall clock around
// submit + onSubmittedWorkDone, which includes submission overhead: the table says which).

import type { Recorder } from '../../src/engine/gpu/recorder';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';

export interface Timing {
  /** median over repetitions, ms */
  medianMs: number;
  minMs: number;
  repetitions: number;
  clock: 'gpu-timestamps' | 'wall';
}

export interface TimingOptions {
  warmup: number;
  repetitions: number;
}

export async function timeRecording(gpu: GpuRuntime, label: string, record: (rec: Recorder) => void, options: TimingOptions): Promise<Timing> {
  for (let i = 0; i < options.warmup; i++) await once(gpu, label, record);
  const samples: number[] = [];
  for (let i = 0; i < options.repetitions; i++) samples.push(await once(gpu, label, record));
  samples.sort((a, b) => a - b);
  return {
    medianMs: samples[Math.floor(samples.length / 2)],
    minMs: samples[0],
    repetitions: samples.length,
    clock: gpu.profiler ? 'gpu-timestamps' : 'wall',
  };
}

async function once(gpu: GpuRuntime, label: string, record: (rec: Recorder) => void): Promise<number> {
  const rec = gpu.recorder(label);
  record(rec);
  const started = performance.now();
  const timings = await rec.submit();
  await gpu.idle();
  const wall = performance.now() - started;
  return timings.length ? timings.reduce((sum, t) => sum + t.ms, 0) : wall;
}
