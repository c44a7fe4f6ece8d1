// A story from prompts to pictures: compose each prompt (environment, character, action) and its
// token spans, encode them all (cached), run CharaConsist on the transformer, then decode every
// image; plus, per frame, the foreground mask and the matched points the UI shows.

import type { FrameFlags } from '../../engine-api';
import { frameFlags, maskPixels } from '../characonsist/frame-outputs';
import { composeStoryPrompt } from '../characonsist/prompt';
import { runStory, type StoryResult } from '../characonsist/runner';
import type { CharaConsistSchedule } from '../characonsist/schedule';
import type { StoryEvent, StoryFrame, StoryImage, TransformerStory } from '../characonsist/story';
import { invalidInput } from '../errors';
import type { GpuRuntime } from '../gpu/runtime';
import { planFluxCheckpoint } from '../models/flux/checkpoint';
import { FluxTransformer } from '../models/flux/transformer';
import { loadFluxWeights } from '../models/flux/weights';
import { fileTensors, openModelFile } from '../models/model-file';
import { packedNoise } from '../sampling/latents';
import { gaussianNoise } from '../sampling/noise';
import { encodePrompts, type ConditioningCache } from './conditioning';
import type { FluxModelFiles, ProgressListener, Tokenizers } from './models';
import { decode, textLengthFor, transformerConfig } from './txt2img';

export type StoryMode = 'maintain' | 'switch' | 'scenes';

export interface StoryShot {
  environment: string;
  action: string;
  /** pixels, multiples of 16; default the story's size */
  width?: number;
  height?: number;
}

export interface StoryFrameRequest extends StoryShot {
  /**
   * scenes mode: this frame opens a new scene and becomes the background source of the frames
   * after it; default: when its environment differs from the previous shot's. Frames before the
   * first new scene share the identity's background.
   */
  newScene?: boolean;
}

export interface StoryRequest {
  mode: StoryMode;
  character: string;
  identity: StoryShot;
  frames: StoryFrameRequest[];
  width: number;
  height: number;
  seed: number;
  schedule: CharaConsistSchedule;
  useInterpolate?: boolean;
  /** T5 tokens per prompt; default the model's (see textLengthFor) */
  maxSequenceLength?: number;
}

export interface StoryPicture {
  prompt: string;
  width: number;
  height: number;
  /** RGBA8 [height, width, 4] */
  rgba: Uint8Array;
  /** packed final latents [rows * cols, 64] */
  latents: Float32Array;
  /** foreground mask on the token grid [rows * cols] (one token = 16x16 pixels) */
  mask: Uint8Array;
  /** the mask at pixel resolution [height * width] */
  maskPixels: Uint8Array;
}

export interface MatchedPoint {
  /** frame token and identity token, row-major on their grids */
  frameToken: number;
  identityToken: number;
  similarity: number;
}

export interface StoryFrameResult extends StoryPicture {
  preMask: Uint8Array;
  /** the valid point matches of the full run (what point tracking and the merge used) */
  points: MatchedPoint[];
  flags: FrameFlags;
}

export interface StoryOutcome {
  identity: StoryPicture;
  frames: StoryFrameResult[];
  events: StoryEvent[];
  forwardPasses: number;
  officialForwardPasses: number;
  /** wall time per stage, ms */
  timings: { encode: number; transformer: number; decode: number };
  peakBytes: number;
}

