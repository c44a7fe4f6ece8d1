// Valid inputs of every format this project reads (README "Input formats"), written out by hand
// from the README and the engine API: the schema tests change one field of them at a time, the
// fuzz suite mutates them at random.

import type { StoryDocument } from '../../src/schema/story';

export const STORY: StoryDocument = {
  mode: 'maintain',
  character: 'a young woman with short red hair, a green raincoat and a leather satchel',
  identity: { environment: 'In a quiet harbour town at dawn,', action: 'is standing on the pier.' },
  frames: [
    { environment: 'In a quiet harbour town at dawn,', action: 'is buying bread at a market stall.' },
    { environment: 'On a mountain road at noon,', action: 'is riding a bicycle.', width: 1280, height: 720, newScene: true, seed: 7 },
  ],
  width: 1024,
  height: 1024,
  seed: 2025,
  schedule: 'dev-50',
};

export const SCENES_STORY: StoryDocument = {
  ...STORY,
  mode: 'scenes',
  schedule: 'schnell-4',
  useInterpolate: false,
  maxSequenceLength: 256,
  frames: [...STORY.frames, { environment: 'In a library at night,', action: 'reads a map.', seed: 2 ** 32 - 1 }],
};

/** The README's explicit schedule: dev-50's official step indices. */
export const SCHEDULE_OBJECT = { steps: 50, mask_step: 10, attn: [1, 41], interp: [1, 11, 31], interp_weight: 0.8, sim_thr: 0.5, shift: true, guidance: 3.5 };

/** The prompt-form story file of `npm run cli -- story` (README "The story JSON"). */
export const CLI_STORY = { ...STORY, schedule: SCHEDULE_OBJECT };

/** The tensor-form story file (README "The story JSON", tensor form). */
export const TENSOR_STORY = {
  schedule: SCHEDULE_OBJECT,
  share_bg: true,
  use_interpolate: true,
  identity: { txt: 'txt.id', vec: 'vec', noise: 'noise', bg_len: 4, real_len: 12, rows: 8, cols: 10 },
  frames: [
    { txt: 'txt.f0', bg_len: 4, real_len: 12 },
    { txt: 'txt.f1', bg_len: 4, real_len: 13, noise: 'noise.b', rows: 6, cols: 12, update_bg: false },
  ],
};

const url = (name: string) => ({ url: `models/${name}` });

export const MODELS = {
  // Loopback's discard port: a test that got as far as fetching it would be refused at once, never reach the internet.
  transformer: { url: 'http://127.0.0.1:9/city96/FLUX.1-dev-gguf/flux1-dev-Q4_0.gguf' },
  t5: { file: new Blob([new Uint8Array(16)]), name: 't5-v1_1-xxl-encoder-Q8_0.gguf' },
  clip: { stored: 'clip-l-f16' },
  vae: url('ae.safetensors'),
  tokenizers: {
    t5: { tokenizer: url('t5/tokenizer.json'), config: url('t5/tokenizer_config.json') },
    clip: { vocab: url('clip/vocab.json'), merges: url('clip/merges.txt'), config: url('clip/tokenizer_config.json') },
  },
};

export const IMAGE_REQUEST = { prompt: 'a red fox in the snow', width: 1024, height: 768, steps: 28, seed: 1, guidance: 3.5, maxSequenceLength: 512, models: MODELS };

export const STORY_REQUEST = { ...STORY, models: MODELS, pictures: { identity: false, frames: [1] }, framesPerBatch: 2, previewEvery: 0 };

export const SELF_CHECK_REQUEST = { length: 1000, seed: 7 };

export const TOKEN_COUNT_REQUEST = { tokenizers: MODELS.tokenizers, texts: [STORY.character, STORY.identity.action, ''] };
