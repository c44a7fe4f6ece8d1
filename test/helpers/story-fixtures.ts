// Tiny CharaConsist stories for the tests: the tiny story model, a short schedule, random images
// and frames of the identity's character, and draws of stories that exercise what a test
// compares (the float64 reference's cached run decides).

import type { CharaConsistSchedule } from '../../src/engine/characonsist/schedule';
import type { StoryFrame, StoryImage, TransformerStory } from '../../src/engine/characonsist/story';
import { characonsistReference, type CharaConsistReference, type ReferenceFrame, type ReferenceOrder } from '../../src/engine/reference/characonsist';
import type { ReferenceWeights } from '../../src/engine/reference/flux';
import { gaussianNoise } from '../../src/engine/sampling/noise';
import { TINY_STORY_FLUX, tinyFluxTensors } from '../../tools/tiny-models/flux';
import { randomInt } from './random';

export const CONFIG = TINY_STORY_FLUX;
export const TENSORS = tinyFluxTensors(CONFIG);
export const WEIGHTS: ReferenceWeights = (name) => TENSORS.get(name)!.values;

/** 6 steps: mask and matching at step 2, sharing at steps 1..3, merge at 1..4 with decay from 3. */
export const SCHEDULE: CharaConsistSchedule = {
  name: 'test-6',
  experimental: true,
  steps: 6,
  maskStep: 2,
  attention: [1, 4],
  merge: { start: 1, decay: 3, end: 5, weight: 0.8 },
  similarityThreshold: 0.5,
  shift: true,
  guidance: 3.5,
};
export const LAST_STEP = SCHEDULE.steps - 1;
export const IDENTITY_GRID = { rows: 4, cols: 5 };
export const OTHER_GRID = { rows: 3, cols: 6 };
/** T5 rows given to the model: background [0, 5), foreground [5, 9), then the EOS and padding. */
export const PROMPT = { textTokens: 11, bgLen: 5, realLen: 9 };
/** Spread of the text and pooled changes from the identity's: another action of the same character, another place. */
export const ACTION_CHANGE = 0.05;
export const PLACE_CHANGE = 0.1;
/** Plain JS runs about 15 forward passes of the tiny model per second; a story test runs up to a few hundred. */
export const STORY_TIMEOUT = 60_000;
/** Fresh stories drawn before giving up on one that exercises what a test compares. */
export const DRAWS = 8;

export const normals = (seed: number, count: number, scale = 1) => gaussianNoise(seed, count, randomInt(seed, 0, 2 ** 30)).map((value) => scale * value);

export function randomImage(seed: number, grid = IDENTITY_GRID, prompt = PROMPT): StoryImage {
  const text = normals(seed, prompt.textTokens * CONFIG.contextDim);
  return { ...prompt, ...grid, text, pooled: normals(seed, CONFIG.vecDim), noise: normals(seed, grid.rows * grid.cols * CONFIG.inChannels) };
}

export interface FrameOptions {
  updateBg?: boolean;
  /** another background text (switching, a new scene) */
  newPlace?: boolean;
  /** another grid and its noise; by default the identity's (the official code reuses one noise) */
  grid?: { rows: number; cols: number; noise: Float32Array };
}

/** A frame of the identity's character: its text with the foreground (and maybe the background) rows changed. */
export function frameOf(seed: number, identity: StoryImage, options: FrameOptions = {}): StoryFrame {
  const backgroundValues = identity.bgLen * CONFIG.contextDim;
  const change = normals(seed, identity.text.length);
  const text = identity.text.map((value, i) => value + change[i] * (i >= backgroundValues ? ACTION_CHANGE : options.newPlace ? PLACE_CHANGE : 0));
  const pooledChange = normals(seed, identity.pooled.length, ACTION_CHANGE);
  return { ...identity, ...options.grid, text, pooled: identity.pooled.map((value, i) => value + pooledChange[i]), updateBg: options.updateBg ?? false };
}

