// Files for the CLI's tests without a GPU: the tiny models' headers (their tensor names and shapes,
// all weights zero: the CLI reads headers only before it opens a GPU), inputs files and story
// files; and a runner whose GPU is never there.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { noAdapter } from '../../src/engine/errors';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { clipTensorShapes, type ClipConfig } from '../../src/engine/models/clip/config';
import { fluxTensorShapes } from '../../src/engine/models/flux/config';
import { t5TensorShapes } from '../../src/engine/models/t5/config';
import { vaeTensorShapes } from '../../src/engine/models/vae/config';
import { runCli } from '../../tools/cli/main';
import { writeFileParts } from '../../tools/node-file-source';
import { TINY_CLIP } from '../../tools/tiny-models/clip';
import { TINY_STORY_FLUX, tinyFluxGguf } from '../../tools/tiny-models/flux';
import { TINY_T5 } from '../../tools/tiny-models/t5';
import { TINY_VAE } from '../../tools/tiny-models/vae';
import { CLI_STORY, TENSOR_STORY } from './input-examples';

export const { contextDim, vecDim } = TINY_STORY_FLUX;

/** An F32 tensor of `shape` filled with `value`. */
export const f32 = (name: string, shape: readonly number[], value = 0.5) => ({
  name, dtype: 'F32' as const, shape: [...shape], bytes: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value).buffer),
});

/** A model file of the given tensor names and shapes, all zeros (canonical names, F32). */
export const zeroWeights = (shapes: Map<string, readonly number[]>, metadata?: Record<string, string>) => encodeSafetensors([...shapes].map(([name, shape]) => f32(name, shape, 0)), metadata);

export const clipWeights = (config: ClipConfig = TINY_CLIP) => zeroWeights(clipTensorShapes(config), { num_attention_heads: String(config.heads) });

/** A fresh folder: path(name) of a file in it. */
export function cliFolder(): (name: string) => string {
  const dir = mkdtempSync(path.join(tmpdir(), 'characonsist-cli-'));
  return (name) => path.join(dir, name);
}

/** Writes every file the CLI tests use into the folder of `file`. */
export async function writeCliFixtures(file: (name: string) => string): Promise<void> {
  const zeros = new Map([...fluxTensorShapes(TINY_STORY_FLUX)].map(([name, shape]) => [name, { shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  await writeFileParts(file('flux.gguf'), tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, TINY_STORY_FLUX, zeros));
  await writeFileParts(file('t5.safetensors'), zeroWeights(t5TensorShapes(TINY_T5)));
  await writeFileParts(file('clip.safetensors'), clipWeights());
  await writeFileParts(file('vae.safetensors'), zeroWeights(vaeTensorShapes(TINY_VAE)));
  const common = [f32('txt', [1, 6, contextDim]), f32('y', [1, vecDim]), f32('timesteps', [1])];
  await writeFileParts(file('inputs.safetensors'), encodeSafetensors([f32('img', [1, 12, 64]), f32('noise', [1, 12, 64]), ...common]));
  await writeFileParts(file('nan.safetensors'), encodeSafetensors([f32('img', [1, 12, 64], NaN), f32('noise', [1, 12, 64], Infinity), ...common]));
  const tokens = [1, 16, contextDim];
  await writeFileParts(file('story-inputs.safetensors'), encodeSafetensors([
    f32('txt.id', tokens), f32('vec', [1, vecDim]), f32('noise', [1, 80, 64]), f32('txt.f0', tokens), f32('txt.f1', tokens), f32('noise.b', [1, 72, 64]),
  ]));
  writeFileSync(file('story.json'), JSON.stringify(CLI_STORY));
  writeFileSync(file('tensor-story.json'), JSON.stringify(TENSOR_STORY));
}

/** `npm run cli -- …argv` on a machine without a GPU: the exit status, what it printed, and whether it asked for a GPU. */
export async function cliWithoutGpu(argv: readonly string[]): Promise<{ status: number; out: string[]; err: string[]; gpuAsked: boolean }> {
  const out: string[] = [];
  const err: string[] = [];
  let gpuAsked = false;
  const status = await runCli(argv, {
    openGpu: async () => {
      gpuAsked = true;
      throw noAdapter();
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { status, out, err, gpuAsked };
}
