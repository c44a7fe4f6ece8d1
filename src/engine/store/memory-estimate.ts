// GPU memory a generation needs, before anything is downloaded or allocated: the sizes the engine
// allocates, computed from the model configs, the weights as repacked on the GPU, and the image
// sizes. The pipeline loads in stages (DESIGN.md "Models"): the text encoders (T5, then CLIP,
// each freed after use), the transformer with its activations (and, for a story, CharaConsist's
// per-pass tracks, extra keys and identity stashes; the VAE decoder joins it as soon as the first
// picture is decoded), then the VAE decode. The peak is the largest stage. A gpu-project test
// (test/gpu/memory-estimate.test.ts) holds this against gpu.memory.peakBytes of real runs, so it
// cannot drift from the engine.

import { allPictures, planPasses, type PlannedTrack } from '../characonsist/plan';
import type { TransformerStory } from '../characonsist/story';
import { PRESETS } from '../characonsist/schedule';
import type { GpuLimitsReport } from '../../engine-api';
import { mlpChunkRowsFor } from '../models/flux/activations';
import { TIME_EMBED_DIM, type FluxConfig } from '../models/flux/config';
import type { ClipConfig } from '../models/clip/config';
import type { T5Config } from '../models/t5/config';
import { decoderLayout, type VaeDecoderConfig } from '../models/vae/config';
import { DEFAULT_MAX_PART_BYTES } from '../models/vae/decoder';
import { AttentionOp, positionBiasColumns } from '../ops/attention';
import { LatentPreviewOp } from '../ops/latent-preview';
import { isLinearWeightType, weightLayout } from '../ops/weights';
import { CLIP_MAX_LENGTH } from '../text/clip-tokenizer';
import type { PlacedTensor } from './header-check';

const F32 = 4;
/** pixels per side of one latent token */
const TOKEN_PIXELS = 16;
/**
 * Buffers no model accounts for: uniform-parameter chunks the runtime keeps (64 KiB each, a few
 * live at once), op scratch (GroupNorm partials, reductions) and readback staging of small results.
 */
export const RUNTIME_OVERHEAD_BYTES = 512 * 1024;

/** The device limits that shape allocations: MLP chunks and VAE row parts follow the binding size. */
export type Limits = Pick<GpuLimitsReport, 'maxStorageBufferBindingSize' | 'maxBufferSize'>;

/** What the estimate needs of each model: its config and its weights' bytes on the GPU. */
export interface ModelSizes {
  transformer: { config: FluxConfig; weightBytes: number };
  t5: { config: T5Config; weightBytes: number };
  clip: { config: ClipConfig; weightBytes: number };
  vae: { config: VaeDecoderConfig; weightBytes: number };
}

export interface MemoryEstimate {
  /** peak bytes of each stage */
  stages: { encoders: number; transformer: number; vae: number };
  /** the largest stage */
  peak: number;
  /** the largest single buffer (bound whole to one kernel: must fit a storage binding) */
  largestBuffer: number;
}

/** An image of the story: pixels; frames may open a scene (its first frame is a background source). */
export interface ImageSize {
  width: number;
  height: number;
}

export interface StoryShape {
  identity: ImageSize;
  frames: (ImageSize & { opensScene?: boolean })[];
  mode: 'maintain' | 'switch' | 'scenes';
  schedule: 'dev-50' | 'schnell-4';
  /** T5 tokens per prompt */
  textTokens: number;
  framesPerBatch: number;
}

/** GPU bytes of a model's tensors as the loaders place them (GpuWeights in their type, f32 vectors). */
export function gpuWeightBytes(tensors: readonly PlacedTensor[]): number {
  return tensors.reduce((sum, tensor) => {
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (tensor.placement === 'host') return sum;
    if (tensor.placement === 'vector' || !isLinearWeightType(tensor.type)) return sum + F32 * elements;
    return sum + F32 * weightLayout(tensor.type, tensor.shape[0], elements / tensor.shape[0]).totalWords;
  }, 0);
}

/** One picture from a prompt (txt2img). */
export function estimateImage(models: ModelSizes, image: ImageSize, textTokens: number, limits: Limits): MemoryEstimate {
  const grid = gridOf(image);
  const { transformer } = models;
  const tokens = textTokens + grid.rows * grid.cols;
  const activations = scratchBytes(transformer.config, tokens, limits) + sampleBytes(transformer.config, textTokens, grid) + latentsReadback(grid);
  const stages = { encoders: encoderStage(models, textTokens), transformer: transformer.weightBytes + activations, vae: vaeStage(models.vae, grid, limits) };
  return finish(stages, [largestFluxBuffer(transformer.config, tokens), largestEncoderBuffer(models, textTokens), largestVaeBuffer(models.vae.config, grid)]);
}

