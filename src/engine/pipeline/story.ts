// A story from prompts to pictures: compose each prompt (environment, character, action) and its
// token spans, encode them all (cached), then run CharaConsist on the transformer: the identity
// alone first, then the requested frames in batches; every finished picture is decoded (one VAE
// decoder for the whole story) and sent as soon as its pass is done, with progress, latent
// previews and masks along the way.

import type {
  PictureKey, StoryEvent, StoryFramePictureResultOf, StoryPictureResult, StoryRunResult, StoryStage, StoryUpdateCallback,
} from '../../engine-api';
import type { FrameShot, IdentityShot, StoryDocument } from '../../schema/story';
import { frameSeed } from '../../schema/story';
import { frameFlags, maskPixels } from '../characonsist/frame-outputs';
import { allPictures, planPasses, planWork, type PictureRequest } from '../characonsist/plan';
import { composeStoryPrompt } from '../characonsist/prompt';
import { runStory, type FrameResult, type IdentityResult, type StoryOptions, type StoryResult } from '../characonsist/runner';
import type { CharaConsistSchedule } from '../characonsist/schedule';
import type { StoryFrame, StoryImage, TransformerStory } from '../characonsist/story';
import { invalidInput } from '../errors';
import type { GpuRuntime } from '../gpu/runtime';
import { planFluxCheckpoint } from '../models/flux/checkpoint';
import { FluxTransformer } from '../models/flux/transformer';
import { loadFluxWeights, type FluxWeights } from '../models/flux/weights';
import { fileTensors, openModelFile } from '../models/model-file';
import { packedNoise } from '../sampling/latents';
import { gaussianNoise } from '../sampling/noise';
import { encodePrompts, type Conditioning, type ConditioningCache } from './conditioning';
import { PictureDecoder } from './decode';
import type { FluxModelFiles, Tokenizers } from './models';
import { textLengthFor, transformerConfig } from './txt2img';

/** Frames of one lockstep batch when the request does not say. */
export const DEFAULT_FRAMES_PER_BATCH = 4;
/** Steps between two latent previews when the request does not say. */
export const DEFAULT_PREVIEW_EVERY = 2;

/** The story document with its schedule preset resolved, and what to make of it (engine API's StoryRunRequest). */
export interface StoryRequest extends Omit<StoryDocument, 'schedule'> {
  schedule: CharaConsistSchedule;
  /** default: the identity and every frame */
  pictures?: { identity: boolean; frames: number[] };
  framesPerBatch?: number;
  /** steps between latent previews; 0: none */
  previewEvery?: number;
  /** 'fast': int8 activations in the transformer's matrix products (default 'exact') */
  precision?: 'exact' | 'fast';
}

export async function generateStory(
  gpu: GpuRuntime,
  files: FluxModelFiles,
  tokenizers: Tokenizers,
  cache: ConditioningCache,
  request: StoryRequest,
  onUpdate: StoryUpdateCallback = () => {},
): Promise<StoryRunResult> {
  const started = performance.now();
  const config = await transformerConfig(files);
  const maxLength = textLengthFor(config, request.maxSequenceLength);
  const shots: (IdentityShot | FrameShot)[] = [request.identity, ...request.frames];
  const prompts = shots.map((shot) => composeStoryPrompt(tokenizers.t5, { background: shot.environment, character: request.character, action: shot.action }, maxLength));
  const seeds = [request.seed, ...request.frames.map((frame) => frameSeed(request, frame))];
  const unencoded = transformerStory(request, prompts, shots.map((shot) => gridOf(shot, request)), seeds, maxLength);
  const pictures = pictureRequest(request, unencoded);
  const progress = new StoryProgressReporter(onUpdate, planWork(unencoded, planPasses(unencoded, pictures)));

  const conditioning = await encodePrompts(gpu, files, tokenizers, prompts.map((p) => p.prompt), maxLength, cache, ({ done, total }) => progress.loading('text encoders', done, total));
  const story = withConditioning(unencoded, conditioning);
  const encoded = performance.now();

  const made = new StoryPictures(gpu, files, story, prompts.map((p) => p.prompt), seeds, progress, onUpdate);
  try {
    const result = await runOnTransformer(gpu, files, story, progress, request.precision, {
      pictures,
      preview: request.previewEvery === 0 ? undefined : {
        every: request.previewEvery ?? DEFAULT_PREVIEW_EVERY,
        onPreview: ({ picture, step, rgba, rows, cols }) => onUpdate({ kind: 'preview', picture, step, steps: story.schedule.steps, rgba, width: 2 * cols, height: 2 * rows }),
      },
      onMask: ({ picture, run, mask }) => onUpdate({ kind: 'mask', picture, run, mask, ...gridOfPicture(story, picture) }),
      onIdentity: (identity) => made.identity(identity),
      onFrame: (frame, events) => made.frame(frame, events),
    });
    const sampled = performance.now();
    return {
      identity: made.identityPicture,
      frames: made.framePictures(),
      events: result.events,
      forwardPasses: result.forwardPasses,
      officialForwardPasses: result.officialForwardPasses,
      timings: { encode: encoded - started, transformer: sampled - encoded - made.decodeMs, decode: made.decodeMs },
      peakBytes: result.peakBytes,
    };
  } finally {
    await made.release();
  }
}

