// Runs a CharaConsist story on the GPU in lockstep (plan.ts): pass after pass, step by step,
// block by block, all tracks of a pass through each block before the next block. Producers (the
// identity, scene sources) leave their image keys, values and attention outputs of the current
// block in a stash; the frames read them from there in the same block. Nothing is kept across
// blocks or steps but the masks and matches.

import { invalidInput } from '../errors';
import type { Recorder } from '../gpu/recorder';
import type { GpuRuntime } from '../gpu/runtime';
import { FluxScratch, tokensOf } from '../models/flux/activations';
import type { FluxConfig } from '../models/flux/config';
import type { FluxTransformer, SingleBlockContext, SingleBlockHooks } from '../models/flux/transformer';
import { AttentionOp, type AttentionExtras } from '../ops/attention';
import { GatherRowsOp } from '../ops/layout';
import { MaskCleanupOp } from '../ops/morphology';
import { RopeOp } from '../ops/rope';
import { BestMatchOp, CosineSimilarityOp } from '../ops/similarity';
import { ForegroundMaskOp, TextAttentionScoresOp } from '../ops/text-attention';
import { TokenMergeOp } from '../ops/token-merge';
import { dense, rows, type MatrixView } from '../ops/view';
import { planPasses, sharesBackground, type Pass } from './plan';
import { stepFlags, type StepFlags } from './step-flags';
import { backgroundSource, type StoryEvent, type TransformerStory } from './story';
import { TrackState, type Matches } from './track-state';

export interface FrameResult {
  /** final packed latents [rows * cols, 64] */
  latents: Float32Array;
  /** every step's latents (index 0 = noise), when requested */
  trajectory?: Float32Array[];
  /** foreground mask after the full run's mask step, and after the pre-run's */
  mask: Uint8Array;
  preMask: Uint8Array;
  /** the full run's matches at the mask step */
  matches: Matches;
  preMatches: Matches;
}

export interface StoryResult {
  identity: { latents: Float32Array; trajectory?: Float32Array[]; mask: Uint8Array };
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

export interface StoryOptions {
  /** read every step's latents back (comparisons with other implementations) */
  keepTrajectories?: boolean;
  onProgress?: (progress: { pass: number; passes: number; step: number; steps: number }) => void;
}

/** Image keys, values and attention outputs [imageTokens, hidden] a producer leaves for the frames. */
interface Stash {
  keys: MatrixView;
  values: MatrixView;
  attention: MatrixView;
  imageTokens: number;
}

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
  ) {}

  static async create(gpu: GpuRuntime, config: FluxConfig): Promise<CharaConsistOps> {
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
    );
  }
}

export async function runStory(gpu: GpuRuntime, transformer: FluxTransformer, story: TransformerStory, options: StoryOptions = {}): Promise<StoryResult> {
  checkStory(transformer.config, story);
  const runner = await StoryRunner.create(gpu, transformer, story, options);
  try {
    return await runner.run();
  } finally {
    runner.release();
  }
}

