// Float64 reference of a whole CharaConsist story (spec/characonsist-official.md, semantics in
// characonsist/story.ts): the oracle of the GPU engine. Two orders, which must agree bit for bit:
//   'cached'    the official order: the identity's run with a bank of every step and single
//               block, then each frame's pre-run and full run, one after the other;
//   'lockstep'  the passes of characonsist/plan.ts: the identity's own run first, then the frames
//               in batches; the producers (identity, scene sources) are recomputed in every pass,
//               only as far as the frames read them, and their features of one step are kept only
//               while the consumers of that step run; passes hand each other masks and matches only.
// The per-step work is shared: characonsist-step.ts (one forward pass), -flags (what a step does),
// -bank (producer features), -extras, -statistics (mask, matches), -run (a run's state).

import { backgroundSource, type StoryEvent, type StoryImage, type TransformerStory } from '../characonsist/story';
import { allPictures, planPasses, type Track } from '../characonsist/plan';
import { invalidInput } from '../errors';
import type { FluxConfig } from '../models/flux/config';
import { FeatureBank } from './characonsist-bank';
import { EventLog } from './characonsist-events';
import type { PointMatches } from './characonsist-statistics';
import { newRun, notComputed, requireComputed, type RunState, type SharedBackground, type StepSources, type StoryModel } from './characonsist-run';
import { runStep } from './characonsist-step';
import type { ReferenceWeights } from './flux';
import type { RangeScores } from './text-attention';

export type { PointMatches } from './characonsist-statistics';

/** 'lockstep' runs every picture, `framesPerBatch` frames together (default all). */
export type ReferenceOrder = 'cached' | 'lockstep' | { lockstep: { framesPerBatch: number } };

export interface ReferenceRun {
  /** x_0 (the noise), x_1 .. x_N after each Euler step (a pre-run: x_0 .. x_maskStep) [tokens, 64] */
  latents: Float64Array[];
  /** the run's last mask [rows * cols], 1 = foreground */
  mask: Uint8Array;
  /** its block-mean text-attention scores per image token */
  maskScores: RangeScores;
}

export interface ReferenceFrame extends ReferenceRun {
  /** the full run's matching at the mask step (used from the step after it on) */
  matches: PointMatches;
  /** the pre-run: its mask and its matches (used by the full run up to the mask step) */
  preRun: ReferenceRun & { matches: PointMatches };
}

export interface CharaConsistReference {
  identity: ReferenceRun;
  frames: ReferenceFrame[];
  /** once each, in the official order */
  events: StoryEvent[];
}

export function characonsistReference(config: FluxConfig, weights: ReferenceWeights, story: TransformerStory, order: ReferenceOrder): CharaConsistReference {
  requireRunnable(config, story);
  const model: StoryModel = { config, weights, story };
  const events = new EventLog(story.schedule.maskStep);
  const runs = order === 'cached' ? cachedOrder(model, events) : lockstepOrder(model, events, order === 'lockstep' ? story.frames.length : order.lockstep.framesPerBatch);
  return {
    identity: runResult(runs.identity),
    frames: story.frames.map((_, frame) => ({
      ...runResult(runs.full[frame]),
      matches: requireComputed(runs.full[frame].matches, 'the full run’s matches'),
      preRun: { ...runResult(runs.pre[frame]), matches: requireComputed(runs.pre[frame].matches, 'the pre-run’s matches') },
    })),
    events: events.list(),
  };
}

interface StoryRuns {
  identity: RunState;
  pre: RunState[];
  full: RunState[];
}

function runSteps(model: StoryModel, run: RunState, lastStep: number, sources: StepSources, events: EventLog): void {
  for (let step = 0; step <= lastStep; step++) runStep(model, run, step, sources, events);
}

/** The identity reads nothing from other runs. */
const IDENTITY_SOURCES: StepSources = {
  identityBank: () => notComputed('a bank (the identity reads none)'),
  identityMask: () => notComputed('a mask (the identity reads none)'),
  background: () => undefined,
  preRunMatches: () => notComputed('matches (the identity reads none)'),
};

