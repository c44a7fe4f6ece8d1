// Runs a CharaConsist story on the GPU in lockstep (plan.ts): pass after pass, step by step,
// block by block, all tracks of a pass through each block before the next block. Producers (the
// identity, scene sources) leave their image keys, values and attention outputs of the current
// block in a stash; the frames read them from there in the same block. Nothing is kept across
// blocks or steps but the masks and matches. Finished pictures are handed out after their pass,
// before the next one starts, so a caller can decode and show them while the story goes on.

import type { PictureKey } from '../../engine-api';
import { invalidInput } from '../errors';
import { checkFiniteValues } from '../request-checks';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { FluxScratch, tokensOf } from '../models/flux/activations';
import type { FluxConfig } from '../models/flux/config';
import type { FluxTransformer, SingleBlockContext, SingleBlockHooks } from '../models/flux/transformer';
import { AttentionOp, type AttentionExtras } from '../ops/attention';
import { LatentPreviewOp } from '../ops/latent-preview';
import { GatherRowsOp } from '../ops/layout';
import { MaskCleanupOp } from '../ops/morphology';
import { RopeOp } from '../ops/rope';
import { BestMatchOp, CosineSimilarityOp } from '../ops/similarity';
import { ForegroundMaskOp, TextAttentionScoresOp } from '../ops/text-attention';
import { TokenMergeOp } from '../ops/token-merge';
import { dense, rows, type MatrixView } from '../ops/view';
import {
  allPictures, forwardPasses, officialForwardPasses, passLastStep, planPasses, planWork, sharesBackground, type Pass, type PictureRequest, type Track,
} from './plan';
import { stepFlags, type StepFlags } from './step-flags';
import { backgroundSource, type StoryEvent, type StoryImage, type TransformerStory } from './story';
import { TrackState, type Matches } from './track-state';

export interface IdentityResult {
  /** final packed latents [rows * cols, 64] */
  latents: Float32Array;
  /** every step's latents (index 0 = noise), when requested */
  trajectory?: Float32Array[];
  /** foreground mask at the mask step */
  mask: Uint8Array;
}

export interface FrameResult extends IdentityResult {
  /** 0-based index of the frame in the story */
  frame: number;
  /** the full run's mask is `mask`; this is the pre-run's */
  preMask: Uint8Array;
  /** the full run's matches at the mask step */
  matches: Matches;
  preMatches: Matches;
}

export interface StoryResult {
  /** when the identity's picture was asked for */
  identity?: IdentityResult;
  /** the requested frames, in story order */
  frames: FrameResult[];
  events: StoryEvent[];
  /** transformer forward passes run, and what the official sequential run would have run */
  forwardPasses: number;
  officialForwardPasses: number;
  /** wall time per pass, ms */
  passMs: number[];
  /** highest GPU memory in use during the story, bytes */
  peakBytes: number;
}

export interface StoryProgress {
  pass: Pass;
  passIndex: number;
  passes: number;
  /** steps of this pass done, of its longest track's */
  done: number;
  steps: number;
  /** the whole plan's transformer work in token-steps (a forward pass over T tokens counts T) */
  work: { done: number; total: number };
}

export interface LatentPreview {
  picture: PictureKey;
  /** steps done */
  step: number;
  /** RGBA8 [2 rows, 2 cols, 4] */
  rgba: Uint8Array;
  rows: number;
  cols: number;
}

export interface StoryOptions {
  /** which pictures to make, and frames per batch; default every picture in one batch */
  pictures?: PictureRequest;
  /** read every step's latents back (comparisons with other implementations) */
  keepTrajectories?: boolean;
  /** at the start of every pass and after every step */
  onProgress?: (progress: StoryProgress) => void;
  /** a picture's latents as colours every `every` steps (the identity's own pass, the requested frames' runs) */
  preview?: { every: number; onPreview: (preview: LatentPreview) => void };
  /** a requested picture's mask as soon as its run passed the mask step */
  onMask?: (mask: { picture: PictureKey; run: 'pre' | 'full'; mask: Uint8Array }) => void;
  /** finished pictures, right after their pass (awaited: the next pass waits) */
  onIdentity?: (identity: IdentityResult) => Promise<void> | void;
  /** `events`: the story's events so far, which include all of this frame's */
  onFrame?: (frame: FrameResult, events: readonly StoryEvent[]) => Promise<void> | void;
}

