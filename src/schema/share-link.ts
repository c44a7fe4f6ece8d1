// A story as it leaves the app: share links, the `characonsist` text chunk of exported PNGs and
// a ZIP's story.json all carry this one document, and all are checked by this one schema when
// they come back (a link or a file can hold anything).

import * as v from 'valibot';
import { StoryDocumentSchema } from './story';
import { MODEL_COMPONENTS } from './catalog';
import { listOf, oneOf, text } from './validate';

export const SHARED_STORY_FORMAT = 'characonsist-story';
/** the shape of SharedStory; a document with a higher number is refused as too new */
export const SHARED_STORY_VERSION = 1;
/**
 * The engine's noise recipe (NOISE_VERSION in src/engine/sampling/noise.ts; a unit test keeps the
 * two equal). Same story + same RNG version + same models = the same pictures on the same kind of GPU.
 */
export const RNG_VERSION = 'philox-box-muller/1';

const hex64 = () =>
  v.pipe(
    v.string((issue) => `must be text, got ${typeof issue.input}`),
    v.regex(/^[0-9a-f]{64}$/, 'must be a sha256: 64 lowercase hexadecimal digits'),
  );

const MODEL_ID = /^[\p{L}\p{N}][\p{L}\p{N} ._:()[\]+@,-]*$/u;
const NOT_IN_MODEL_ID = /[^\p{L}\p{N} ._:()[\]+@,-]/gu;

/** A model id the schema accepts made of any name (a picked file's name may hold any character). */
export function toModelId(name: string): string {
  const id = name.replace(NOT_IN_MODEL_ID, '_').slice(0, 195);
  return MODEL_ID.test(id) ? id : `file-${id}`;
}

export const ModelRefSchema = v.strictObject({
  component: oneOf(MODEL_COMPONENTS),
  /** the catalog file's id, or `local:` and the name of a file the user picked */
  id: v.pipe(text(200), v.regex(MODEL_ID, 'must be a model id or file name (letters, digits, spaces and . _ : ( ) [ ] + @ , -)')),
  /** a readable name, for people whose catalog does not know the id */
  name: v.optional(text(120)),
  /** sha256 of the file the story was made with */
  sha256: v.optional(hex64()),
});

export const SharedStorySchema = v.strictObject({
  format: v.literal(SHARED_STORY_FORMAT, `must be "${SHARED_STORY_FORMAT}"`),
  version: v.literal(SHARED_STORY_VERSION, `must be ${SHARED_STORY_VERSION}`),
  rng: v.literal(RNG_VERSION, `must be "${RNG_VERSION}"`),
  /** version of the app that made it (package.json) */
  app: v.optional(text(40)),
  story: StoryDocumentSchema,
  models: listOf(ModelRefSchema, 0, MODEL_COMPONENTS.length, 'models'),
});

export type ModelRef = v.InferOutput<typeof ModelRefSchema>;
export type SharedStory = v.InferOutput<typeof SharedStorySchema>;