/** The official sequential order, with the identity's bank of every step. */
function cachedOrder(model: StoryModel, events: EventLog): StoryRuns {
  const { story } = model;
  const { steps, maskStep } = story.schedule;
  const identity = newRun(model, { kind: 'identity' }, new FeatureBank('identity'));
  runSteps(model, identity, steps - 1, IDENTITY_SOURCES, events);
  const identityBank = requireComputed(identity.bank, 'the identity bank');
  const identityMask = requireComputed(identity.mask, 'the identity mask');
  // The official spatial_kwargs: the identity's background, until a scene's first frame replaces it.
  let background = { image: story.identity, shared: { bank: identityBank, mask: complement(identityMask) } };
  const runs: StoryRuns = { identity, pre: [], full: [] };
  story.frames.forEach((frame, index) => {
    const shared = story.shareBg && !frame.updateBg && sameGrid(index, frame, background.image, events) ? background.shared : undefined;
    const pre = newRun(model, { kind: 'frame', frame: index, run: 'pre' });
    const full = newRun(model, { kind: 'frame', frame: index, run: 'full' }, frame.updateBg ? new FeatureBank(`frame ${index}`) : undefined);
    const sources: StepSources = {
      identityBank: () => identityBank,
      identityMask: () => identityMask,
      background: () => shared,
      preRunMatches: () => requireComputed(pre.matches, 'the pre-run’s matches'),
    };
    runSteps(model, pre, maskStep, sources, events);
    runSteps(model, full, steps - 1, sources, events);
    if (frame.updateBg) background = { image: frame, shared: { bank: requireComputed(full.bank, 'the source bank'), mask: complement(requireComputed(full.mask, 'the source mask')) } };
    runs.pre.push(pre);
    runs.full.push(full);
  });
  return runs;
}

/** What a pass leaves for later passes: masks and matches only. */
interface Carried {
  identityMask?: Uint32Array;
  /** frame -> its pre-run's matches */
  preRunMatches: Map<number, PointMatches>;
  /** scene source frame -> its full run's mask at the mask step */
  sourceMasks: Map<number, Uint32Array>;
}

/** planPasses' order: every pass steps its runs together, producers first in each step, each run to its own last step. */
function lockstepOrder(model: StoryModel, events: EventLog, framesPerBatch: number): StoryRuns {
  const { story } = model;
  const carried: Carried = { preRunMatches: new Map(), sourceMasks: new Map() };
  const complete = new Map<string, RunState>();
  for (const pass of planPasses(story, allPictures(story, framesPerBatch))) {
    const runs = pass.tracks.map(({ track }) => newRun(model, track, isProducer(story, track) ? new FeatureBank(trackName(track)) : undefined));
    const sources = runs.map((run) => lockstepSources(model, run, runs, carried, events));
    const lastSteps = pass.tracks.map((planned) => planned.lastStep);
    for (let step = 0; step <= Math.max(...lastSteps); step++) {
      for (const run of runs) run.bank?.forgetAllBut(step);
      runs.forEach((run, i) => {
        if (step > lastSteps[i]) return;
        runStep(model, run, step, sources[i], events);
        if (step === story.schedule.maskStep) carry(story, run, carried);
      });
    }
    // A run is a result when it ran its whole length; producers cut short only served their pass.
    runs.forEach((run, i) => {
      if (lastSteps[i] === fullLength(story, run.track)) complete.set(trackName(run.track), run);
    });
  }
  const find = (name: string) => requireComputed(complete.get(name), `the run "${name}"`);
  return {
    identity: find('identity'),
    pre: story.frames.map((_, frame) => find(trackName({ kind: 'frame', frame, run: 'pre' }))),
    full: story.frames.map((_, frame) => find(trackName({ kind: 'frame', frame, run: 'full' }))),
  };
}

/** The last step of a whole run: the mask step for a pre-run, the last step otherwise. */
const fullLength = (story: TransformerStory, track: Track) => (track.kind === 'frame' && track.run === 'pre' ? story.schedule.maskStep : story.schedule.steps - 1);

/** The identity, and the full runs of scenes' first frames ("updated" keys and values). */
const isProducer = (story: TransformerStory, track: Track) => track.kind === 'identity' || (track.run === 'full' && story.frames[track.frame].updateBg);