/** Image keys, values and attention outputs [imageTokens, hidden] a producer leaves for the frames. */
interface Stash {
  keys: MatrixView;
  values: MatrixView;
  attention: MatrixView;
  imageTokens: number;
}

const opsByDevice = new WeakMap<GpuRuntime, Map<number, Promise<CharaConsistOps>>>();

class CharaConsistOps {
  private constructor(
    readonly textAttention: TextAttentionScoresOp,
    readonly foregroundMask: ForegroundMaskOp,
    readonly cleanup: MaskCleanupOp,
    readonly similarity: CosineSimilarityOp,
    readonly bestMatch: BestMatchOp,
    readonly merge: TokenMergeOp,
    readonly gather: GatherRowsOp,
    readonly rope: RopeOp,
    readonly attention: AttentionOp,
    readonly preview: LatentPreviewOp,
  ) {}

  /**
   * One set per device and head size, kept across stories: the ops' scratch buffers (text-attention
   * head mass, eroded masks, similarity norms) then serve every story instead of each story leaving
   * its own behind.
   */
  static of(gpu: GpuRuntime, config: FluxConfig): Promise<CharaConsistOps> {
    const byHeadDim = opsByDevice.get(gpu) ?? new Map<number, Promise<CharaConsistOps>>();
    opsByDevice.set(gpu, byHeadDim);
    let ops = byHeadDim.get(config.headDim);
    if (!ops) {
      ops = CharaConsistOps.create(gpu, config);
      byHeadDim.set(config.headDim, ops);
      ops.catch(() => byHeadDim.delete(config.headDim));
    }
    return ops;
  }

  private static async create(gpu: GpuRuntime, config: FluxConfig): Promise<CharaConsistOps> {
    return new CharaConsistOps(
      await TextAttentionScoresOp.create(gpu),
      await ForegroundMaskOp.create(gpu),
      await MaskCleanupOp.create(gpu),
      await CosineSimilarityOp.create(gpu),
      await BestMatchOp.create(gpu),
      await TokenMergeOp.create(gpu),
      await GatherRowsOp.create(gpu),
      await RopeOp.create(gpu),
      await AttentionOp.create(gpu, { headDim: config.headDim }),
      await LatentPreviewOp.create(gpu),
    );
  }
}

export async function runStory(gpu: GpuRuntime, transformer: FluxTransformer, story: TransformerStory, options: StoryOptions = {}): Promise<StoryResult> {
  checkStory(transformer.config, story);
  const pictures = options.pictures ?? allPictures(story);
  checkPictures(story, pictures);
  const passes = planPasses(story, pictures);
  const runner = await StoryRunner.create(gpu, transformer, story, passes, options);
  try {
    return await runner.run();
  } finally {
    runner.release();
  }
}

const imageOf = (story: TransformerStory, track: Track): StoryImage => (track.kind === 'identity' ? story.identity : story.frames[track.frame]);

/** A producer's stash key: the identity, or a scene source's full run. */
const stashKey = (track: Track) => (track.kind === 'identity' ? 'identity' : `frame ${track.frame}`);