export async function generateStory(
  gpu: GpuRuntime,
  files: FluxModelFiles,
  tokenizers: Tokenizers,
  cache: ConditioningCache,
  request: StoryRequest,
  onProgress?: ProgressListener,
): Promise<StoryOutcome> {
  const started = performance.now();
  const config = await transformerConfig(files);
  const maxLength = textLengthFor(config, request.maxSequenceLength);
  const shots = [request.identity, ...request.frames].map((shot) => ({
    shot,
    prompt: composeStoryPrompt(tokenizers.t5, { background: shot.environment, character: request.character, action: shot.action }, maxLength),
  }));
  const conditioning = await encodePrompts(gpu, files, tokenizers, shots.map((s) => s.prompt.prompt), maxLength, cache, onProgress);
  const encoded = performance.now();
  const images = shots.map(({ shot, prompt }, i): StoryImage => {
    const { rows, cols } = gridOf(shot, request);
    return {
      text: conditioning[i].text, textTokens: conditioning[i].textTokens, pooled: conditioning[i].pooled,
      // One seed for all, as the official code: images of one size start from the same noise.
      noise: packedNoise((count) => gaussianNoise(request.seed, count), rows, cols),
      bgLen: prompt.bgLen, realLen: prompt.realLen, rows, cols,
    };
  });
  const story: TransformerStory = {
    identity: images[0],
    frames: images.slice(1).map((image, k): StoryFrame => ({ ...image, updateBg: request.mode === 'scenes' && opensScene(request, k) })),
    shareBg: request.mode !== 'switch',
    useInterpolate: request.useInterpolate ?? true,
    schedule: request.schedule,
  };
  const result = await runOnTransformer(gpu, files, story, onProgress);
  const sampled = performance.now();
  const picture = async (index: number, latents: Float32Array, mask: Uint8Array): Promise<StoryPicture> => {
    const { rows, cols } = images[index];
    const rgba = await decode(gpu, files, latents, { rows, cols }, onProgress);
    return { prompt: shots[index].prompt.prompt, width: 16 * cols, height: 16 * rows, rgba, latents, mask, maskPixels: maskPixels(mask, rows, cols) };
  };
  const identity = await picture(0, result.identity.latents, result.identity.mask);
  const frames: StoryFrameResult[] = [];
  for (const [k, frame] of result.frames.entries()) {
    const points = Array.from(frame.matches.frameTokens, (frameToken, i) => ({
      frameToken, identityToken: frame.matches.identityTokens[i], similarity: frame.matches.bestSimilarity[frameToken],
    }));
    const flags = frameFlags(k, frame.mask, points.length, result.events);
    frames.push({ ...(await picture(k + 1, frame.latents, frame.mask)), preMask: frame.preMask, points, flags });
  }
  return {
    identity, frames, events: result.events, forwardPasses: result.forwardPasses, officialForwardPasses: result.officialForwardPasses,
    timings: { encode: encoded - started, transformer: sampled - encoded, decode: performance.now() - sampled }, peakBytes: result.peakBytes,
  };
}

function opensScene(request: StoryRequest, frame: number): boolean {
  const previous = frame === 0 ? request.identity : request.frames[frame - 1];
  return request.frames[frame].newScene ?? request.frames[frame].environment.trim() !== previous.environment.trim();
}

function gridOf(shot: StoryShot, request: StoryRequest): { rows: number; cols: number } {
  const width = shot.width ?? request.width;
  const height = shot.height ?? request.height;
  if (!(width >= 16 && height >= 16 && width % 16 === 0 && height % 16 === 0)) {
    throw invalidInput(`Image size ${width}x${height} is not a multiple of 16 pixels.`, 'Choose sizes that are multiples of 16, for example 1024x1024 or 1280x720.');
  }
  return { rows: height / 16, cols: width / 16 };
}

async function runOnTransformer(gpu: GpuRuntime, files: FluxModelFiles, story: TransformerStory, onProgress?: ProgressListener): Promise<StoryResult> {
  const source = await files.transformer.open();
  const file = await openModelFile(source);
  const weights = await loadFluxWeights(gpu, file, planFluxCheckpoint(source.name, fileTensors(file)), ({ loadedBytes, totalBytes }) =>
    onProgress?.({ stage: 'transformer', done: loadedBytes, total: totalBytes }),
  );
  await file.close();
  try {
    const transformer = await FluxTransformer.create(gpu, weights);
    return await runStory(gpu, transformer, story, {
      onProgress: ({ pass, passes, step, steps }) => onProgress?.({ stage: 'sampling', done: pass * steps + step, total: passes * steps }),
    });
  } finally {
    weights.release();
  }
}
