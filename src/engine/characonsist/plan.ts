// Lockstep execution plan of a story, without the official identity cache (85 GiB at 1024^2).
// Samples are recomputed instead of cached: a pass runs several samples ("tracks") step by step
// and, within a step, block by block; in every single block the producers (the identity, and the
// scene sources' full runs) run first, and the frames read their keys, values and attention
// outputs of that same block and step straight from GPU memory. Everything a later pass needs
// from an earlier one is small: masks and point matches.
//
// The identity's picture comes first, from a pass of its own (plain FLUX, every step). Then the
// requested frames run in batches; a batch brings in the scene sources its frames read their
// background from (computed, not returned). Within a batch a pass must follow the passes that
// produce what its tracks need before they start:
// - a frame sharing the identity's background needs the identity's mask (its step `maskStep`)
//   from its pre-run's first shared step on: one identity-only pass comes first, unless an
//   earlier pass of this plan already ran the identity to its mask step;
// - a frame sharing a scene source's background needs the source's final full-run mask from its
//   first step on: the source's full run to `maskStep` comes first;
// - every full run needs its own pre-run's matches.
// A track runs only as far as its picture or its readers need: the identity, when recomputed for
// a batch, until the last step a frame reads it (dev-50: step 40 of 50); a source brought in for
// its background, until the frames' last background-sharing step.
// The identity and the sources are deterministic, so each recomputation reproduces them bit for
// bit, and the result equals the official sequential run with its bank (the float64 reference
// checks that: reference/characonsist.ts runs both), whatever the batches.

import { backgroundSource, type TransformerStory } from './story';

export type Track =
  | { kind: 'identity' }
  /** a frame's pre-run (steps 0..maskStep) or full run */
  | { kind: 'frame'; frame: number; run: 'pre' | 'full' };

/** A track of a pass and the last step it runs (inclusive; a pre-run stops after the forward pass of maskStep). */
export interface PlannedTrack {
  track: Track;
  lastStep: number;
}

/** 'identity': the identity's own picture; 'pre-run': masks and matches a batch needs first; 'full run': the batch's pictures. */
export type PassStage = 'identity' | 'pre-run' | 'full run';

export interface Pass {
  stage: PassStage;
  /** the requested frames of the batch this pass serves (empty for the identity's pass) */
  frames: number[];
  /** producers first: the identity, then source frames, then the rest in story order */
  tracks: PlannedTrack[];
}

/** Which pictures to make and how many frames run together. */
export interface PictureRequest {
  identity: boolean;
  /** 0-based frame indices */
  frames: readonly number[];
  framesPerBatch: number;
}

export const allPictures = (story: TransformerStory, framesPerBatch = story.frames.length): PictureRequest => ({
  identity: true,
  frames: story.frames.map((_, index) => index),
  framesPerBatch: Math.max(1, framesPerBatch),
});

/** Does the frame share background during its runs (with a same-size source)? */
export function sharesBackground(story: TransformerStory, frame: number): boolean {
  if (!story.shareBg || story.frames[frame].updateBg) return false;
  const source = backgroundSource(story, frame);
  const from = source < 0 ? story.identity : story.frames[source];
  const { rows, cols } = story.frames[frame];
  return from.rows === rows && from.cols === cols;
}

/** Does the frame share the background of a scene's first frame (not the identity's)? */
const usesSource = (story: TransformerStory, frame: number) => sharesBackground(story, frame) && backgroundSource(story, frame) >= 0;

/** The last step at which a frame reads the identity: matching at the mask step, sharing, token merge. */
export function lastIdentityRead(story: TransformerStory): number {
  const { maskStep, attention, merge } = story.schedule;
  return Math.max(maskStep, attention[1] - 1, story.useInterpolate ? merge.end - 1 : 0);
}

/** The last step at which a frame reads a scene source: its mask at the mask step, its keys while sharing background. */
export function lastSourceRead(story: TransformerStory): number {
  const { maskStep, attention } = story.schedule;
  return Math.max(maskStep, attention[1] - 1);
}