class StoryRunner {
  /** each event once, although passes recompute the identity and the scene sources */
  private readonly events: StoryEvent[] = [];
  private readonly eventKeys = new Set<string>();
  private identityMask: Uint8Array | undefined;
  /** final full-run masks of the scene sources, by frame index */
  private readonly sourceMasks = new Map<number, Uint8Array>();
  private readonly preRuns = new Map<number, { mask: Uint8Array; matches: Matches }>();
  private identityResult: IdentityResult | undefined;
  private readonly frames: FrameResult[] = [];
  private readonly work: { done: number; total: number };
  /** the GPU work submitted before the latest recording: awaited before the next one is recorded */
  private previousSubmission: Promise<void> = Promise.resolve();

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly transformer: FluxTransformer,
    private readonly story: TransformerStory,
    private readonly passes: readonly Pass[],
    private readonly options: StoryOptions,
    private readonly ops: CharaConsistOps,
    private readonly scratch: FluxScratch,
    /** [2 * maxImageTokens, hidden]: background extras then foreground extras (spec §17.1: up to 2N) */
    private readonly extraKeys: MatrixView,
    private readonly extraValues: MatrixView,
    private readonly stashes: Map<string, Stash>,
    private readonly buffers: GPUBuffer[],
  ) {
    this.work = { done: 0, total: planWork(story, passes) };
  }

  /** Buffers sized for the images the plan runs (the identity is in every pass). */
  static async create(gpu: GpuRuntime, transformer: FluxTransformer, story: TransformerStory, passes: readonly Pass[], options: StoryOptions): Promise<StoryRunner> {
    const { config } = transformer;
    const tracks = passes.flatMap((pass) => pass.tracks.map((planned) => planned.track));
    const images = [story.identity, ...tracks.map((track) => imageOf(story, track))];
    const maxTokens = Math.max(...images.map(tokensOf));
    const maxImageTokens = Math.max(...images.map((image) => image.rows * image.cols));
    const matrix = (label: string, rowCount: number) => gpu.memory.allocate(`characonsist ${label} [${rowCount}, ${config.hidden}]`, 4 * rowCount * config.hidden);
    const buffers: GPUBuffer[] = [];
    const stashes = new Map<string, Stash>();
    let scratch: FluxScratch | undefined;
    try {
      buffers.push(await matrix('extra keys', 2 * maxImageTokens), await matrix('extra values', 2 * maxImageTokens));
      const producers = new Map<string, StoryImage>([['identity', story.identity]]);
      for (const track of tracks) if (track.kind === 'frame' && track.run === 'full' && story.frames[track.frame].updateBg) producers.set(stashKey(track), imageOf(story, track));
      for (const [key, image] of producers) {
        const imageTokens = image.rows * image.cols;
        const [keys, values, attention] = [await matrix(`${key} keys`, imageTokens), await matrix(`${key} values`, imageTokens), await matrix(`${key} attention`, imageTokens)];
        buffers.push(keys, values, attention);
        stashes.set(key, { keys: dense(keys, config.hidden), values: dense(values, config.hidden), attention: dense(attention, config.hidden), imageTokens });
      }
      scratch = await FluxScratch.create(gpu, config, maxTokens);
      return new StoryRunner(
        gpu, transformer, story, passes, options, await CharaConsistOps.of(gpu, config), scratch,
        dense(buffers[0], config.hidden), dense(buffers[1], config.hidden), stashes, buffers,
      );
    } catch (error) {
      scratch?.release();
      buffers.forEach((buffer) => gpu.memory.release(buffer));
      throw error;
    }
  }

  async run(): Promise<StoryResult> {
    this.gpu.memory.resetPeak();
    this.reportSizeMismatches();
    const passMs: number[] = [];
    for (const [index, pass] of this.passes.entries()) {
      const started = performance.now();
      const finished = await this.runPass(pass, index);
      passMs.push(performance.now() - started);
      await this.handOut(finished);
    }
    return {
      identity: this.identityResult,
      frames: this.frames.sort((a, b) => a.frame - b.frame),
      events: this.events,
      forwardPasses: forwardPasses(this.passes),
      officialForwardPasses: officialForwardPasses(this.story, this.passes),
      passMs,
      peakBytes: this.gpu.memory.peakBytes,
    };
  }

  /** Frames of the plan whose background cannot be shared: another grid than their source's. */
  private reportSizeMismatches(): void {
    const frames = new Set(this.passes.flatMap((pass) => pass.tracks.flatMap(({ track }) => (track.kind === 'frame' ? [track.frame] : []))));
    for (const index of [...frames].sort((a, b) => a - b)) {
      if (this.story.shareBg && !this.story.frames[index].updateBg && !sharesBackground(this.story, index)) this.report({ kind: 'background-size-mismatch', frame: index });
    }
  }

  /** Runs a pass; returns the pictures it finished (handed out once its buffers are freed). */
  private async runPass(pass: Pass, passIndex: number): Promise<(IdentityResult | FrameResult)[]> {
    const config = this.transformer.config;
    const tracks: TrackState[] = [];
    try {
      for (const [i, planned] of pass.tracks.entries()) tracks.push(await TrackState.create(this.gpu, config, this.story, planned, `pass ${passIndex} track ${i}`));
      for (const track of tracks) this.startTrack(track);
      const trajectories = tracks.map((track) => (this.options.keepTrajectories ? [track.image.noise.slice()] : undefined));
      const steps = passLastStep(pass) + 1;
      for (let step = 0; step < steps; step++) {
        this.progress(pass, passIndex, step);
        const active = tracks.filter((track) => step <= track.lastStep);
        const flags = active.map((track) => stepFlags(this.story, track.track, step));
        await this.runStep(active, flags, step);
        await this.afterStep(pass, active, flags, step, trajectories.filter((_, i) => step <= tracks[i].lastStep));
        this.work.done += active.reduce((sum, track) => sum + tokensOf(track.image), 0);
      }
      this.progress(pass, passIndex, steps);
      return await this.collect(pass, tracks, trajectories);
    } finally {
      tracks.forEach((track) => track.release());
    }
  }

  private progress(pass: Pass, passIndex: number, done: number): void {
    this.options.onProgress?.({ pass, passIndex, passes: this.passes.length, done, steps: passLastStep(pass) + 1, work: { ...this.work } });
  }

  /** The picture a track makes, if it is one the caller asked for (not a recomputed producer). */
  private pictureOf(pass: Pass, track: Track): PictureKey | undefined {
    if (track.kind === 'identity') return pass.stage === 'identity' ? 'identity' : undefined;
    return pass.frames.includes(track.frame) ? { frame: track.frame } : undefined;
  }

  /** Masks and matches a track starts with: those of its pre-run, for a full run. */
  private startTrack(track: TrackState): void {
    if (track.track.kind === 'frame' && track.track.run === 'full') {
      const pre = this.preRuns.get(track.track.frame)!;
      track.setMatches(pre.matches);
    }
  }

  /** A track moves on after a step's forward pass unless it was its last one and no picture needs x_N (pre-runs, producers cut short). */
  private eulerAfter(track: TrackState, step: number): boolean {
    return step < track.lastStep || track.lastStep === this.story.schedule.steps - 1;
  }

  private async runStep(tracks: TrackState[], flags: StepFlags[], step: number): Promise<void> {
    const { config } = this.transformer;
    await this.record('characonsist embed', (rec) => {
      tracks.forEach((track, i) => {
        this.prepareStep(rec, track, flags[i], step);
        this.transformer.conditioning(rec, track.sample, this.scratch, track.timesteps[step], this.story.schedule.guidance);
        this.transformer.embed(rec, track.sample);
      });
    });
    for (let n = 0; n < config.doubleBlocks; n++) {
      await this.record(`characonsist double block ${n}`, (rec) => tracks.forEach((track) => this.transformer.doubleBlock(rec, n, track.sample, this.scratch)));
    }
    for (let n = 0; n < config.singleBlocks; n++) {
      await this.record(`characonsist single block ${n}`, (rec) => {
        tracks.forEach((track, i) => this.transformer.singleBlock(rec, n, track.sample, this.scratch, this.hooks(track, flags[i])));
      });
    }
    await this.record('characonsist final', (rec) => {
      tracks.forEach((track, i) => {
        this.transformer.finalLayer(rec, track.sample, this.scratch);
        if (flags[i].maskStats) {
          this.ops.foregroundMask.record(rec, track.scoreSums, track.rawMask, track.imageTokens);
          this.ops.cleanup.record(rec, track.rawMask, track.cleanMask, { rows: track.image.rows, cols: track.image.cols });
        }
        if (flags[i].matching) {
          this.ops.bestMatch.record(rec, {
            similaritySums: track.similaritySums!, frameTokens: track.imageTokens, identityTokens: this.stash('identity').imageTokens,
            blocks: config.singleBlocks, bestSimilarity: track.bestSimilarity, bestMatch: track.bestMatch,
          });
        }
        if (this.eulerAfter(track, step)) this.transformer.eulerStep(rec, track.sample, track.timesteps[step + 1] - track.timesteps[step]);
      });
    });
  }

  /** Uploads what this step's extras and merge read, and groups the queries by label. */
  private prepareStep(rec: Recorder, track: TrackState, flags: StepFlags, step: number): void {
    if (track.track.kind !== 'frame') return;
    const frame = track.track.frame;
    if (flags.shareBackground || flags.shareForeground) {
      this.ops.attention.recordQueryGroups(rec, { buffer: track.labels, offset: 0 }, track.textTokens + track.imageTokens, track.queryGroups);
    }
    if (flags.shareBackground) {
      const count = track.setBackgroundShare(this.sourceBackground(frame));
      if (count === 0) this.report({ kind: 'empty-shared-background', frame, run: track.track.run, step });
    }
    if (flags.merge > 0) track.setMergeWeight(flags.merge);
  }

  /** NOT of the mask of the frame's background source. */
  private sourceBackground(frame: number): Uint8Array {
    const source = backgroundSource(this.story, frame);
    const mask = source < 0 ? this.identityMask! : this.sourceMasks.get(source)!;
    return mask.map((fg) => 1 - fg);
  }

  private stash(key: string): Stash {
    return this.stashes.get(key)!;
  }

  private producerStash(track: TrackState): Stash | undefined {
    if (track.track.kind === 'identity') return this.stash('identity');
    return track.track.run === 'full' && this.story.frames[track.track.frame].updateBg ? this.stash(`frame ${track.track.frame}`) : undefined;
  }

  private hooks(track: TrackState, flags: StepFlags): SingleBlockHooks {
    const even = (context: SingleBlockContext) => context.block % 2 === 0;
    const imageRows = (view: MatrixView) => rows(view, track.textTokens);
    const stash = this.producerStash(track);
    return {
      beforeRope: (rec, { scratch }) => {
        if (!stash || !flags.produceKeys) return;
        this.copyRows(rec, imageRows(scratch.k), stash.keys, track.imageTokens);
        this.copyRows(rec, imageRows(scratch.v), stash.values, track.imageTokens);
      },
      afterRope: (rec, { scratch, block }) => {
        if (!flags.maskStats) return;
        this.ops.textAttention.record(rec, {
          queries: imageRows(scratch.q), keys: scratch.k, imageTokens: track.imageTokens, heads: this.transformer.config.heads,
          realLen: track.image.realLen, bgLen: track.image.bgLen, scoreSums: track.scoreSums, firstBlock: block === 0,
        });
      },
      extras: (rec, context) => this.extras(rec, track, flags, even(context)),
      afterAttention: (rec, context) => {
        const { scratch, block } = context;
        const attention = imageRows(scratch.attention);
        if (stash && flags.produceAttention) this.copyRows(rec, attention, stash.attention, track.imageTokens);
        const identity = this.stash('identity');
        if (flags.matching) {
          this.ops.similarity.record(rec, {
            frame: attention, frameTokens: track.imageTokens, identity: identity.attention, identityTokens: identity.imageTokens,
            channels: this.transformer.config.hidden, similaritySums: track.similaritySums!, firstBlock: block === 0,
          });
        }
        if (flags.merge > 0 && even(context) && track.mergeFrameTokens.count > 0) {
          this.ops.merge.record(rec, {
            frame: attention, frameTokens: track.imageTokens, identity: identity.attention, identityTokens: identity.imageTokens,
            channels: this.transformer.config.hidden, mergedFrameTokens: track.mergeFrameTokens.buffer,
            matchedIdentityTokens: track.mergeIdentityTokens.buffer, weights: track.mergeWeights, entries: track.mergeFrameTokens.count,
          });
        }
      },
    };
  }

  /**
   * Extra keys/values of a frame's block: background extras (the source's keys at shared
   * background positions, rotated there) then foreground extras (the identity's keys at the
   * matched identity tokens, rotated at the matching frame tokens' positions; even blocks only).
   */
  private extras(rec: Recorder, track: TrackState, flags: StepFlags, evenBlock: boolean): AttentionExtras | undefined {
    if (track.track.kind !== 'frame') return undefined;
    const background = flags.shareBackground ? track.backgroundTokens.count : 0;
    const foreground = flags.shareForeground && evenBlock ? track.foregroundIdentityTokens.count : 0;
    if (background + foreground === 0) return undefined;
    const frame = track.track.frame;
    const source = backgroundSource(this.story, frame);
    const { hidden, heads } = this.transformer.config;
    const place = (from: Stash, tokens: GPUBuffer, positions: GPUBuffer, count: number, firstRow: number) => {
      const keys = rows(this.extraKeys, firstRow);
      this.ops.gather.record(rec, { source: from.keys, sourceRows: from.imageTokens, indices: tokens, count, target: keys, cols: hidden });
      this.ops.gather.record(rec, { source: from.values, sourceRows: from.imageTokens, indices: tokens, count, target: rows(this.extraValues, firstRow), cols: hidden });
      this.ops.rope.record(rec, { view: keys, rows: count, heads, table: track.sample.rope, at: { positions: { buffer: positions, offset: 0 } } });
    };
    if (background) place(this.stash(source < 0 ? 'identity' : `frame ${source}`), track.backgroundTokens.buffer, track.backgroundPositions.buffer, background, 0);
    if (foreground) place(this.stash('identity'), track.foregroundIdentityTokens.buffer, track.foregroundPositions.buffer, foreground, background);
    return {
      keys: this.extraKeys,
      values: this.extraValues,
      background: { start: 0, count: background },
      foreground: { start: background, count: foreground },
      queryGroups: track.queryGroups,
    };
  }

  private copyRows(rec: Recorder, from: MatrixView, to: MatrixView, count: number): void {
    rec.copy(from.buffer, 4 * from.offset, to.buffer, 4 * to.offset, 4 * count * from.stride);
  }

  /** Reads masks and matches back after the step; records the trajectory; sends previews and masks of requested pictures. */
  private async afterStep(pass: Pass, tracks: TrackState[], flags: StepFlags[], step: number, trajectories: (Float32Array[] | undefined)[]): Promise<void> {
    for (const [i, track] of tracks.entries()) {
      const moved = this.eulerAfter(track, step);
      if (moved) track.sample.swapLatents();
      if (flags[i].maskStats) this.updateMask(track, Uint8Array.from(await this.gpu.memory.readU32(track.cleanMask, track.imageTokens)), step);
      if (flags[i].matching) await this.updateMatches(track);
      if (trajectories[i] && moved) trajectories[i]!.push(await this.gpu.memory.readF32(track.sample.currentLatents.buffer));
      const picture = this.pictureOf(pass, track.track);
      if (!picture) continue;
      if (step === this.story.schedule.maskStep) this.options.onMask?.({ picture, run: track.track.kind === 'frame' ? track.track.run : 'full', mask: this.maskOf(track) });
      const preview = this.options.preview;
      if (preview && preview.every > 0 && moved && (step + 1) % preview.every === 0) preview.onPreview({ picture, step: step + 1, ...(await this.preview(track)) });
    }
  }

  private maskOf(track: TrackState): Uint8Array {
    return track.track.kind === 'identity' ? this.identityMask! : track.mask!;
  }

  /** The track's current latents as colours (a cheap projection, not the VAE). */
  private async preview(track: TrackState): Promise<{ rgba: Uint8Array; rows: number; cols: number }> {
    const grid = { rows: track.image.rows, cols: track.image.cols };
    await this.record('latent preview', (rec) => this.ops.preview.record(rec, track.sample.currentLatents, grid, { buffer: track.preview, offset: 0 }));
    const rgba = new Uint8Array(await this.gpu.memory.readback(track.preview, 4 * LatentPreviewOp.pixels(grid)));
    return { rgba, ...grid };
  }

  private updateMask(track: TrackState, mask: Uint8Array, step: number): void {
    if (track.track.kind === 'identity') {
      this.identityMask = mask;
      if (!mask.some((fg) => fg)) this.report({ kind: 'empty-identity-foreground' });
      return;
    }
    track.setMask(mask);
    if (!mask.some((fg) => fg)) this.report({ kind: 'empty-foreground', frame: track.track.frame, run: track.track.run, step });
  }

  private async updateMatches(track: TrackState): Promise<void> {
    const [bestSimilarity, bestMatch] = await Promise.all([
      this.gpu.memory.readF32(track.bestSimilarity, track.imageTokens),
      this.gpu.memory.readU32(track.bestMatch, track.imageTokens),
    ]);
    const identityMask = this.identityMask!;
    const threshold = this.story.schedule.similarityThreshold;
    const valid = Uint32Array.from({ length: track.imageTokens }, (_, t) => t).filter((t) => track.mask![t] && identityMask[bestMatch[t]] && bestSimilarity[t] > threshold);
    const matches: Matches = { bestMatch, bestSimilarity, frameTokens: valid, identityTokens: valid.map((t) => bestMatch[t]) };
    track.setMatches(matches);
    if (track.track.kind === 'frame' && valid.length === 0) this.report({ kind: 'no-valid-match', frame: track.track.frame, run: track.track.run });
  }

  /** Keeps what later passes and the result need: pre-run masks and matches, source masks, finished pictures. */
  private async collect(pass: Pass, tracks: TrackState[], trajectories: (Float32Array[] | undefined)[]): Promise<(IdentityResult | FrameResult)[]> {
    const complete = (track: TrackState) => track.lastStep === this.story.schedule.steps - 1 && this.pictureOf(pass, track.track) !== undefined;
    const latents = (track: TrackState) => this.gpu.memory.readF32(track.sample.currentLatents.buffer);
    const finished: (IdentityResult | FrameResult)[] = [];
    for (const [i, track] of tracks.entries()) {
      const kind = track.track;
      if (kind.kind === 'identity') {
        if (complete(track)) finished.push((this.identityResult = { latents: await latents(track), trajectory: trajectories[i], mask: this.identityMask! }));
      } else if (kind.run === 'pre') {
        this.preRuns.set(kind.frame, { mask: track.mask!, matches: track.matches! });
      } else {
        if (this.story.frames[kind.frame].updateBg) this.sourceMasks.set(kind.frame, track.mask!);
        const pre = this.preRuns.get(kind.frame)!;
        if (complete(track)) {
          finished.push({ frame: kind.frame, latents: await latents(track), trajectory: trajectories[i], mask: track.mask!, preMask: pre.mask, matches: track.matches!, preMatches: pre.matches });
        }
      }
    }
    return finished;
  }

  /** Finished pictures to the caller, in story order (the identity first). */
  private async handOut(finished: (IdentityResult | FrameResult)[]): Promise<void> {
    const frames = finished.filter((result): result is FrameResult => 'frame' in result).sort((a, b) => a.frame - b.frame);
    for (const result of finished) if (!('frame' in result)) await this.options.onIdentity?.(result);
    for (const frame of frames) {
      this.frames.push(frame);
      await this.options.onFrame?.(frame, [...this.events]);
    }
  }

  private report(event: StoryEvent): void {
    const key = JSON.stringify(event);
    if (this.eventKeys.has(key)) return;
    this.eventKeys.add(key);
    this.events.push(event);
  }

  /**
   * Records and submits one short piece of work (a block of every track, at most). At most two
   * recordings are in flight: the next is recorded only once the one before the latest has run,
   * so a cancel or a lost device stops the GPU within about one block instead of after every
   * step the CPU could queue.
   */
  private async record(label: string, fill: (rec: Recorder) => void): Promise<void> {
    const rec = this.gpu.recorder(label);
    fill(rec);
    await rec.submit();
    const before = this.previousSubmission;
    this.previousSubmission = this.gpu.idle();
    await before;
  }

  release(): void {
    this.scratch.release();
    this.buffers.forEach((buffer) => this.gpu.memory.release(buffer));
  }
}

