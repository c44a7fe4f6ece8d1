// How long a story still needs, from the engine's progress. Pure: times come in as arguments.
//
// Sampling is measured in token-steps (a step of an image of T tokens counts T), the unit of the
// engine's whole-story `work`, so a pass over the identity alone and a pass over a batch of four
// frames give the same rate and the estimate does not jump between them. The rate is smoothed
// over token-steps, not over events. Decoding is outside `work`: each picture still to decode adds
// its tokens times a measured decode rate (a prior until the first decode is timed).

import type { StoryStage, StoryUpdate } from '../../engine-api';

export type EtaEstimate = { kind: 'estimating' } | { kind: 'remaining'; ms: number };

const SAMPLING_STAGES: ReadonlySet<StoryStage> = new Set(['identity', 'pre-run', 'full run']);

/** Steps timed before an estimate is given; the first step of a run is warm-up (shader compiles) and not timed. */
export const TIMED_STEPS_NEEDED = 2;
/** The smoothing window as a share of the story's work: older token-steps fade over about this much work. */
const WINDOW_SHARE = 0.08;
/** Before a decode is timed: a picture's decode costs about this many steps of sampling it (VAE vs transformer at equal tokens). */
const DECODE_STEPS_PRIOR = 1;

export class EtaEstimator {
  private msPerTokenStep: number | undefined;
  private msPerDecodedToken: number | undefined;
  private timedSteps = 0;
  private warmedUp = false;
  private work = { done: 0, total: 0 };
  private stage: StoryStage | undefined;
  /** the last sampling event of the current pass: the start of the next timed step */
  private lastStep: { at: number; workDone: number } | undefined;
  private decodeStartedAt: number | undefined;
  private estimateAt: { at: number; ms: number } | undefined;

  /** `decodeTokens`: tokens of every picture the run will decode (the identity and each requested frame). */
  constructor(private decodeTokens: number) {}

  observe(update: StoryUpdate, now: number): void {
    if (update.kind === 'progress') this.progress(update, now);
    else if (update.kind === 'picture') this.pictureDone(update.result.width, update.result.height, now);
  }

  /** The time left at `now`: counts down between events, never below zero. */
  estimate(now: number): EtaEstimate {
    if (!this.estimateAt) return { kind: 'estimating' };
    return { kind: 'remaining', ms: Math.max(0, this.estimateAt.ms - (now - this.estimateAt.at)) };
  }

  private progress(update: Extract<StoryUpdate, { kind: 'progress' }>, now: number): void {
    if (update.stage !== this.stage) this.enterStage(update.stage, now);
    // A decode starts at its "0 done" event; the VAE's loading before the first one is not decoding time.
    if (update.stage === 'decoding' && update.done === 0) this.decodeStartedAt = now;
    this.work = update.work;
    if (!SAMPLING_STAGES.has(update.stage)) {
      this.refresh(now);
      return;
    }
    const last = this.lastStep;
    if (last && update.work.done > last.workDone) {
      if (this.warmedUp) this.timeSteps(now - last.at, update.work.done - last.workDone);
      this.warmedUp = true;
    }
    this.lastStep = { at: now, workDone: update.work.done };
    this.refresh(now);
  }

  private enterStage(stage: StoryStage, now: number): void {
    // A step is timed only between two events of one pass: the gap across stages holds other work.
    this.lastStep = undefined;
    this.decodeStartedAt = stage === 'decoding' ? now : undefined;
    this.stage = stage;
  }

  private timeSteps(ms: number, tokenSteps: number): void {
    const rate = ms / tokenSteps;
    this.timedSteps++;
    if (this.msPerTokenStep === undefined) {
      this.msPerTokenStep = rate;
      return;
    }
    const window = Math.max(1, WINDOW_SHARE * this.work.total);
    const weight = 1 - Math.exp(-tokenSteps / window);
    this.msPerTokenStep += weight * (rate - this.msPerTokenStep);
  }

  private pictureDone(width: number, height: number, now: number): void {
    const tokens = (width / 16) * (height / 16);
    this.decodeTokens = Math.max(0, this.decodeTokens - tokens);
    if (this.decodeStartedAt !== undefined) {
      const rate = (now - this.decodeStartedAt) / tokens;
      this.msPerDecodedToken = this.msPerDecodedToken === undefined ? rate : (this.msPerDecodedToken + rate) / 2;
    }
    // The engine decodes a batch's pictures one after the other.
    if (this.stage === 'decoding') this.decodeStartedAt = now;
    this.refresh(now);
  }

  private refresh(now: number): void {
    if (this.timedSteps < TIMED_STEPS_NEEDED || this.msPerTokenStep === undefined) return;
    const sampling = Math.max(0, this.work.total - this.work.done) * this.msPerTokenStep;
    const decoding = this.decodeTokens * (this.msPerDecodedToken ?? DECODE_STEPS_PRIOR * this.msPerTokenStep);
    // Time already spent on a decode in progress is part of its cost, not left to wait.
    const decodingSoFar = this.decodeStartedAt === undefined ? 0 : now - this.decodeStartedAt;
    this.estimateAt = { at: now, ms: Math.max(0, sampling + decoding - decodingSoFar) };
  }
}

/** "about 3 min 20 s", "about 40 s", "a few seconds" */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 5) return 'a few seconds';
  if (seconds < 60) return `about ${roundTo(seconds, 5)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes >= 60) return `about ${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  const rest = roundTo(seconds % 60, 10);
  return rest === 0 || rest === 60 ? `about ${minutes + (rest === 60 ? 1 : 0)} min` : `about ${minutes} min ${rest} s`;
}

const roundTo = (value: number, step: number) => Math.round(value / step) * step;
