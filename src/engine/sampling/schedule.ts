// FLUX timestep schedules (BFL sampling.py get_schedule / time_shift; ../shared/spec/flux.md §3.2).
// Values are computed in float64; the transformer receives them as given (no bf16 rounding, a
// deliberate difference from the official pipeline: spec/characonsist-official.md §17.4).

/** Image-token counts between which FLUX interpolates the shift mu, and the mu values there. */
const BASE_TOKENS = 256;
const MAX_TOKENS = 4096;
const BASE_SHIFT = 0.5;
const MAX_SHIFT = 1.15;

/** mu, linear in the number of image tokens through (256, 0.5) and (4096, 1.15). */
export function shiftMu(imageTokens: number): number {
  const slope = (MAX_SHIFT - BASE_SHIFT) / (MAX_TOKENS - BASE_TOKENS);
  return slope * imageTokens + (BASE_SHIFT - slope * BASE_TOKENS);
}

/** t -> e^mu / (e^mu + (1/t - 1)); t = 0 stays 0. */
export function timeShift(mu: number, t: number): number {
  if (t === 0) return 0;
  return Math.exp(mu) / (Math.exp(mu) + (1 / t - 1));
}

/**
 * The N + 1 timesteps of an N-step run, from 1 down to 0. `shift` is FLUX.1-dev's dynamic shift
 * (on for dev, off for schnell, whose 4 steps are 1, 0.75, 0.5, 0.25, 0).
 */
export function fluxSchedule(steps: number, imageTokens: number, shift: boolean): Float64Array {
  const mu = shiftMu(imageTokens);
  return Float64Array.from({ length: steps + 1 }, (_, i) => {
    const t = 1 - i / steps;
    return shift ? timeShift(mu, t) : t;
  });
}