class StoryRunner {
  /** each event once, although passes recompute the identity and the scene sources */
  private readonly events: StoryEvent[] = [];
  private readonly eventKeys = new Set<string>();
  private identityMask: Uint8Array | undefined;
  /** final full-run masks of the scene sources, by frame index */
  private readonly sourceMasks = new Map<number, Uint8Array>();
  private readonly preRuns = new Map<number, { mask: Uint8Array; matches: Matches }>();
  private readonly frames = new Map<number, FrameResult>();
  private identityResult: StoryResult['identity'] | undefined;

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly transformer: FluxTransformer,
    private readonly story: TransformerStory,
    private readonly options: StoryOptions,
    private readonly ops: CharaConsistOps,
    private readonly scratch: FluxScratch,
    /** [2 * maxImageTokens, hidden]: background extras then foreground extras (spec §17.1: up to 2N) */
    private readonly extraKeys: MatrixView,
    private readonly extraValues: MatrixView,
    private readonly stashes: Map<string, Stash>,
    private readonly buffers: GPUBuffer[],
  ) {}

  static async create(gpu: GpuRuntime, transformer: FluxTransformer, story: TransformerStory, options: StoryOptions): Promise<StoryRunner> {
    const { config } = transformer;
    const images = [story.identity, ...story.frames];
    const maxTokens = Math.max(...images.map((image) => tokensOf({ textTokens: image.textTokens, rows: image.rows, cols: image.cols })));
    const maxImageTokens = Math.max(...images.map((image) => image.rows * image.cols));
    const matrix = (label: string, rowCount: number) => gpu.memory.allocate(`characonsist ${label} [${rowCount}, ${config.hidden}]`, 4 * rowCount * config.hidden);
    const [extraKeys, extraValues] = await Promise.all([matrix('extra keys', 2 * maxImageTokens), matrix('extra values', 2 * maxImageTokens)]);
    const producers = [{ key: 'identity', image: story.identity }, ...story.frames.flatMap((frame, index) => (frame.updateBg ? [{ key: `frame ${index}`, image: frame }] : []))];
    const stashes = new Map<string, Stash>();
    const buffers = [extraKeys, extraValues];
    for (const { key, image } of producers) {
      const imageTokens = image.rows * image.cols;
      const [keys, values, attention] = await Promise.all(['keys', 'values', 'attention'].map((what) => matrix(`${key} ${what}`, imageTokens)));
      buffers.push(keys, values, attention);
      stashes.set(key, { keys: dense(keys, config.hidden), values: dense(values, config.hidden), attention: dense(attention, config.hidden), imageTokens });
    }
    return new StoryRunner(
      gpu, transformer, story, options, await CharaConsistOps.create(gpu, config), await FluxScratch.create(gpu, config, maxTokens),
      dense(extraKeys, config.hidden), dense(extraValues, config.hidden), stashes, buffers,
    );
  }

  async run(): Promise<StoryResult> {
    this.gpu.memory.resetPeak();
    this.reportSizeMismatches();
    const passes = planPasses(this.story);
    const passMs: number[] = [];
    for (const [index, pass] of passes.entries()) {
      const started = performance.now();
      await this.runPass(pass, index, passes.length);
      passMs.push(performance.now() - started);
    }
    return {
      identity: this.identityResult!,
      frames: this.story.frames.map((_, index) => this.frames.get(index)!),
      events: this.events,
      forwardPasses: passes.reduce((total, pass) => total + pass.tracks.length * (pass.lastStep + 1), 0),
      officialForwardPasses: this.story.schedule.steps + this.story.frames.length * (this.story.schedule.maskStep + 1 + this.story.schedule.steps),
      passMs,
      peakBytes: this.gpu.memory.peakBytes,
    };
  }

  private reportSizeMismatches(): void {
    this.story.frames.forEach((frame, index) => {
      if (this.story.shareBg && !frame.updateBg && !sharesBackground(this.story, index)) this.report({ kind: 'background-size-mismatch', frame: index });
    });
  }

  private async runPass(pass: Pass, passIndex: number, passCount: number): Promise<void> {
    const config = this.transformer.config;
    const tracks = await Promise.all(pass.tracks.map((track, i) => TrackState.create(this.gpu, config, this.story, track, `pass ${passIndex} track ${i}`)));
    try {
      for (const track of tracks) this.startTrack(track);
      const trajectories = tracks.map((track) => (this.options.keepTrajectories ? [track.image.noise.slice()] : undefined));
      for (let step = 0; step <= pass.lastStep; step++) {
        this.options.onProgress?.({ pass: passIndex, passes: passCount, step, steps: pass.lastStep + 1 });
        const flags = tracks.map((track) => stepFlags(this.story, track.track, step));
        await this.runStep(tracks, flags, step);
        await this.afterStep(tracks, flags, step, trajectories);
      }
      await this.collect(tracks, pass, trajectories);
    } finally {
      tracks.forEach((track) => track.release());
    }
  }

  /** Masks and matches a track starts with: those of its pre-run, for a full run. */
  private startTrack(track: TrackState): void {
    if (track.track.kind === 'frame' && track.track.run === 'full') {
      const pre = this.preRuns.get(track.track.frame)!;
      track.setMatches(pre.matches);
    }
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
        if (!flags[i].last) this.transformer.eulerStep(rec, track.sample, track.timesteps[step + 1] - track.timesteps[step]);
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

  /** Reads masks and matches back after the step, and records the trajectory. */
  private async afterStep(tracks: TrackState[], flags: StepFlags[], step: number, trajectories: (Float32Array[] | undefined)[]): Promise<void> {
    for (const [i, track] of tracks.entries()) {
      if (!flags[i].last) track.sample.swapLatents();
      if (flags[i].maskStats) this.updateMask(track, Uint8Array.from(await this.gpu.memory.readU32(track.cleanMask, track.imageTokens)), step);
      if (flags[i].matching) await this.updateMatches(track);
      if (trajectories[i] && !flags[i].last) trajectories[i]!.push(await this.gpu.memory.readF32(track.sample.currentLatents.buffer));
    }
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

  /** Keeps what later passes and the result need: pre-run masks and matches, source masks, finished images. */
  private async collect(tracks: TrackState[], pass: Pass, trajectories: (Float32Array[] | undefined)[]): Promise<void> {
    const complete = pass.lastStep === this.story.schedule.steps - 1;
    const latents = (track: TrackState) => this.gpu.memory.readF32(track.sample.currentLatents.buffer);
    for (const [i, track] of tracks.entries()) {
      const kind = track.track;
      if (kind.kind === 'identity') {
        if (complete) this.identityResult = { latents: await latents(track), trajectory: trajectories[i], mask: this.identityMask! };
      } else if (kind.run === 'pre') {
        this.preRuns.set(kind.frame, { mask: track.mask!, matches: track.matches! });
      } else {
        if (this.story.frames[kind.frame].updateBg) this.sourceMasks.set(kind.frame, track.mask!);
        const pre = this.preRuns.get(kind.frame)!;
        if (complete) {
          this.frames.set(kind.frame, { latents: await latents(track), trajectory: trajectories[i], mask: track.mask!, preMask: pre.mask, matches: track.matches!, preMatches: pre.matches });
        }
      }
    }
  }

  private report(event: StoryEvent): void {
    const key = JSON.stringify(event);
    if (this.eventKeys.has(key)) return;
    this.eventKeys.add(key);
    this.events.push(event);
  }

  private async record(label: string, fill: (rec: Recorder) => void): Promise<void> {
    const rec = this.gpu.recorder(label);
    fill(rec);
    await rec.submit();
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
  }
}