/** The transformer-level story before its prompts are encoded: token spans, grids and noise (text rows: `textTokens`, not yet filled). */
function transformerStory(request: StoryRequest, prompts: { bgLen: number; realLen: number }[], grids: { rows: number; cols: number }[], seeds: number[], textTokens: number): TransformerStory {
  const images = grids.map(({ rows, cols }, i): StoryImage => ({
    text: new Float32Array(0), textTokens, pooled: new Float32Array(0),
    // A picture's noise depends on its seed and size only (the official code: one noise per size).
    noise: packedNoise((count) => gaussianNoise(seeds[i], count), rows, cols),
    bgLen: prompts[i].bgLen, realLen: prompts[i].realLen, rows, cols,
  }));
  return {
    identity: images[0],
    frames: images.slice(1).map((image, k): StoryFrame => ({ ...image, updateBg: request.mode === 'scenes' && opensScene(request, k) })),
    shareBg: request.mode !== 'switch',
    useInterpolate: request.useInterpolate ?? true,
    schedule: request.schedule,
  };
}

/** The story with each picture's T5 embeddings and CLIP vector (identity first, then the frames). */
function withConditioning(story: TransformerStory, conditioning: Conditioning[]): TransformerStory {
  const encoded = <T extends StoryImage>(image: T, i: number): T => ({ ...image, text: conditioning[i].text, textTokens: conditioning[i].textTokens, pooled: conditioning[i].pooled });
  return { ...story, identity: encoded(story.identity, 0), frames: story.frames.map((frame, k) => encoded(frame, k + 1)) };
}

function pictureRequest(request: StoryRequest, story: TransformerStory): PictureRequest {
  const framesPerBatch = request.framesPerBatch ?? DEFAULT_FRAMES_PER_BATCH;
  if (!request.pictures) return allPictures(story, framesPerBatch);
  return { identity: request.pictures.identity, frames: request.pictures.frames, framesPerBatch };
}

/** Turns the runner's and the loaders' news into the API's progress updates, with the whole request's work. */
class StoryProgressReporter {
  private workDone = 0;

  constructor(private readonly onUpdate: StoryUpdateCallback, private readonly workTotal: number) {}

  loading(stage: 'text encoders' | 'transformer' | 'decoding', done: number, total: number, frames: number[] = []): void {
    this.send(stage, frames, done, total);
  }

  sampling: NonNullable<StoryOptions['onProgress']> = ({ pass, done, steps, work }) => {
    this.workDone = work.done;
    this.send(pass.stage, pass.frames, done, steps);
  };

  private send(stage: StoryStage, frames: number[], done: number, total: number): void {
    this.onUpdate({ kind: 'progress', stage, frames, done, total, work: { done: this.workDone, total: this.workTotal } });
  }
}

/** Decodes each finished picture with one decoder (loaded at the first), sends it, and keeps it for the result. */
class StoryPictures {
  identityPicture: StoryPictureResult | undefined;
  decodeMs = 0;
  private readonly frames: StoryFramePictureResultOf[] = [];
  private decoder: Promise<PictureDecoder> | undefined;

  constructor(
    private readonly gpu: GpuRuntime,
    private readonly files: FluxModelFiles,
    private readonly story: TransformerStory,
    private readonly prompts: string[],
    private readonly seeds: number[],
    private readonly progress: StoryProgressReporter,
    private readonly onUpdate: StoryUpdateCallback,
  ) {}

