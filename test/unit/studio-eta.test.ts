// The studio's ETA estimator against simulated stories whose true end is known: the engine's
// event order (loading, identity alone, decode, then batches of pre-run, full run and decodes),
// per-step times drawn with jitter from a seeded stream.

import { describe, expect, it } from 'vitest';
import type { StoryStage, StoryUpdate } from '../../src/engine-api';
import { EtaEstimator, formatDuration, TIMED_STEPS_NEEDED } from '../../src/ui/studio/eta';
import { freshSeed, randomArray } from '../helpers/random';

interface StorySim {
  /** latent tokens of the identity and of each frame */
  identityTokens: number;
  frameTokens: number[];
  framesPerBatch: number;
  steps: number;
  preSteps: number;
  /** the true costs */
  msPerTokenStep: number;
  decodeMsPerToken: number;
  /** each step's time is multiplied by 1 + jitter * u, u uniform in [-1, 1) */
  jitter: number;
  seed: number;
}

interface Timed {
  update: StoryUpdate;
  at: number;
}

const side = (tokens: number) => 16 * Math.sqrt(tokens);

/** The events a story sends, with their times; `end` is when its last picture arrives. */
function simulate(sim: StorySim): { events: Timed[]; end: number; decodeTokens: number } {
  const batches: number[][] = [];
  sim.frameTokens.forEach((_, k) => (k % sim.framesPerBatch === 0 ? batches.push([k]) : batches.at(-1)!.push(k)));
  const passes = [
    { stage: 'identity' as const, frames: [] as number[], steps: sim.steps, tokens: sim.identityTokens, decode: [sim.identityTokens] },
    ...batches.flatMap((frames) => {
      const tokens = sim.identityTokens + frames.reduce((sum, k) => sum + sim.frameTokens[k], 0);
      return [
        { stage: 'pre-run' as const, frames, steps: sim.preSteps, tokens, decode: [] },
        { stage: 'full run' as const, frames, steps: sim.steps, tokens, decode: frames.map((k) => sim.frameTokens[k]) },
      ];
    }),
  ];
  const work = { done: 0, total: passes.reduce((sum, pass) => sum + pass.steps * pass.tokens, 0) };
  const jitter = randomArray(sim.seed, passes.length * sim.steps + 64);
  let draw = 0;
  let at = 0;
  const events: Timed[] = [];
  const progress = (stage: StoryStage, frames: number[], done: number, total: number) =>
    events.push({ update: { kind: 'progress', stage, frames, done, total, work: { ...work } }, at });
  for (const stage of ['text encoders', 'transformer'] as const) {
    for (let done = 0; done <= 4; done++) {
      progress(stage, [], done, 4);
      at += 700;
    }
  }
  let warmUp = 4; // the first step of the run also compiles the shaders
  let vaeLoaded = false;
  for (const pass of passes) {
    progress(pass.stage, pass.frames, 0, pass.steps);
    for (let step = 1; step <= pass.steps; step++) {
      at += warmUp * sim.msPerTokenStep * pass.tokens * (1 + sim.jitter * jitter[draw++]);
      warmUp = 1;
      work.done += pass.tokens;
      progress(pass.stage, pass.frames, step, pass.steps);
    }
    if (pass.decode.length === 0) continue;
    for (const tokens of pass.decode) {
      if (!vaeLoaded) {
        // the engine loads the VAE before its first decode, reporting bytes
        for (let done = 0; done <= 4; done++, at += 500) progress('decoding', pass.frames, done, 4);
        vaeLoaded = true;
      }
      progress('decoding', pass.frames, 0, 1);
      at += sim.decodeMsPerToken * tokens;
      const width = side(tokens);
      events.push({ update: { kind: 'picture', picture: 'identity', result: { width, height: width } } as StoryUpdate, at });
    }
  }
  return { events, end: at, decodeTokens: sim.identityTokens + sim.frameTokens.reduce((a, b) => a + b, 0) };
}

/** Feeds every event and returns the estimate right after each (undefined while estimating). */
function run(sim: StorySim) {
  const { events, end, decodeTokens } = simulate(sim);
  const eta = new EtaEstimator(decodeTokens);
  return events.map(({ update, at }) => {
    eta.observe(update, at);
    const estimate = eta.estimate(at);
    return { update, at, truth: end - at, estimate: estimate.kind === 'remaining' ? estimate.ms : undefined };
  });
}

