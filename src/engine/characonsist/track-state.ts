// The GPU buffers and CPU state of one track of a pass (the identity, a frame's pre-run or full
// run): its FLUX sample, the text-attention and similarity accumulators, the current mask with
// the attention labels derived from it, and the index lists that drive background extras,
// foreground extras and the token merge.

import type { GpuRuntime } from '../gpu/runtime';
import { FluxSample } from '../models/flux/activations';
import type { FluxConfig } from '../models/flux/config';
import { AttentionOp } from '../ops/attention';
import { LatentPreviewOp } from '../ops/latent-preview';
import { fluxSchedule } from '../sampling/schedule';
import type { PlannedTrack } from './plan';
import type { StoryImage, TransformerStory } from './story';

/** Point matches of a frame to the identity (spec §6), as computed after the mask step. */
export interface Matches {
  /** per frame token: the most similar identity token, and that mean cosine similarity */
  bestMatch: Uint32Array;
  bestSimilarity: Float32Array;
  /** the valid matches: frame token fg, matched identity token fg, similarity above the threshold */
  frameTokens: Uint32Array;
  identityTokens: Uint32Array;
}

/** An index list on the GPU and how many entries are live. */
interface IndexList {
  buffer: GPUBuffer;
  count: number;
}

export class TrackState {
  /** the current foreground mask (1 = fg), replaced after every mask step; undefined before the first */
  mask: Uint8Array | undefined;
  /** matches in effect (frames) */
  matches: Matches | undefined;
  readonly backgroundTokens: IndexList;
  readonly backgroundPositions: IndexList;
  readonly foregroundIdentityTokens: IndexList;
  readonly foregroundPositions: IndexList;
  readonly mergeFrameTokens: IndexList;
  readonly mergeIdentityTokens: IndexList;
  readonly mergeWeights: GPUBuffer;

  private constructor(
    private readonly gpu: GpuRuntime,
    readonly track: PlannedTrack['track'],
    /** the last step this track runs in its pass (inclusive) */
    readonly lastStep: number,
    readonly image: StoryImage,
    readonly sample: FluxSample,
    /** this image's timesteps: the shift depends on its own token count */
    readonly timesteps: Float64Array,
    /** [imageTokens] (background, foreground) f32 sums of the text-attention scores */
    readonly scoreSums: GPUBuffer,
    /** u32 [imageTokens]: bg <= fg before and after the morphology */
    readonly rawMask: GPUBuffer,
    readonly cleanMask: GPUBuffer,
    /** u32 [tokens]: 0 text, 1 fg, 2 bg image tokens (the attention's query labels) */
    readonly labels: GPUBuffer,
    readonly queryGroups: GPUBuffer,
    /** frames: f32 [imageTokens, identityTokens] similarity sums, best similarity and match */
    readonly similaritySums: GPUBuffer | undefined,
    readonly bestSimilarity: GPUBuffer,
    readonly bestMatch: GPUBuffer,
    /** u32 [2 rows * 2 cols]: RGBA8 of the latest latent preview */
    readonly preview: GPUBuffer,
    private readonly buffers: GPUBuffer[],
  ) {
    const list = (index: number): IndexList => ({ buffer: buffers[index], count: 0 });
    [this.backgroundTokens, this.backgroundPositions, this.foregroundIdentityTokens, this.foregroundPositions, this.mergeFrameTokens, this.mergeIdentityTokens] = [0, 1, 2, 3, 4, 5].map(list);
    this.mergeWeights = buffers[6];
  }

