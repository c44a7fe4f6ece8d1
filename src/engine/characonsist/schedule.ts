// When CharaConsist does what, as 0-based step indices (spec/characonsist-official.md §2.1, §8).
// "dev-50" holds the official values; other presets are derived from them as fractions of the
// trajectory and stay labelled experimental until measured.

export interface CharaConsistSchedule {
  name: string;
  experimental: boolean;
  steps: number;
  /** Step whose forward pass yields the final mask and the point matches (official: 10). */
  maskStep: number;
  /** Point-tracking attention and background sharing at steps [start, end). */
  attention: readonly [number, number];
  /** Token merge at steps [start, end), with cosine decay from `decay` on. */
  merge: { start: number; decay: number; end: number; weight: number };
  /** Matches count when their mean cosine similarity exceeds this. */
  similarityThreshold: number;
  /** FLUX dynamic timestep shift (dev: on). */
  shift: boolean;
  /** Distilled guidance fed to guidance_in (dev: 3.5; ignored by schnell). */
  guidance: number;
}

export const DEV_50: CharaConsistSchedule = {
  name: 'dev-50',
  experimental: false,
  steps: 50,
  maskStep: 10,
  attention: [1, 41],
  merge: { start: 1, decay: 11, end: 31, weight: 0.8 },
  similarityThreshold: 0.5,
  shift: true,
  guidance: 3.5,
};

/** dev-50's step indices rescaled to `steps` (rounded; at least one plain step before the method starts). */
export function scaledSchedule(name: string, steps: number, shift: boolean): CharaConsistSchedule {
  const at = (devStep: number) => Math.round((devStep * steps) / DEV_50.steps);
  const start = Math.max(1, at(DEV_50.attention[0]));
  const maskStep = Math.min(steps - 1, Math.max(start, at(DEV_50.maskStep)));
  const mergeEnd = Math.max(start, at(DEV_50.merge.end));
  return {
    ...DEV_50,
    name,
    experimental: true,
    steps,
    maskStep,
    attention: [start, Math.max(start, at(DEV_50.attention[1]))],
    merge: { ...DEV_50.merge, start, decay: Math.min(mergeEnd, Math.max(start, at(DEV_50.merge.decay))), end: mergeEnd },
    shift,
  };
}

export const SCHNELL_4 = scaledSchedule('schnell-4', 4, false);

export const PRESETS: readonly CharaConsistSchedule[] = [DEV_50, SCHNELL_4];

/** Merge weight w(i): constant until `decay`, then half a cosine down to 0 at `end` (exclusive). */
export function mergeWeight(schedule: CharaConsistSchedule, step: number): number {
  const { start, decay, end, weight } = schedule.merge;
  if (step < start || step >= end) return 0;
  if (step < decay) return weight;
  return weight * 0.5 * (1 + Math.cos((Math.PI * (step - decay)) / (end - decay)));
}

export const attentionActive = (schedule: CharaConsistSchedule, step: number) => step >= schedule.attention[0] && step < schedule.attention[1];