/** A CharaConsist story: the plan's passes decide which tracks live together. */
export function estimateStory(models: ModelSizes, story: StoryShape, limits: Limits): MemoryEstimate {
  const { config, weightBytes } = models.transformer;
  const plan = planShape(story);
  const passes = planPasses(plan, { ...allPictures(plan), framesPerBatch: story.framesPerBatch });
  const images = [plan.identity, ...plan.frames];
  const tokens = Math.max(...images.map((image) => image.textTokens + image.rows * image.cols));
  const imageTokens = images.map((image) => image.rows * image.cols);
  const producers = [plan.identity, ...plan.frames.filter((frame) => frame.updateBg)];
  const extraBuffer = F32 * 2 * Math.max(...imageTokens) * config.hidden; // extra keys or values: up to 2N rows (spec §17.1)
  const runner =
    2 * extraBuffer +
    producers.reduce((sum, image) => sum + 3 * F32 * image.rows * image.cols * config.hidden, 0) + // identity and scene-source stashes
    scratchBytes(config, tokens, limits);
  const tracks = Math.max(...passes.map((pass) => pass.tracks.reduce((sum, planned) => sum + trackBytes(config, plan, planned), 0)));
  // The decoder loads with the first picture and stays for the story; a picture is decoded while its pass's tracks still exist.
  const largestGrid = images.reduce((best, image) => (image.rows * image.cols > best.rows * best.cols ? image : best));
  const transformerStage = weightBytes + runner + tracks + vaeStage(models.vae, largestGrid, limits) + latentsReadback(largestGrid);
  const stages = { encoders: encoderStage(models, story.textTokens), transformer: transformerStage, vae: 0 };
  const identityTokens = plan.identity.rows * plan.identity.cols;
  const similaritySums = F32 * Math.max(...imageTokens) * identityTokens;
  return finish(stages, [largestFluxBuffer(config, tokens), extraBuffer, similaritySums, largestEncoderBuffer(models, story.textTokens), largestVaeBuffer(models.vae.config, largestGrid)]);
}

function finish(stages: MemoryEstimate['stages'], buffers: number[]): MemoryEstimate {
  return { stages, peak: Math.max(stages.encoders, stages.transformer, stages.vae) + RUNTIME_OVERHEAD_BYTES, largestBuffer: Math.max(...buffers) };
}

const gridOf = (image: ImageSize) => ({ rows: image.height / TOKEN_PIXELS, cols: image.width / TOKEN_PIXELS });

/** FluxScratch (models/flux/activations.ts): q, k, v, normed, attention [tokens, hidden], an MLP chunk, modulation. */
function scratchBytes(config: FluxConfig, maxTokens: number, limits: Limits): number {
  const h = config.hidden;
  const mlpChunkRows = mlpChunkRowsFor(config, maxTokens, limits);
  return F32 * (5 * maxTokens * h + mlpChunkRows * config.mlpHidden + 2 * 6 * h + 2 * h + h);
}

/** FluxSample: residual stream, conditioning, embeddings, two latents and the velocity, and its RoPE table. */
function sampleBytes(config: FluxConfig, textTokens: number, grid: { rows: number; cols: number }): number {
  const imageTokens = grid.rows * grid.cols;
  const tokens = textTokens + imageTokens;
  const ropePairs = config.axesDim.reduce((a, b) => a + b, 0) / 2;
  return F32 * (tokens * config.hidden + textTokens * config.contextDim + config.vecDim + 2 * TIME_EMBED_DIM + 2 * config.hidden + 3 * imageTokens * config.inChannels + tokens * ropePairs * 2);
}

/** The latents read back after a step (staging buffer). */
const latentsReadback = (grid: { rows: number; cols: number }) => F32 * grid.rows * grid.cols * 64;

/** TrackState (characonsist/track-state.ts): a sample, index lists, mask and matching buffers, a preview. */
function trackBytes(config: FluxConfig, story: TransformerStory, planned: PlannedTrack): number {
  const { track } = planned;
  const image = track.kind === 'identity' ? story.identity : story.frames[track.frame];
  const imageTokens = image.rows * image.cols;
  const tokens = image.textTokens + imageTokens;
  const identityTokens = story.identity.rows * story.identity.cols;
  const perToken = 7 + 2 + 1 + 1 + 1 + 1; // index lists, score sums (2), raw mask, mask, best similarity, best match
  return (
    sampleBytes(config, image.textTokens, image) +
    F32 * perToken * imageTokens + F32 * tokens + AttentionOp.queryGroupsBytes(tokens) + F32 * LatentPreviewOp.pixels(image) +
    (track.kind === 'frame' ? F32 * imageTokens * identityTokens : 0)
  );
}

