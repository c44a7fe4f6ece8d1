// The engine API's requests (src/engine-api.ts), validated inside the worker at the top of every
// public method: a page, a share link or another script can send anything. The types of the API
// come from these schemas, so what is checked and what is declared cannot drift.

import * as v from 'valibot';
import { MAX_FRAMES, MAX_SEQUENCE_LENGTH, MAX_TEXT, seed, side, StoryDocumentSchema } from './story';
import { flag, integerIn, listOf, nonEmptyText, numberIn, oneOf, text, webAddress } from './validate';

/** FLUX needs 4 (schnell) to 50 (dev) steps; more is never useful and would run for hours. */
export const MAX_STEPS = 1000;
/** FLUX.1-dev's distilled guidance is used at 1..10; larger values are refused as typos. */
export const MAX_GUIDANCE = 100;
/** elements per self-check vector */
export const SELF_CHECK_MAX_LENGTH = 1 << 24;
/** texts per countTokens call: every field of a story of MAX_FRAMES frames, with room to spare */
export const MAX_COUNTED_TEXTS = 256;
/** characters of a URL or file name */
const MAX_ADDRESS = 2000;
const MAX_FILE_NAME = 255;

const NOT_A_SOURCE = 'must be {url}, {file, name} or {stored}: where to read the model file';

export const UrlSourceSchema = v.strictObject({ url: webAddress(MAX_ADDRESS) });
export const FileSourceSchema = v.strictObject({
  file: v.blob((issue) => `must be a file the user picked (a Blob), got ${typeof issue.input}`),
  name: nonEmptyText(MAX_FILE_NAME, 'give the file name'),
});
/** a file already in the browser's storage, by the model catalog's file id */
export const StoredSourceSchema = v.strictObject({ stored: nonEmptyText(MAX_ADDRESS, "give the catalog's id of the stored file") });

/** Where a model or tokenizer file comes from; the key present decides which form is checked. */
export const ModelSourceSchema = v.lazy((input) => {
  if (typeof input !== 'object' || input === null) return v.custom<never>(() => false, NOT_A_SOURCE);
  if (Object.hasOwn(input, 'url')) return UrlSourceSchema;
  if (Object.hasOwn(input, 'file')) return FileSourceSchema;
  if (Object.hasOwn(input, 'stored')) return StoredSourceSchema;
  return v.custom<never>(() => false, NOT_A_SOURCE);
});

export const TokenizerFilesSchema = v.strictObject({
  /** tokenizer.json and tokenizer_config.json of FLUX's tokenizer_2 */
  t5: v.strictObject({ tokenizer: ModelSourceSchema, config: ModelSourceSchema }),
  /** vocab.json, merges.txt and tokenizer_config.json of FLUX's tokenizer (CLIP) */
  clip: v.strictObject({ vocab: ModelSourceSchema, merges: ModelSourceSchema, config: ModelSourceSchema }),
});

export const ModelSetSchema = v.strictObject({
  /** FLUX.1 transformer: GGUF (city96) or safetensors */
  transformer: ModelSourceSchema,
  /** T5-v1.1-XXL encoder GGUF (F16, Q8_0) or safetensors */
  t5: ModelSourceSchema,
  /** CLIP-L text encoder safetensors */
  clip: ModelSourceSchema,
  /** FLUX autoencoder (ae.safetensors) */
  vae: ModelSourceSchema,
  tokenizers: TokenizerFilesSchema,
});

export const steps = () => integerIn(1, MAX_STEPS);
export const guidance = () => numberIn(0, MAX_GUIDANCE);
export const maxSequenceLength = () => integerIn(1, MAX_SEQUENCE_LENGTH);
/**
 * 'exact' (default): f32 activations everywhere. 'fast': FLUX's block linear layers with Q4_0/Q8_0
 * weights take int8 activations where the GPU has int8 dot products (README "Benchmarks").
 */