export function planPasses(story: TransformerStory, request: PictureRequest = allPictures(story)): Pass[] {
  const lastStep = story.schedule.steps - 1;
  const passes: Pass[] = [];
  if (request.identity) passes.push({ stage: 'identity', frames: [], tracks: [{ track: { kind: 'identity' }, lastStep }] });
  const frames = [...new Set(request.frames)].sort((a, b) => a - b);
  for (let first = 0; first < frames.length; first += request.framesPerBatch) {
    const identityMaskKnown = passes.length > 0;
    passes.push(...batchPasses(story, frames.slice(first, first + request.framesPerBatch), identityMaskKnown));
  }
  return passes;
}

/** The passes of one batch of requested frames (story order), with the scene sources they read. */
function batchPasses(story: TransformerStory, batch: number[], identityMaskKnown: boolean): Pass[] {
  const { maskStep, steps } = story.schedule;
  const requested = new Set(batch);
  const helpers = batch.filter((f) => usesSource(story, f)).map((f) => backgroundSource(story, f));
  const frames = [...new Set([...batch, ...helpers])].sort((a, b) => a - b);
  const isSource = (f: number) => story.frames[f].updateBg;
  const sources = frames.filter(isSource);
  const early = frames.filter((f) => !usesSource(story, f));
  const late = frames.filter((f) => usesSource(story, f));
  // Sources come first among the frames of a pass: they produce what later frames read.
  const byRole = (list: number[]) => [...list.filter(isSource), ...list.filter((f) => !isSource(f))];
  const toMask = (run: 'pre' | 'full') => (frame: number): PlannedTrack => ({ track: { kind: 'frame', frame, run }, lastStep: maskStep });
  const identity = (last: number): PlannedTrack => ({ track: { kind: 'identity' }, lastStep: Math.min(last, lastIdentityRead(story)) });
  const pass = (stage: PassStage, tracks: PlannedTrack[]): Pass => ({ stage, frames: batch, tracks });
  const passes: Pass[] = [];

  if (!identityMaskKnown && early.some((f) => sharesBackground(story, f))) passes.push(pass('pre-run', [identity(maskStep)]));
  if (early.length) passes.push(pass('pre-run', [identity(maskStep), ...byRole(early).map(toMask('pre'))]));
  if (late.length) {
    passes.push(pass('pre-run', [identity(maskStep), ...sources.map(toMask('full'))]));
    passes.push(pass('pre-run', [identity(maskStep), ...sources.map(toMask('full')), ...late.map(toMask('pre'))]));
  }
  const fullRun = (frame: number): PlannedTrack => ({
    track: { kind: 'frame', frame, run: 'full' },
    lastStep: requested.has(frame) ? steps - 1 : Math.min(steps - 1, lastSourceRead(story)),
  });
  passes.push(pass('full run', [identity(steps - 1), ...byRole(frames).map(fullRun)]));
  return passes;
}

/** The last step of a pass: its longest track's. */
export const passLastStep = (pass: Pass) => Math.max(...pass.tracks.map((planned) => planned.lastStep));

/** Token-steps of a planned track: each step is a forward pass over its text and image tokens. */
export function trackWork(story: TransformerStory, planned: PlannedTrack): number {
  const image = planned.track.kind === 'identity' ? story.identity : story.frames[planned.track.frame];
  return (planned.lastStep + 1) * (image.textTokens + image.rows * image.cols);
}

/** The transformer work of a plan in token-steps (what an ETA is measured in: the time of a pass grows with its tokens). */
export const planWork = (story: TransformerStory, passes: readonly Pass[]) => passes.reduce((total, pass) => total + pass.tracks.reduce((sum, planned) => sum + trackWork(story, planned), 0), 0);

/** Transformer forward passes a plan costs. */
export function forwardPasses(passes: readonly Pass[]): number {
  return passes.reduce((total, pass) => total + pass.tracks.reduce((sum, planned) => sum + planned.lastStep + 1, 0), 0);
}

/** What the official sequential run costs for the same frames: the identity's run with its bank, then a pre-run and a full run per frame. */
export function officialForwardPasses(story: TransformerStory, passes: readonly Pass[]): number {
  const { steps, maskStep } = story.schedule;
  const frames = new Set(passes.flatMap((pass) => pass.tracks.flatMap(({ track }) => (track.kind === 'frame' ? [track.frame] : []))));
  return steps + frames.size * (maskStep + 1 + steps);
}