function checkStory(config: FluxConfig, story: TransformerStory): void {
  const { steps, maskStep, attention, merge } = story.schedule;
  if (!(maskStep >= 0 && maskStep < steps && attention[0] >= 1 && attention[1] <= steps && merge.start >= 1 && merge.end <= steps)) {
    throw invalidInput(
      `The CharaConsist schedule (mask step ${maskStep}, attention [${attention.join(', ')}), merge [${merge.start}, ${merge.end}) of ${steps} steps) is out of range.`,
      'Sharing and merging start at step 1 or later, and every step index lies inside the run.',
    );
  }
  const images = [['identity', story.identity] as const, ...story.frames.map((frame, i) => [`frame ${i}`, frame] as const)];
  for (const [name, image] of images) {
    const problems = [
      image.text.length !== image.textTokens * config.contextDim && `text embeddings hold ${image.text.length} values, not ${image.textTokens} x ${config.contextDim}`,
      image.pooled.length !== config.vecDim && `pooled vector has ${image.pooled.length} values, not ${config.vecDim}`,
      image.noise.length !== image.rows * image.cols * config.inChannels && `noise holds ${image.noise.length} values, not ${image.rows} x ${image.cols} x ${config.inChannels}`,
      !(image.bgLen >= 0 && image.bgLen <= image.realLen && image.realLen <= image.textTokens) && `token counts bgLen ${image.bgLen}, realLen ${image.realLen} do not fit ${image.textTokens} text tokens`,
    ].filter(Boolean);
    if (problems.length) throw invalidInput(`Story ${name}: ${problems.join('; ')}.`, 'Check the story inputs.');
    checkFiniteValues(`Story ${name}: text embeddings`, image.text);
    checkFiniteValues(`Story ${name}: pooled vector`, image.pooled);
    checkFiniteValues(`Story ${name}: noise`, image.noise);
  }
}

function checkPictures(story: TransformerStory, pictures: PictureRequest): void {
  const count = story.frames.length;
  if (!pictures.frames.every((frame) => Number.isInteger(frame) && frame >= 0 && frame < count) || !(Number.isInteger(pictures.framesPerBatch) && pictures.framesPerBatch >= 1)) {
    throw invalidInput(
      `Pictures to make: frames ${pictures.frames.join(', ')} in batches of ${pictures.framesPerBatch}, of a story of ${count} frames.`,
      `Name frames from 0 to ${count - 1}, and at least one frame per batch.`,
    );
  }
}