const STORY: Omit<StorySim, 'seed'> = {
  identityTokens: 1024,
  frameTokens: [1024, 1024, 3600, 1024, 1024],
  framesPerBatch: 2,
  steps: 50,
  preSteps: 11,
  msPerTokenStep: 1.2,
  decodeMsPerToken: 0.4,
  jitter: 0.3,
};

describe('the ETA estimator', () => {
  it(`says "estimating" until ${TIMED_STEPS_NEEDED} steps are timed (loading and the warm-up step are not)`, () => {
    const seed = freshSeed('eta estimating');
    const points = run({ ...STORY, seed });
    const firstSampling = points.findIndex((p) => p.update.kind === 'progress' && p.update.stage === 'identity');
    expect(points.slice(0, firstSampling).every((p) => p.estimate === undefined)).toBe(true);
    // events of the identity pass: step 0 starts the clock, step 1 is warm-up, steps 2 and 3 are timed
    expect(points.slice(firstSampling, firstSampling + 3).map((p) => p.estimate)).toEqual([undefined, undefined, undefined]);
    expect(points[firstSampling + 3].estimate).toBeGreaterThan(0);
  });

  it('tracks the true time left within a quarter once a tenth of the run is behind it', () => {
    const seed = freshSeed('eta accuracy');
    const points = run({ ...STORY, seed });
    const total = points[0].truth;
    const judged = points.filter((p) => p.estimate !== undefined && p.truth < 0.9 * total && p.truth > 2000);
    expect(judged.length).toBeGreaterThan(100);
    for (const p of judged) expect(Math.abs(p.estimate! - p.truth)).toBeLessThan(0.25 * p.truth + 1500);
  });

  it('does not jump between steps, passes of other sizes and decodes', () => {
    const seed = freshSeed('eta smooth');
    // one frame four times the identity's size: per step, a pass costs 1x (identity) or 5x (batch)
    const points = run({ ...STORY, frameTokens: [4096, 1024, 1024], framesPerBatch: 1, jitter: 0.3, seed });
    const ready = points.filter((p) => p.estimate !== undefined);
    for (let i = 1; i < ready.length; i++) {
      const expected = ready[i - 1].estimate! - (ready[i].at - ready[i - 1].at);
      expect(Math.abs(ready[i].estimate! - expected)).toBeLessThan(0.12 * ready[i - 1].estimate! + 500);
    }
  });

  it('covers decoding: after the last step the time left is the decodes still to come', () => {
    const seed = freshSeed('eta decoding');
    const sim = { ...STORY, jitter: 0.05, seed };
    const points = run(sim);
    const lastStep = points.findLastIndex((p) => p.update.kind === 'progress' && p.update.stage === 'full run');
    const decodesLeft = sim.frameTokens.slice(-1).reduce((sum, tokens) => sum + tokens * sim.decodeMsPerToken, 0);
    expect(points[lastStep].truth).toBeCloseTo(decodesLeft, 6);
    expect(points[lastStep].estimate).toBeGreaterThan(0.7 * decodesLeft);
    expect(points[lastStep].estimate).toBeLessThan(1.3 * decodesLeft);
    expect(points.at(-1)!.estimate).toBeLessThan(50);
  });

  it('counts down between events and never below zero', () => {
    const eta = new EtaEstimator(0);
    const step = (done: number, at: number) => eta.observe({ kind: 'progress', stage: 'full run', frames: [0], done, total: 10, work: { done: 100 * done, total: 1000 } }, at);
    [0, 1, 2, 3].forEach((done) => step(done, 1000 * done));
    const atEvent = eta.estimate(3000);
    expect(atEvent).toEqual({ kind: 'remaining', ms: 7000 });
    expect(eta.estimate(5500)).toEqual({ kind: 'remaining', ms: 4500 });
    expect(eta.estimate(60_000)).toEqual({ kind: 'remaining', ms: 0 });
  });

  it('words durations for people', () => {
    expect(formatDuration(2_000)).toBe('a few seconds');
    expect(formatDuration(42_000)).toBe('about 40 s');
    expect(formatDuration(200_000)).toBe('about 3 min 20 s');
    expect(formatDuration(177_000)).toBe('about 3 min');
    expect(formatDuration(2 * 3600_000 + 5 * 60_000)).toBe('about 2 h 5 min');
  });
});
