// The state of one CharaConsist run (the identity, or a frame's pre-run or full run) in the
// float64 reference, and what a run reads from the others.

import type { Track } from '../characonsist/plan';
import type { StoryImage, TransformerStory } from '../characonsist/story';
import { EngineError } from '../errors';
import type { FluxConfig } from '../models/flux/config';
import { fluxSchedule } from '../sampling/schedule';
import type { FeatureBank } from './characonsist-bank';
import type { PointMatches } from './characonsist-statistics';
import type { ReferenceWeights } from './flux';
import type { RangeScores } from './text-attention';

export interface StoryModel {
  config: FluxConfig;
  weights: ReferenceWeights;
  story: TransformerStory;
}

/** One sample being run: the identity, or a frame's pre-run or full run. */
export interface RunState {
  readonly track: Track;
  readonly image: StoryImage;
  /** the N + 1 timesteps of the run's own grid */
  readonly timesteps: Float64Array;
  /** x_0 (the noise), then the latent after each Euler step [tokens, 64] */
  readonly latents: Float64Array[];
  /** producers only: where the run keeps its features for the frames */
  readonly bank?: FeatureBank;
  /** the latest mask [rows * cols], 1 = foreground, and its block-mean scores */
  mask?: Uint32Array;
  maskScores?: RangeScores;
  /** what this run's matching found at the mask step */
  matches?: PointMatches;
}

/** What a run reads from other runs; each is asked for only when a step needs it. */
export interface StepSources {
  identityBank(): FeatureBank;
  identityMask(): Uint32Array;
  /** the frame's background source; undefined when it shares none */
  background(): SharedBackground | undefined;
  /** the frame's pre-run matches, which its full run uses up to the mask step */
  preRunMatches(): PointMatches;
}

/** Where a frame's background extras come from: the identity or its scene's first frame. */
export interface SharedBackground {
  bank: FeatureBank;
  /** [rows * cols] 1 = background: NOT the source's (final) mask */
  mask: Uint32Array;
}

export function newRun(model: StoryModel, track: Track, bank?: FeatureBank): RunState {
  const image = track.kind === 'identity' ? model.story.identity : model.story.frames[track.frame];
  const { steps, shift } = model.story.schedule;
  return { track, image, timesteps: fluxSchedule(steps, image.rows * image.cols, shift), latents: [Float64Array.from(image.noise)], bank };
}

/** A value an earlier pass or run must have produced; its absence is a bug in the order of runs. */
export function requireComputed<T>(value: T | undefined, what: string): T {
  return value ?? notComputed(what);
}

export function notComputed(what: string): never {
  throw new EngineError('internal', `The CharaConsist reference needs ${what} before it was computed.`, 'This is a bug in the run order; please report it.');
}

/** Which frame and run a frame event concerns. */
export function frameRun(track: Track): { frame: number; run: 'pre' | 'full' } {
  if (track.kind === 'identity') throw new EngineError('internal', 'A frame event was raised by the identity run.', 'This is a bug in the CharaConsist reference; please report it.');
  return { frame: track.frame, run: track.run };
}
