// One encode of a text encoder with random full-size weights, timed with the 'auto' linear
// kernels and, in the same run on the same weights, with the 'baseline' ones. Shared by the t5
// and clip suites.

import type { Recorder } from '../../src/engine/gpu/recorder';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { LinearVariant } from '../../src/engine/ops/linear-config';
import { BenchBuffers } from './bench-buffers';
import { logged, skippedRow } from './case-rows';
import { outOfMemoryReason } from './device-fit';
import type { BenchOptions } from './suite';
import type { BenchRow } from './table';
import { timeRecording } from './timing';

export interface PreparedEncoder {
  /** one whole encode */
  record(rec: Recorder): void;
  release(): void;
}

export interface EncoderCase<Weights> {
  group: string;
  name: string;
  /** multiply-adds × 2 of one encode */
  flops: number;
  /** the weights' stored size, plus ids and outputs */
  bytes: number;
  /** random weights in `buffers` */
  weights(buffers: BenchBuffers): Promise<Weights>;
  /** an encoder on those weights with `variant` linear kernels, with its activations allocated */
  encoder(weights: Weights, variant: LinearVariant, buffers: BenchBuffers): Promise<PreparedEncoder>;
}

export async function benchEncoder<Weights>(gpu: GpuRuntime, options: BenchOptions, c: EncoderCase<Weights>): Promise<BenchRow[]> {
  const row = { group: c.group, name: c.name, flops: c.flops, bytes: c.bytes };
  const buffers = new BenchBuffers(gpu, 0x7e57);
  try {
    let weights: Weights;
    try {
      weights = await c.weights(buffers);
    } catch (error) {
      return [logged(options.log, skippedRow(row, outOfMemoryReason(error)))];
    }
    const time = async (variant: LinearVariant) => {
      const encoder = await c.encoder(weights, variant, buffers);
      try {
        return (await timeRecording(gpu, c.name, (rec) => encoder.record(rec), options.timing)).medianMs;
      } finally {
        encoder.release();
      }
    };
    const baseline = logged(options.log, { ...row, kernel: 'linear baseline', ms: await time('baseline') });
    return [baseline, logged(options.log, { ...row, kernel: 'linear auto', ms: await time('auto'), baseline: { kernel: 'linear baseline', ms: baseline.ms } })];
  } finally {
    buffers.releaseAll();
  }
}
