// How a story is run: these change speed and feedback, never the pixels, so they are not part of
// the story document (and not in share links or the history's settings).

import * as v from 'valibot';
import { MAX_FRAMES } from '../../schema/story';
import { integerIn } from '../../schema/validate';

/** steps between live previews, at most (the longest schedule has 50 steps) */
const MAX_PREVIEW_EVERY = 50;

export const RunOptionsSchema = v.strictObject({
  /** frames made together in one lockstep batch; undefined: as many as fit (the engine's choice) */
  framesPerBatch: v.optional(integerIn(1, MAX_FRAMES)),
  /** a live preview every this many steps; 0: none */
  previewEvery: integerIn(0, MAX_PREVIEW_EVERY),
});

export type RunOptions = v.InferOutput<typeof RunOptionsSchema>;

export const DEFAULT_RUN: RunOptions = { previewEvery: 2 };
