// Text to image: prompt -> T5 + CLIP -> FLUX sampling -> VAE -> RGBA pixels, loading the models in
// stages so peak GPU memory stays near the transformer's alone (DESIGN.md "Models").

import type { ImageSettings } from '../../engine-api';
import { invalidInput } from '../errors';
import type { GpuRuntime } from '../gpu/runtime';
import { FluxSample, FluxScratch, tokensOf } from '../models/flux/activations';
import { planFluxCheckpoint } from '../models/flux/checkpoint';
import type { FluxConfig } from '../models/flux/config';
import { loadFluxWeights } from '../models/flux/weights';
import { sampleFlux } from '../models/flux/sampler';
import { FluxTransformer } from '../models/flux/transformer';
import { fileTensors, openModelFile } from '../models/model-file';
import { packedNoise } from '../sampling/latents';
import { gaussianNoise } from '../sampling/noise';
import { fluxSchedule } from '../sampling/schedule';
import { T5_MAX_LENGTH } from '../text/t5-tokenizer';
import { encodePrompts, type Conditioning, type ConditioningCache } from './conditioning';
import { PictureDecoder } from './decode';
import type { FluxModelFiles, ProgressListener, Tokenizers } from './models';

export interface Txt2ImgRequest extends ImageSettings {
  /** FLUX dynamic timestep shift; default on for dev, off for schnell */
  shift?: boolean;
}

export interface Txt2ImgResult {
  /** RGBA8, row-major [height, width, 4] */
  rgba: Uint8Array;
  width: number;
  height: number;
  conditioning: Conditioning;
  /** the latents after every step (index 0 = the noise), packed [rows * cols, 64] */
  latents: Float32Array[];
}

/** Reads only the transformer file's header: its config decides T5's padded length. */
export async function transformerConfig(files: Pick<FluxModelFiles, 'transformer'>): Promise<FluxConfig> {
  const source = await files.transformer.open();
  const file = await openModelFile(source);
  try {
    return planFluxCheckpoint(source.name, fileTensors(file)).config;
  } finally {
    await file.close();
  }
}

/**
 * T5's padded length: by default 512 for dev (guidance embedder), 256 for schnell, as BFL runs
 * them. Like diffusers' max_sequence_length, a shorter one may be asked for: every transformer
 * pass gets cheaper, and the model sees a shorter padding than it was trained with.
 */
export function textLengthFor(config: FluxConfig, requested?: number): number {
  const longest = config.guidance ? T5_MAX_LENGTH.dev : T5_MAX_LENGTH.schnell;
  if (requested === undefined) return longest;
  if (!(Number.isInteger(requested) && requested >= 2 && requested <= longest)) {
    throw invalidInput(`A text length of ${requested} tokens is not possible for this model.`, `Choose a whole number of tokens from 2 to ${longest}, or leave it out for ${longest}.`);
  }
  return requested;
}

export async function txt2img(
  gpu: GpuRuntime,
  files: FluxModelFiles,
  tokenizers: Tokenizers,
  cache: ConditioningCache,
  request: Txt2ImgRequest,
  onProgress?: ProgressListener,
): Promise<Txt2ImgResult> {
  checkRequest(request);
  const config = await transformerConfig(files);
  const [conditioning] = await encodePrompts(gpu, files, tokenizers, [request.prompt], textLengthFor(config, request.maxSequenceLength), cache, onProgress);
  const grid = { rows: request.height / 16, cols: request.width / 16 };
  const noise = packedNoise((count) => gaussianNoise(request.seed, count), grid.rows, grid.cols);
  const latents = await sample(gpu, files, config, conditioning, noise, request, onProgress);
  const rgba = await decode(gpu, files, latents[latents.length - 1], grid, onProgress);
  return { rgba, width: request.width, height: request.height, conditioning, latents };
}

async function sample(
  gpu: GpuRuntime,
  files: FluxModelFiles,
  config: FluxConfig,
  conditioning: Conditioning,
  noise: Float32Array,
  request: Txt2ImgRequest,
  onProgress?: ProgressListener,
): Promise<Float32Array[]> {
  const source = await files.transformer.open();
  const file = await openModelFile(source);
  const weights = await loadFluxWeights(gpu, file, planFluxCheckpoint(source.name, fileTensors(file)), ({ loadedBytes, totalBytes }) =>
    onProgress?.({ stage: 'transformer', done: loadedBytes, total: totalBytes }),
  );
  await file.close();
  const shape = { textTokens: conditioning.textTokens, rows: request.height / 16, cols: request.width / 16 };
  const scratch = await FluxScratch.create(gpu, config, tokensOf(shape));
  const sample = await FluxSample.create(gpu, config, 'image', shape, conditioning.text, conditioning.pooled);
  const transformer = await FluxTransformer.create(gpu, weights, { precision: request.precision });
  try {
    gpu.memory.upload(sample.currentLatents.buffer, noise);
    const latents = [noise];
    const schedule = fluxSchedule(request.steps, shape.rows * shape.cols, request.shift ?? config.guidance);
    await sampleFlux(gpu, transformer, sample, scratch, {
      schedule,
      guidance: request.guidance ?? 3.5,
      keepLatents: true,
      onStep: (step, values) => {
        latents.push(values!);
        onProgress?.({ stage: 'sampling', done: step, total: request.steps });
      },
    });
    return latents;
  } finally {
    transformer.release();
    sample.release();
    scratch.release();
    weights.release();
  }
}

/** Packed latents [rows * cols, 64] -> RGBA8 [16 rows, 16 cols, 4] through the VAE decoder, loaded for this one picture. */
export async function decode(gpu: GpuRuntime, files: Pick<FluxModelFiles, 'vae'>, latents: Float32Array, grid: { rows: number; cols: number }, onProgress?: ProgressListener): Promise<Uint8Array> {
  const decoder = await PictureDecoder.load(gpu, files, (done, total) => onProgress?.({ stage: 'vae', done, total }));
  try {
    onProgress?.({ stage: 'decoding', done: 0, total: 1 });
    return await decoder.decode(latents, grid);
  } finally {
    decoder.release();
  }
}

function checkRequest(request: Txt2ImgRequest): void {
  const { width, height, steps, prompt } = request;
  if (!prompt.trim()) throw invalidInput('The prompt is empty.', 'Describe the image in a few words.');
  if (!(width >= 16 && height >= 16 && width % 16 === 0 && height % 16 === 0)) {
    throw invalidInput(`Image size ${width}x${height} is not a multiple of 16 pixels.`, 'Choose a width and height that are multiples of 16, for example 512 or 1024.');
  }
  if (!(Number.isInteger(steps) && steps >= 1)) throw invalidInput(`${steps} is not a number of steps.`, 'Choose at least 1 step (4 for schnell, 28 to 50 for dev).');
}