const trackName = (track: Track) => (track.kind === 'identity' ? 'identity' : `${track.run} ${track.frame}`);

function carry(story: TransformerStory, run: RunState, carried: Carried): void {
  const track = run.track;
  if (track.kind === 'identity') carried.identityMask = run.mask;
  else if (track.run === 'pre') carried.preRunMatches.set(track.frame, requireComputed(run.matches, 'the pre-run’s matches'));
  else if (story.frames[track.frame].updateBg) carried.sourceMasks.set(track.frame, requireComputed(run.mask, 'the source mask'));
}

function lockstepSources(model: StoryModel, run: RunState, passRuns: RunState[], carried: Carried, events: EventLog): StepSources {
  const producer = (name: string) => requireComputed(passRuns.find((other) => trackName(other.track) === name)?.bank, `the bank of "${name}" in this pass`);
  const background = lockstepBackground(model.story, run.track, producer, carried, events);
  const frame = run.track.kind === 'frame' ? run.track.frame : -1;
  return {
    identityBank: () => producer('identity'),
    identityMask: () => requireComputed(carried.identityMask, 'the identity mask'),
    background: () => background,
    preRunMatches: () => requireComputed(carried.preRunMatches.get(frame), `the matches of frame ${frame}'s pre-run`),
  };
}

/** The frame's background source, read from this pass's producer and an earlier pass's mask. */
function lockstepBackground(story: TransformerStory, track: Track, producer: (name: string) => FeatureBank, carried: Carried, events: EventLog): SharedBackground | undefined {
  if (track.kind === 'identity' || !story.shareBg || story.frames[track.frame].updateBg) return undefined;
  const source = backgroundSource(story, track.frame);
  const sourceImage = source < 0 ? story.identity : story.frames[source];
  if (!sameGrid(track.frame, story.frames[track.frame], sourceImage, events)) return undefined;
  const mask = source < 0 ? carried.identityMask : carried.sourceMasks.get(source);
  const name = source < 0 ? 'identity' : trackName({ kind: 'frame', frame: source, run: 'full' });
  return { bank: producer(name), mask: complement(requireComputed(mask, `the mask of "${name}"`)) };
}

/** Background sharing between different grids is undefined (spec §17.7): skipped and reported. */
function sameGrid(frame: number, image: StoryImage, source: StoryImage, events: EventLog): boolean {
  if (image.rows === source.rows && image.cols === source.cols) return true;
  events.record({ kind: 'background-size-mismatch', frame });
  return false;
}

const complement = (mask: Uint32Array) => mask.map((foreground) => Number(foreground === 0));

function runResult(run: RunState): ReferenceRun {
  return { latents: run.latents, mask: Uint8Array.from(requireComputed(run.mask, 'a mask')), maskScores: requireComputed(run.maskScores, 'mask scores') };
}

function requireRunnable(config: FluxConfig, story: TransformerStory): void {
  const { attention, maskStep, steps } = story.schedule;
  if (attention[0] < 1 || maskStep >= steps) {
    throw invalidInput(
      `Schedule ${story.schedule.name}: sharing starts at step ${attention[0]} and the mask step is ${maskStep} of ${steps}.`,
      'Start sharing at step 1 or later (it needs the mask of the step before) and put the mask step inside the run.',
    );
  }
  [story.identity, ...story.frames].forEach((image, index) => {
    const name = index === 0 ? 'the identity' : `frame ${index - 1}`;
    if (!(image.bgLen >= 0 && image.bgLen <= image.realLen && image.realLen <= image.textTokens)) {
      throw invalidInput(`For ${name}, bgLen ${image.bgLen} and realLen ${image.realLen} do not fit its ${image.textTokens} text tokens.`, 'Take bgLen and realLen from composeStoryPrompt.');
    }
    if (image.noise.length !== image.rows * image.cols * config.inChannels) {
      throw invalidInput(`For ${name}, the noise has ${image.noise.length} values, not ${image.rows}x${image.cols} tokens of ${config.inChannels}.`, 'Draw the noise for the image’s own grid.');
    }
  });
}