  /** Buffers are allocated one after another, and all freed again if one allocation fails. */
  static async create(gpu: GpuRuntime, config: FluxConfig, story: TransformerStory, planned: PlannedTrack, label: string): Promise<TrackState> {
    const { track, lastStep } = planned;
    const image = track.kind === 'identity' ? story.identity : story.frames[track.frame];
    const imageTokens = image.rows * image.cols;
    const identityTokens = story.identity.rows * story.identity.cols;
    const tokens = image.textTokens + imageTokens;
    const sample = await FluxSample.create(gpu, config, label, { textTokens: image.textTokens, rows: image.rows, cols: image.cols }, image.text, image.pooled);
    const buffers: GPUBuffer[] = [];
    const alloc = async (name: string, bytes: number) => {
      const buffer = await gpu.memory.allocate(`${label} ${name}`, Math.max(4, bytes));
      buffers.push(buffer);
      return buffer;
    };
    try {
      gpu.memory.upload(sample.currentLatents.buffer, image.noise);
      for (const name of ['background tokens', 'background positions', 'foreground identity tokens', 'foreground positions', 'merge frame tokens', 'merge identity tokens', 'merge weights']) {
        await alloc(name, 4 * imageTokens);
      }
      const scoreSums = await alloc('score sums', 8 * imageTokens);
      const rawMask = await alloc('raw mask', 4 * imageTokens);
      const cleanMask = await alloc('mask', 4 * imageTokens);
      const labels = await alloc('labels', 4 * tokens);
      const queryGroups = await alloc('query groups', AttentionOp.queryGroupsBytes(tokens));
      const bestSimilarity = await alloc('best similarity', 4 * imageTokens);
      const bestMatch = await alloc('best match', 4 * imageTokens);
      const preview = await alloc('latent preview', 4 * LatentPreviewOp.pixels(image));
      const similaritySums = track.kind === 'frame' ? await alloc('similarity sums', 4 * imageTokens * identityTokens) : undefined;
      const timesteps = fluxSchedule(story.schedule.steps, imageTokens, story.schedule.shift);
      return new TrackState(gpu, track, lastStep, image, sample, timesteps, scoreSums, rawMask, cleanMask, labels, queryGroups, similaritySums, bestSimilarity, bestMatch, preview, buffers);
    } catch (error) {
      sample.release();
      buffers.forEach((buffer) => gpu.memory.release(buffer));
      throw error;
    }
  }

  get imageTokens(): number {
    return this.image.rows * this.image.cols;
  }

  get textTokens(): number {
    return this.image.textTokens;
  }

  /** Installs a new mask: query labels (text 0, fg 1, bg 2). */
  setMask(mask: Uint8Array): void {
    this.mask = mask;
    const labels = new Uint32Array(this.textTokens + this.imageTokens);
    mask.forEach((fg, token) => (labels[this.textTokens + token] = fg ? 1 : 2));
    this.gpu.memory.upload(this.labels, labels);
  }

  /** Background extras: the image tokens where the source is background and this frame is not fg. */
  setBackgroundShare(sourceBackground: Uint8Array): number {
    const tokens = Uint32Array.from({ length: this.imageTokens }, (_, t) => t).filter((t) => sourceBackground[t] && !this.mask![t]);
    this.writeList(this.backgroundTokens, tokens);
    // Rotated at their own positions (rows of this sample's RoPE table follow the text rows).
    this.writeList(this.backgroundPositions, tokens.map((t) => this.textTokens + t));
    return tokens.length;
  }

  /** Foreground extras and merge lists from the matches in effect. */
  setMatches(matches: Matches): void {
    this.matches = matches;
    this.writeList(this.foregroundIdentityTokens, matches.identityTokens);
    // Point tracking: each matched identity key is re-encoded at its frame token's position.
    this.writeList(this.foregroundPositions, matches.frameTokens.map((t) => this.textTokens + t));
    this.writeList(this.mergeFrameTokens, matches.frameTokens);
    this.writeList(this.mergeIdentityTokens, matches.identityTokens);
  }

  /** a_t = w(step) * S_max(t) for every valid match. */
  setMergeWeight(weight: number): void {
    const { frameTokens, bestSimilarity } = this.matches!;
    if (frameTokens.length) this.gpu.memory.upload(this.mergeWeights, Float32Array.from(frameTokens, (t) => weight * bestSimilarity[t]));
  }

  private writeList(list: IndexList, values: Uint32Array): void {
    list.count = values.length;
    if (values.length) this.gpu.memory.upload(list.buffer, values);
  }

  release(): void {
    this.sample.release();
    this.buffers.forEach((buffer) => this.gpu.memory.release(buffer));
  }
}
