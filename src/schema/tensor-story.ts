// The story JSON of `npm run cli -- story --weights W --inputs IN` (README "The story JSON",
// tensor form): CharaConsist on given conditioning and noise, for comparisons with another
// implementation. Names are snake_case as in the official code; every tensor is named by its key
// in the inputs file. Shapes are checked against the tensors once the file is open (tools/cli/story.ts).

import * as v from 'valibot';
import { ScheduleChoiceSchema } from './cli-story';
import { MAX_FRAMES, MAX_SEQUENCE_LENGTH, MAX_SIDE } from './story';
import { flag, integerIn, listOf, nonEmptyText } from './validate';

const tensorName = () => nonEmptyText(200, 'name a tensor of the inputs file');
/** T5 tokens, without EOS */
const tokenCount = () => integerIn(0, MAX_SEQUENCE_LENGTH);
/** image tokens per side (16x16 pixels each) */
const gridSide = () => integerIn(1, MAX_SIDE / 16);

const spanEntries = {
  /** [1, Lt, ctx] T5 embeddings */
  txt: tensorName(),
  /** text tokens [0, bg_len) are the background */
  bg_len: tokenCount(),
  /** text tokens [bg_len, real_len) are the foreground */
  real_len: tokenCount(),
};

const spansInOrder = <T extends { bg_len: number; real_len: number }>() =>
  v.forward<T, v.CheckIssue<T>, ['bg_len']>(
    v.check(({ bg_len, real_len }) => bg_len <= real_len, ({ input }) => `must not exceed real_len (${input.real_len}), got ${input.bg_len}`),
    // TypeScript cannot resolve valibot's path check for a generic T; 'bg_len' is in T by its bound.
    ['bg_len'] as never,
  );

export const TensorIdentitySchema = v.pipe(
  v.strictObject({
    ...spanEntries,
    /** [1, vec] CLIP pooled */
    vec: tensorName(),
    /** [1, rows * cols, 64] */
    noise: tensorName(),
    rows: gridSide(),
    cols: gridSide(),
  }),
  spansInOrder(),
);

/** A frame; vec, noise, rows and cols default to the identity's. */
export const TensorFrameSchema = v.pipe(
  v.strictObject({
    ...spanEntries,
    vec: v.optional(tensorName()),
    noise: v.optional(tensorName()),
    rows: v.optional(gridSide()),
    cols: v.optional(gridSide()),
    /** a scene's first frame: the background source of the frames after it */
    update_bg: v.optional(flag()),
  }),
  spansInOrder(),
);

export const TensorStorySchema = v.strictObject({
  /** default dev-50 */
  schedule: v.optional(ScheduleChoiceSchema, 'dev-50'),
  share_bg: flag(),
  use_interpolate: flag(),
  identity: TensorIdentitySchema,
  frames: listOf(TensorFrameSchema, 1, MAX_FRAMES, 'frames'),
});

export type TensorIdentity = v.InferOutput<typeof TensorIdentitySchema>;
export type TensorFrame = v.InferOutput<typeof TensorFrameSchema>;
export type TensorStory = v.InferOutput<typeof TensorStorySchema>;