  async identity(result: IdentityResult): Promise<void> {
    this.identityPicture = await this.picture(0, result, []);
    this.onUpdate({ kind: 'picture', picture: 'identity', result: this.identityPicture });
  }

  /** `events`: the story's so far, which hold all of this frame's once its batch is done. */
  async frame(result: FrameResult, events: readonly StoryEvent[]): Promise<void> {
    const picture = frameResult(result, await this.picture(result.frame + 1, result, [result.frame]), events);
    this.frames.push(picture);
    this.onUpdate({ kind: 'picture', picture: { frame: result.frame }, result: picture });
  }

  framePictures(): StoryFramePictureResultOf[] {
    return [...this.frames].sort((a, b) => a.frame - b.frame);
  }

  private async picture(index: number, result: IdentityResult, frames: number[]): Promise<StoryPictureResult> {
    const image = index === 0 ? this.story.identity : this.story.frames[index - 1];
    const started = performance.now();
    this.decoder ??= PictureDecoder.load(this.gpu, this.files, (done, total) => this.progress.loading('decoding', done, total, frames));
    const decoder = await this.decoder;
    this.progress.loading('decoding', 0, 1, frames);
    const rgba = await decoder.decode(result.latents, image);
    this.decodeMs += performance.now() - started;
    const { rows, cols } = image;
    return {
      prompt: this.prompts[index], seed: this.seeds[index], width: 16 * cols, height: 16 * rows, rgba, latents: result.latents,
      mask: result.mask, maskPixels: maskPixels(result.mask, rows, cols),
    };
  }

  async release(): Promise<void> {
    const decoder = await this.decoder?.catch(() => undefined);
    decoder?.release();
  }
}

function frameResult(frame: FrameResult, picture: StoryPictureResult, events: readonly StoryEvent[]): StoryFramePictureResultOf {
  const points = Array.from(frame.matches.frameTokens, (frameToken, i) => ({
    frameToken, identityToken: frame.matches.identityTokens[i], similarity: frame.matches.bestSimilarity[frameToken],
  }));
  return { ...picture, frame: frame.frame, preMask: frame.preMask, points, flags: frameFlags(frame.frame, frame.mask, points.length, events) };
}

function gridOfPicture(story: TransformerStory, picture: PictureKey): { rows: number; cols: number } {
  const image = picture === 'identity' ? story.identity : story.frames[picture.frame];
  return { rows: image.rows, cols: image.cols };
}

function opensScene(request: StoryRequest, frame: number): boolean {
  const previous = frame === 0 ? request.identity : request.frames[frame - 1];
  return request.frames[frame].newScene ?? request.frames[frame].environment.trim() !== previous.environment.trim();
}

function gridOf(shot: IdentityShot | FrameShot, request: StoryRequest): { rows: number; cols: number } {
  const width = shot.width ?? request.width;
  const height = shot.height ?? request.height;
  if (!(width >= 16 && height >= 16 && width % 16 === 0 && height % 16 === 0)) {
    throw invalidInput(`Image size ${width}x${height} is not a multiple of 16 pixels.`, 'Choose sizes that are multiples of 16, for example 1024x1024 or 1280x720.');
  }
  return { rows: height / 16, cols: width / 16 };
}

/** Loads the transformer, runs the story on it, and frees it (also when the story stops early). */
async function runOnTransformer(
  gpu: GpuRuntime, files: FluxModelFiles, story: TransformerStory, progress: StoryProgressReporter, precision: StoryRequest['precision'], options: StoryOptions,
): Promise<StoryResult> {
  const source = await files.transformer.open();
  const file = await openModelFile(source);
  let weights: FluxWeights;
  try {
    weights = await loadFluxWeights(gpu, file, planFluxCheckpoint(source.name, fileTensors(file)), ({ loadedBytes, totalBytes }) => progress.loading('transformer', loadedBytes, totalBytes));
  } finally {
    await file.close();
  }
  try {
    const transformer = await FluxTransformer.create(gpu, weights, { precision });
    try {
      return await runStory(gpu, transformer, story, { ...options, onProgress: progress.sampling });
    } finally {
      transformer.release();
    }
  } finally {
    weights.release();
  }
}
