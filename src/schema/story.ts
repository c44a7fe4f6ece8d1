// The story document: what a person writes and what reproduces a story. One schema serves the
// studio's editor, the engine API's story request, the CLI's story JSON (prompt form), share
// links, PNG-embedded stories and the history. Types come from the schema, so the validated shape
// and the TypeScript types cannot drift.

import * as v from 'valibot';
import { flag, integerIn, listOf, nonEmptyText, oneOf } from './validate';

/** pixels per side; multiples of 16 (one latent token covers 16x16 pixels) */
export const MIN_SIDE = 16;
export const MAX_SIDE = 2048;
export const MAX_FRAMES = 32;
/** characters per text field; T5 reads at most 512 tokens anyway */
export const MAX_TEXT = 2000;
/** T5-v1.1-XXL's relative-attention encoder reads at most 512 tokens in FLUX pipelines */
export const MAX_SEQUENCE_LENGTH = 512;
export const MAX_SEED = 2 ** 32 - 1;

export const STORY_MODES = ['maintain', 'switch', 'scenes'] as const;
export const SCHEDULE_PRESETS = ['dev-50', 'schnell-4'] as const;

export const side = () =>
  v.pipe(
    integerIn(MIN_SIDE, MAX_SIDE),
    v.multipleOf(16, (issue) => `must be a multiple of 16, got ${issue.input}`),
  );

export const seed = () => integerIn(0, MAX_SEED);

const shotEntries = {
  /** where the shot takes place: the background span of the prompt */
  environment: nonEmptyText(MAX_TEXT, 'say where the picture takes place'),
  action: nonEmptyText(MAX_TEXT, 'say what the character does in this picture'),
  width: v.optional(side()),
  height: v.optional(side()),
};

export const IdentityShotSchema = v.strictObject(shotEntries);

export const FrameShotSchema = v.strictObject({
  ...shotEntries,
  /** this frame's own seed; default the story's */
  seed: v.optional(seed()),
  /** scenes mode: this frame opens a new scene (default: when its environment changes) */
  newScene: v.optional(flag()),
});

export const storyEntries = {
  mode: oneOf(STORY_MODES),
  /** the one character of the story, the same in every picture */
  character: nonEmptyText(MAX_TEXT, 'describe the character'),
  identity: IdentityShotSchema,
  frames: listOf(FrameShotSchema, 1, MAX_FRAMES, 'frames'),
  width: side(),
  height: side(),
  seed: seed(),
  /** token merge (official use_interpolate), default on */
  useInterpolate: v.optional(flag()),
  /** T5 tokens per prompt; default 512 (dev) or 256 (schnell) */
  maxSequenceLength: v.optional(integerIn(1, MAX_SEQUENCE_LENGTH)),
};

export const StoryDocumentSchema = v.strictObject({
  ...storyEntries,
  schedule: oneOf(SCHEDULE_PRESETS),
});

export type IdentityShot = v.InferOutput<typeof IdentityShotSchema>;
export type FrameShot = v.InferOutput<typeof FrameShotSchema>;
export type StoryDocument = v.InferOutput<typeof StoryDocumentSchema>;
export type StoryMode = StoryDocument['mode'];
export type SchedulePreset = StoryDocument['schedule'];

/** The seed a frame starts from: its own, else the story's (the official code: one noise per size). */
export const frameSeed = (story: Pick<StoryDocument, 'seed'>, frame: Pick<FrameShot, 'seed'>) => frame.seed ?? story.seed;