/** T5 (weights, then activations for its padded length) and CLIP (77 tokens) are loaded one after the other. */
function encoderStage(models: ModelSizes, textTokens: number): number {
  const t5 = models.t5.config;
  const inner = t5.heads * t5.dKv;
  const t5Activations = textTokens * (1 + 2 * t5.dModel + 3 * inner + inner + t5.dFf) + t5.heads * positionBiasColumns(textTokens, textTokens);
  const clip = models.clip.config;
  const clipActivations = CLIP_MAX_LENGTH * (1 + 2 * clip.hidden + 3 * clip.hidden + clip.hidden + clip.mlp) + clip.hidden;
  // + the embeddings read back
  return Math.max(models.t5.weightBytes + F32 * (t5Activations + textTokens * t5.dModel), models.clip.weightBytes + F32 * (clipActivations + clip.hidden));
}

function largestEncoderBuffer(models: ModelSizes, textTokens: number): number {
  const t5 = models.t5.config;
  return F32 * Math.max(textTokens * t5.dFf, textTokens * 3 * t5.heads * t5.dKv, t5.heads * positionBiasColumns(textTokens, textTokens), CLIP_MAX_LENGTH * models.clip.config.mlp);
}

function largestFluxBuffer(config: FluxConfig, tokens: number): number {
  return F32 * tokens * config.hidden;
}

/** The VAE stage: weights, the GroupNorm affine, latents in, RGBA out and read back, and the decode's activations. */
function vaeStage(vae: ModelSizes['vae'], grid: { rows: number; cols: number }, limits: Limits): number {
  const pixels = TOKEN_PIXELS ** 2 * grid.rows * grid.cols;
  const midChannels = decoderLayout(vae.config).mid.attention.channels;
  const maxPartBytes = Math.min(DEFAULT_MAX_PART_BYTES, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  return vae.weightBytes + 2 * F32 * midChannels + F32 * grid.rows * grid.cols * 64 + 2 * F32 * pixels + vaeDecodeActivations(vae.config, grid, maxPartBytes);
}

/**
 * The most activation bytes live at once in a decode (models/vae/decoder.ts, conv-pass.ts).
 * Activations are stored in row parts of at most `maxPartBytes`; a pass that is its input's last
 * reader frees each input part once read, so while it runs the input shrinks as the outputs grow:
 * at most the larger of the two, plus a part of each in flight. A ResnetBlock without a shortcut
 * keeps its input (the residual) beside conv1's output; the mid-block attention holds its input,
 * q, k, v and output whole.
 */
export function vaeDecodeActivations(config: VaeDecoderConfig, grid: { rows: number; cols: number }, maxPartBytes: number): number {
  const layout = decoderLayout(config);
  let pixels = 4 * grid.rows * grid.cols;
  const tensor = (channels: number) => F32 * pixels * channels;
  const part = (bytes: number) => Math.min(bytes, maxPartBytes);
  const consuming = (input: number, outputs: number[]) => Math.max(input, sum(outputs)) + part(input) + sum(outputs.map(part));
  let peak = consuming(tensor(config.zChannels), [tensor(layout.convIn.outChannels)]);
  const resnet = (block: { inChannels: number; outChannels: number; shortcut: boolean }) => {
    const [input, output] = [tensor(block.inChannels), tensor(block.outChannels)];
    const conv1 = block.shortcut ? consuming(input, [output, output]) : input + output + part(output);
    peak = Math.max(peak, conv1, 2 * output + part(output));
  };
  resnet(layout.mid.block1);
  peak = Math.max(peak, 5 * tensor(layout.mid.attention.channels));
  resnet(layout.mid.block2);
  for (const level of layout.levels) {
    level.blocks.forEach(resnet);
    if (level.upsample) {
      const input = tensor(level.upsample.channels);
      pixels *= 4;
      peak = Math.max(peak, consuming(input, [tensor(level.upsample.channels)]));
    }
  }
  return Math.max(peak, consuming(tensor(layout.convOut.inChannels), [tensor(layout.convOut.outChannels)]));
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** Buffers of the decode that are not split into row parts: the attention's q, k, v at latent resolution. */
function largestVaeBuffer(config: VaeDecoderConfig, grid: { rows: number; cols: number }): number {
  const channels = decoderLayout(config).mid.attention.channels;
  return Math.max(F32 * 4 * grid.rows * grid.cols * 3 * channels, Math.min(DEFAULT_MAX_PART_BYTES, F32 * 256 * grid.rows * grid.cols * 3));
}

/** The story as the planner sees it: sizes, scene sources and schedule (the tensors do not matter here). */
function planShape(story: StoryShape): TransformerStory {
  const image = (size: ImageSize) => ({ ...gridOf(size), textTokens: story.textTokens, text: new Float32Array(0), pooled: new Float32Array(0), noise: new Float32Array(0), bgLen: 0, realLen: 0 });
  const schedule = PRESETS.find((preset) => preset.name === story.schedule)!;
  return {
    identity: image(story.identity),
    frames: story.frames.map((frame) => ({ ...image(frame), updateBg: story.mode === 'scenes' && (frame.opensScene ?? false) })),
    shareBg: story.mode !== 'switch',
    useInterpolate: true,
    schedule,
  };
}