export const otherGrid = (seed: number) => ({ ...OTHER_GRID, noise: normals(seed, OTHER_GRID.rows * OTHER_GRID.cols * CONFIG.inChannels) });

export const story = (identity: StoryImage, frames: StoryFrame[], shareBg: boolean): TransformerStory => ({ identity, frames, shareBg, useInterpolate: true, schedule: SCHEDULE });

export const run = (s: TransformerStory, order: ReferenceOrder = 'cached') => characonsistReference(CONFIG, WEIGHTS, s, order);

export const foregroundTokens = (mask: Uint8Array) => mask.reduce((count, value) => count + value, 0);

/**
 * An identity whose mask has both foreground and background tokens. On the tiny model's 4x5 grid
 * the 5x5 dilation makes most masks all-or-nothing, and an identity without foreground gives no
 * matches at all, so such identities are drawn again.
 */
export function identityWithMixedMask(seed: number): { identity: StoryImage; result: CharaConsistReference } {
  for (let draw = 0; draw < 4 * DRAWS; draw++) {
    const identity = randomImage(seed);
    const result = run(story(identity, [], false));
    const foreground = foregroundTokens(result.identity.mask);
    if (foreground > 0 && foreground < identity.rows * identity.cols) return { identity, result };
  }
  throw new Error('no identity with a mixed mask');
}

/** Draws stories until the cached order exercises what `covers` asks for; returns it with its result. */
export function coveringStory(seed: number, build: (identity: StoryImage) => TransformerStory, covers: (result: CharaConsistReference) => boolean): { story: TransformerStory; cached: CharaConsistReference } {
  for (let draw = 0; draw < DRAWS; draw++) {
    const candidate = build(identityWithMixedMask(seed).identity);
    const cached = run(candidate);
    if (covers(cached)) return { story: candidate, cached };
  }
  throw new Error(`no story in ${DRAWS} draws exercised what the test compares`);
}

/** Point tracking and token merge ran: valid matches in the pre-run (steps <= 2) and the full run (after). */
export const tracksPoints = (frame: ReferenceFrame) => frame.preRun.matches.frameTokens.length > 0 && frame.matches.frameTokens.length > 0;

/** Steps at which a run shares background (pre-runs stop at the mask step). */
export const sharingSteps = (run: 'pre' | 'full') => {
  const last = run === 'pre' ? Math.min(SCHEDULE.maskStep, SCHEDULE.attention[1] - 1) : SCHEDULE.attention[1] - 1;
  return last - SCHEDULE.attention[0] + 1;
};

/** Some sharing step of the frame found background tokens to share. */
export const sharesSomeBackground = (result: CharaConsistReference, frame: number) =>
  result.events.filter((event) => event.kind === 'empty-shared-background' && event.frame === frame).length < sharingSteps('pre') + sharingSteps('full');

/**
 * Two scenes, the second on another grid, each opened by a background source: drawn until point
 * tracking runs and a scene's second frame shares some background.
 */
export function scenesStory(seed: number): { story: TransformerStory; cached: CharaConsistReference } {
  return coveringStory(
    seed,
    (identity) => {
      const grid = otherGrid(seed);
      const scene = (options: FrameOptions) => [frameOf(seed, identity, { ...options, updateBg: true, newPlace: true }), frameOf(seed, identity, options)];
      return story(identity, [...scene({}), ...scene({ grid })], true);
    },
    (result) => result.frames.some(tracksPoints) && [1, 3].some((frame) => sharesSomeBackground(result, frame)),
  );
}

/** The result with every float64 replaced by its bits, so that toEqual compares bit for bit. */
export function bits(value: unknown): unknown {
  if (value instanceof Float64Array) return new BigUint64Array(value.slice().buffer);
  if (Array.isArray(value)) return value.map(bits);
  if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, bits(entry)]));
  return value;
}

