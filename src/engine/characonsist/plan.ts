// Lockstep execution plan of a story, without the official identity cache (85 GiB at 1024^2).
// Samples are recomputed instead of cached: a pass runs several samples ("tracks") step by step
// and, within a step, block by block; in every single block the producers (the identity, and the
// scene sources' full runs) run first, and the frames read their keys, values and attention
// outputs of that same block and step straight from GPU memory. Everything a later pass needs
// from an earlier one is small: masks and point matches.
//
// A pass must follow the passes that produce what its tracks need before they start:
// - a frame sharing the identity's background needs the identity's mask (its step `maskStep`)
//   from its pre-run's first shared step on: one identity-only pass comes first;
// - a frame sharing a scene source's background needs the source's final full-run mask from its
//   first step on: the source's full run to `maskStep` comes first;
// - every full run needs its own pre-run's matches.
// The identity and the sources are deterministic, so each recomputation reproduces them bit for
// bit, and the result equals the official sequential run with its bank (the float64 reference
// checks that: reference/characonsist.ts runs both).

import { backgroundSource, type TransformerStory } from './story';

export type Track =
  | { kind: 'identity' }
  /** a frame's pre-run (steps 0..maskStep) or full run */
  | { kind: 'frame'; frame: number; run: 'pre' | 'full' };

export interface Pass {
  /** producers first: the identity, then source frames, then the rest in story order */
  tracks: Track[];
  /** the last step run (inclusive); a pre-run stops after the forward pass of maskStep */
  lastStep: number;
}

/** Does the frame share background during its runs (with a same-size source)? */
export function sharesBackground(story: TransformerStory, frame: number): boolean {
  if (!story.shareBg || story.frames[frame].updateBg) return false;
  const source = backgroundSource(story, frame);
  const from = source < 0 ? story.identity : story.frames[source];
  const { rows, cols } = story.frames[frame];
  return from.rows === rows && from.cols === cols;
}

export function planPasses(story: TransformerStory): Pass[] {
  const { maskStep, steps } = story.schedule;
  const frames = story.frames.map((_, index) => index);
  const sources = frames.filter((f) => story.frames[f].updateBg);
  const usesSource = (f: number) => sharesBackground(story, f) && backgroundSource(story, f) >= 0;
  const early = frames.filter((f) => !usesSource(f));
  const late = frames.filter(usesSource);
  const identity: Track = { kind: 'identity' };
  const run = (run: 'pre' | 'full') => (frame: number): Track => ({ kind: 'frame', frame, run });
  const passes: Pass[] = [];

  if (early.some((f) => sharesBackground(story, f))) passes.push({ tracks: [identity], lastStep: maskStep });
  // Sources come first among the frames of a pass: they produce what later frames read.
  const byRole = (list: number[]) => [...list.filter((f) => story.frames[f].updateBg), ...list.filter((f) => !story.frames[f].updateBg)];
  if (early.length) passes.push({ tracks: [identity, ...byRole(early).map(run('pre'))], lastStep: maskStep });
  if (late.length) {
    passes.push({ tracks: [identity, ...sources.map(run('full'))], lastStep: maskStep });
    passes.push({ tracks: [identity, ...sources.map(run('full')), ...late.map(run('pre'))], lastStep: maskStep });
  }
  passes.push({ tracks: [identity, ...byRole(frames).map(run('full'))], lastStep: steps - 1 });
  return passes;
}

/** Transformer forward passes a plan costs (the official sequential run costs 50 + 61 per frame). */
export function forwardPasses(passes: readonly Pass[]): number {
  return passes.reduce((total, pass) => total + pass.tracks.length * (pass.lastStep + 1), 0);
}