export const precision = () => v.optional(oneOf(['exact', 'fast']));

/** One picture from a prompt: what the user sets (the same in the app, the engine and the CLI). */
export const imageSettingsEntries = {
  prompt: nonEmptyText(MAX_TEXT, 'describe the picture'),
  /** pixels, multiples of 16 */
  width: side(),
  height: side(),
  steps: steps(),
  seed: seed(),
  guidance: v.optional(guidance()),
  /** T5 tokens; default 512 (dev) or 256 (schnell). Shorter prompts run faster with a shorter one. */
  maxSequenceLength: v.optional(maxSequenceLength()),
  precision: precision(),
};

export const ImageSettingsSchema = v.strictObject(imageSettingsEntries);

export const ImageRequestSchema = v.strictObject({ ...imageSettingsEntries, models: ModelSetSchema });

const frameIndex = () => integerIn(0, MAX_FRAMES - 1);

/**
 * A CharaConsist story (the story document: src/schema/story.ts) and what to make of it.
 * `pictures.frames` must name frames of the story, each once.
 */
export const StoryRunRequestSchema = v.pipe(
  v.strictObject({
    ...StoryDocumentSchema.entries,
    models: ModelSetSchema,
    /**
     * Which pictures to make; default the identity and every frame. A frame whose background comes
     * from a scene's first frame brings that frame into the run (recomputed, not returned). A
     * frame's pixels depend only on its own settings, the identity's and its scene source's, never
     * on which other frames run with it.
     */
    pictures: v.optional(v.strictObject({ identity: flag(), frames: listOf(frameIndex(), 0, MAX_FRAMES, 'frame indices') })),
    /** frames generated together in one lockstep batch; default 4 (see DEFAULT_FRAMES_PER_BATCH) */
    framesPerBatch: v.optional(integerIn(1, MAX_FRAMES)),
    /** a live preview of the latents every this many steps (0: none); default 2 */
    previewEvery: v.optional(integerIn(0, MAX_STEPS)),
    precision: precision(),
  }),
  v.forward(
    v.check(
      ({ pictures, frames }) => !pictures || pictures.frames.every((index) => index < frames.length),
      ({ input }) => `must be frame numbers from 0 to ${input.frames.length - 1} (the story's frames), got ${input.pictures!.frames.join(', ')}`,
    ),
    ['pictures', 'frames'],
  ),
  v.forward(
    v.check(({ pictures }) => !pictures || new Set(pictures.frames).size === pictures.frames.length, 'names a frame more than once'),
    ['pictures', 'frames'],
  ),
  v.forward(
    v.check(({ pictures }) => !pictures || pictures.identity || pictures.frames.length > 0, 'asks for no picture: set identity, or list frames'),
    ['pictures'],
  ),
);

export const SelfCheckRequestSchema = v.strictObject({
  /** Number of elements per input vector (awkward sizes welcome). */
  length: integerIn(1, SELF_CHECK_MAX_LENGTH),
  /** Seed of the inputs, so a caller can regenerate or audit them. */
  seed: seed(),
});

/** countTokens' arguments, checked as one object. */
export const TokenCountRequestSchema = v.strictObject({
  tokenizers: TokenizerFilesSchema,
  texts: listOf(text(MAX_TEXT), 0, MAX_COUNTED_TEXTS, 'texts'),
});

/** A model or tokenizer file: on a web server (read with Range requests), picked by the user, or stored. */
export type ModelSource = v.InferOutput<typeof ModelSourceSchema>;
export type ModelSet = v.InferOutput<typeof ModelSetSchema>;
export type ImageSettings = v.InferOutput<typeof ImageSettingsSchema>;
export type ImageRequest = v.InferOutput<typeof ImageRequestSchema>;
export type StoryRunRequest = v.InferOutput<typeof StoryRunRequestSchema>;
export type SelfCheckRequest = v.InferOutput<typeof SelfCheckRequestSchema>;
