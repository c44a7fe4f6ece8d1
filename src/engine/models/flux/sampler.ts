// Euler sampling of one image with the FLUX transformer (BFL sampling.py `denoise`): for each
// consecutive pair of timesteps, v = model(x, t) and x <- x + (t_next - t) v.

import type { GpuRuntime } from '../../gpu/runtime';
import { checkFiniteValues } from '../../request-checks';
import type { FluxSample, FluxScratch } from './activations';
import type { FluxTransformer } from './transformer';

export interface SamplingRequest {
  /** N + 1 timesteps from 1 down to 0 (sampling/schedule.ts) */
  schedule: ArrayLike<number>;
  /** distilled guidance (dev; ignored by schnell, which has no guidance embedder) */
  guidance: number;
  /** Called after each step with its index (1-based) and, when `keepLatents`, the new latents. */
  onStep?: (step: number, latents?: Float32Array) => void;
  /** Read every intermediate latent back (for comparisons with other implementations). */
  keepLatents?: boolean;
}

/** Runs the whole schedule on `sample`, whose current latents hold the initial noise. */
export async function sampleFlux(gpu: GpuRuntime, transformer: FluxTransformer, sample: FluxSample, scratch: FluxScratch, request: SamplingRequest): Promise<void> {
  const { schedule } = request;
  checkFiniteValues('The sampling schedule', schedule, 2);
  checkFiniteValues('The guidance', [request.guidance]);
  for (let step = 0; step + 1 < schedule.length; step++) {
    await transformer.forward(sample, scratch, schedule[step], request.guidance);
    const rec = gpu.recorder(`flux euler step ${step}`);
    transformer.eulerStep(rec, sample, schedule[step + 1] - schedule[step]);
    await rec.submit();
    sample.swapLatents();
    const latents = request.keepLatents ? await gpu.memory.readF32(sample.currentLatents.buffer) : undefined;
    request.onStep?.(step + 1, latents);
  }
}
