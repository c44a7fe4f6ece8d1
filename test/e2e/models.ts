// Tiny model files the e2e tests serve next to the built app (dist/), so the worker loads them
// over HTTP as it would load the real files. The transformer and the decoder are the cheaper
// story ones: whole stories run dozens of passes on a software adapter.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ModelSet } from '../../src/engine-api';
import { writeFileParts } from '../../tools/node-file-source';
import { tinyClipFiles } from '../../tools/tiny-models/clip';
import { tinyFluxGguf, tinyLegibleStoryTensors, TINY_STORY_FLUX } from '../../tools/tiny-models/flux';
import { tinyT5Files } from '../../tools/tiny-models/t5';
import { tinyVaeBfl, TINY_STORY_VAE } from '../../tools/tiny-models/vae';

export const E2E_MODELS_DIR = 'tiny-models';
/** the tokenizers the app ships (public/tokenizers, copied into dist/ by the build) */
export const E2E_TOKENIZERS_DIR = 'tokenizers';

export const MODEL_FILES = { transformer: 'flux.gguf', t5: 't5.gguf', clip: 'clip.safetensors', vae: 'vae.safetensors' } as const;
/**
 * The tiny story transformer whose prompt-level stories get mixed masks and matched points
 * (tinyLegibleStoryTensors; F16 like a real file's blocks, so the masks stay those of the
 * float64 search that picked test/e2e/stories.ts).
 */
export const LEGIBLE_TRANSFORMER_FILE = 'flux-legible.gguf';

export async function writeTinyModels(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const pick = (files: [string, Uint8Array[]][], name: string) => files.find(([fileName]) => fileName === name)![1];
  await writeFileParts(path.join(dir, MODEL_FILES.transformer), tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, TINY_STORY_FLUX));
  await writeFileParts(path.join(dir, MODEL_FILES.t5), pick(tinyT5Files(), 't5-tiny-q8_0.gguf'));
  await writeFileParts(path.join(dir, MODEL_FILES.clip), pick(tinyClipFiles(), 'clip-l-tiny-f16.safetensors'));
  await writeFileParts(path.join(dir, MODEL_FILES.vae), tinyVaeBfl('F16', TINY_STORY_VAE));
  await writeFileParts(path.join(dir, LEGIBLE_TRANSFORMER_FILE), tinyFluxGguf({ weights: 'F16', vectors: 'F32' }, TINY_STORY_FLUX, tinyLegibleStoryTensors()));
}

/** The engine API's ModelSet for the files served at `origin` (`transformer`: another file of the models folder). */
export function modelSet(origin: string, transformer: string = MODEL_FILES.transformer): ModelSet {
  const at = (dir: string, name: string) => ({ url: `${origin}/${dir}/${name}` });
  return {
    transformer: at(E2E_MODELS_DIR, transformer),
    t5: at(E2E_MODELS_DIR, MODEL_FILES.t5),
    clip: at(E2E_MODELS_DIR, MODEL_FILES.clip),
    vae: at(E2E_MODELS_DIR, MODEL_FILES.vae),
    tokenizers: {
      t5: { tokenizer: at(E2E_TOKENIZERS_DIR, 't5-v1_1-xxl/tokenizer.json'), config: at(E2E_TOKENIZERS_DIR, 't5-v1_1-xxl/tokenizer_config.json') },
      clip: {
        vocab: at(E2E_TOKENIZERS_DIR, 'clip-vit-large-patch14/vocab.json'),
        merges: at(E2E_TOKENIZERS_DIR, 'clip-vit-large-patch14/merges.txt'),
        config: at(E2E_TOKENIZERS_DIR, 'clip-vit-large-patch14/tokenizer_config.json'),
      },
    },
  };
}
