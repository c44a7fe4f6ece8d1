// The FLUX transformer forward pass on the GPU (spec/flux.md §1), block by block, so a caller can
// interleave several samples block by block (CharaConsist's lockstep) or run one sample straight
// through. Single blocks take optional hooks — the CharaConsist interface: read q/k before RoPE,
// k/v and the attention output; supply extra keys/values with group labels; change the attention
// output before linear2. Without hooks nothing extra is recorded.

import type { Recorder } from '../../gpu/recorder';
import type { GpuRuntime } from '../../gpu/runtime';
import { AttentionOp, type AttentionExtras } from '../../ops/attention';
import { ActivationOp, AxpyOp } from '../../ops/elementwise';
import { LinearOp, type LinearEpilogue } from '../../ops/linear';
import { ModulatedLayerNormOp, RmsNormOp } from '../../ops/norm';
import { RopeOp } from '../../ops/rope';
import { dense, rows, type MatrixView } from '../../ops/view';
import type { LinearVariant } from '../../ops/linear-config';
import type { LinearWeightType } from '../../ops/weights';
import { timestepEmbedding } from './timestep';
import { imageTokensOf, tokensOf, type FluxSample, type FluxScratch } from './activations';
import { TIME_EMBED_DIM } from './config';
import type { DoubleStreamWeights, FluxWeights, LinearWeights, MlpEmbedderWeights } from './weights';

export interface SingleBlockContext {
  block: number;
  sample: FluxSample;
  /** q, k (QK-normed; rotated from `extras` on), v and the attention output, [tokens, hidden] */
  scratch: FluxScratch;
}

export interface SingleBlockHooks {
  /** q and k are normalised but not yet rotated. */
  beforeRope?(rec: Recorder, context: SingleBlockContext): void;
  /** q and k are rotated (e.g. for CharaConsist's text-attention statistics). */
  afterRope?(rec: Recorder, context: SingleBlockContext): void;
  /** Extra keys/values the attention should also see (rotated keys). */
  extras?(rec: Recorder, context: SingleBlockContext): AttentionExtras | undefined;
  /** The attention output is in scratch.attention; may be changed in place before linear2. */
  afterAttention?(rec: Recorder, context: SingleBlockContext): void;
}

export interface FluxTransformerOptions {
  /** Linear kernel variant for every layer (default 'auto'). */
  variant?: LinearVariant;
}

const EPS = 1e-6;

export class FluxTransformer {
  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly weights: FluxWeights,
    private readonly linears: ReadonlyMap<LinearWeightType, LinearOp>,
    private readonly layerNorm: ModulatedLayerNormOp,
    private readonly qkNorm: RmsNormOp,
    private readonly rope: RopeOp,
    private readonly attention: AttentionOp,
    private readonly silu: ActivationOp,
    private readonly axpy: AxpyOp,
  ) {}

  static async create(gpu: GpuRuntime, weights: FluxWeights, options: FluxTransformerOptions = {}): Promise<FluxTransformer> {
    const { config } = weights;
    const linears = await Promise.all([...weights.types].map(async (type) => [type, await LinearOp.create(gpu, { type, variant: options.variant })] as const));
    return new FluxTransformer(
      gpu,
      weights,
      new Map(linears),
      await ModulatedLayerNormOp.create(gpu, { eps: EPS }),
      await RmsNormOp.create(gpu, { groupSize: config.headDim, eps: EPS }),
      await RopeOp.create(gpu),
      await AttentionOp.create(gpu, { headDim: config.headDim }),
      await ActivationOp.create(gpu, 'silu'),
      await AxpyOp.create(gpu),
    );
  }

  get config() {
    return this.weights.config;
  }

  /**
   * vec = time_in(t) (+ guidance_in(g)) + vector_in(y), and silu(vec) for the modulations.
   * The sinusoids are computed in float64 on the CPU and written now (before the recording is
   * submitted): call once per sample per step, after the previous step's recording was submitted.
   */
  conditioning(rec: Recorder, sample: FluxSample, scratch: FluxScratch, timestep: number, guidance: number): void {
    this.gpu.memory.upload(sample.timeEmbedding, timestepEmbedding(timestep));
    const vec = dense(sample.vec, this.config.hidden);
    this.embedder(rec, this.weights.timeIn, dense(sample.timeEmbedding, TIME_EMBED_DIM), vec, scratch, { kind: 'none' });
    const add: LinearEpilogue = { kind: 'gated-residual', gate: { buffer: scratch.ones, offset: 0 } };
    if (this.weights.guidanceIn) {
      this.gpu.memory.upload(sample.guidanceEmbedding, timestepEmbedding(guidance));
      this.embedder(rec, this.weights.guidanceIn, dense(sample.guidanceEmbedding, TIME_EMBED_DIM), vec, scratch, add);
    }
    this.embedder(rec, this.weights.vectorIn, dense(sample.pooled, this.config.vecDim), vec, scratch, add);
    this.silu.record(rec, vec, dense(sample.activatedVec, this.config.hidden), 1, this.config.hidden);
  }

  /** x = [txt_in(text); img_in(latents)]. */
  embed(rec: Recorder, sample: FluxSample): void {
    const { textTokens } = sample.shape;
    this.linear(rec, this.weights.txtIn, sample.text, sample.x, textTokens);
    this.linear(rec, this.weights.imgIn, sample.currentLatents, rows(sample.x, textTokens), imageTokensOf(sample.shape));
  }

  doubleBlock(rec: Recorder, n: number, sample: FluxSample, scratch: FluxScratch): void {
    const block = this.weights.doubleBlocks[n];
    const { textTokens } = sample.shape;
    const streams = [
      { weights: block.txt, first: 0, count: textTokens, modulation: scratch.modulation[1] },
      { weights: block.img, first: textTokens, count: imageTokensOf(sample.shape), modulation: scratch.modulation[0] },
    ];
    for (const stream of streams) {
      this.modulation(rec, stream.weights.modulation, sample, stream.modulation, 6);
      this.projectQkv(rec, stream.weights, sample, scratch, stream.first, stream.count, stream.modulation);
    }
    this.rotate(rec, sample, scratch);
    this.attend(rec, sample, scratch, undefined);
    for (const stream of streams) {
      const residual = rows(sample.x, stream.first);
      const gate = (chunk: number) => ({ kind: 'gated-residual' as const, gate: { buffer: stream.modulation, offset: chunk * this.config.hidden } });
      this.linear(rec, stream.weights.proj, rows(scratch.attention, stream.first), residual, stream.count, gate(2));
      this.layerNorm.record(rec, { source: residual, target: rows(scratch.normed, stream.first), rows: stream.count, cols: this.config.hidden, modulation: this.shiftScale(stream.modulation, 3) });
      this.mlp(rec, stream.weights.mlpIn, stream.weights.mlpOut, scratch, stream.first, stream.count, residual, gate(5));
    }
  }

  singleBlock(rec: Recorder, n: number, sample: FluxSample, scratch: FluxScratch, hooks: SingleBlockHooks = {}): void {
    const block = this.weights.singleBlocks[n];
    const tokens = tokensOf(sample.shape);
    const modulation = scratch.modulation[0];
    const context: SingleBlockContext = { block: n, sample, scratch };
    this.modulation(rec, block.modulation, sample, modulation, 3);
    this.projectQkv(rec, block, sample, scratch, 0, tokens, modulation);
    hooks.beforeRope?.(rec, context);
    this.rotate(rec, sample, scratch);
    hooks.afterRope?.(rec, context);
    this.attend(rec, sample, scratch, hooks.extras?.(rec, context));
    hooks.afterAttention?.(rec, context);
    const gate: LinearEpilogue = { kind: 'gated-residual', gate: { buffer: modulation, offset: 2 * this.config.hidden } };
    // linear2(cat(attention, gelu(mlp))) = attnOut(attention) + mlpOut(gelu(mlp)), each added with the gate.
    this.linear(rec, block.attnOut, scratch.attention, sample.x, tokens, gate);
    this.mlp(rec, block.mlpIn, block.mlpOut, scratch, 0, tokens, sample.x, gate);
  }

  /** velocity = final_layer(img tokens of x). */
  finalLayer(rec: Recorder, sample: FluxSample, scratch: FluxScratch): void {
    const { textTokens } = sample.shape;
    const imageTokens = imageTokensOf(sample.shape);
    const modulation = scratch.modulation[0];
    this.modulation(rec, this.weights.finalModulation, sample, modulation, 2);
    this.layerNorm.record(rec, { source: rows(sample.x, textTokens), target: scratch.normed, rows: imageTokens, cols: this.config.hidden, modulation: this.shiftScale(modulation, 0) });
    this.linear(rec, this.weights.finalLinear, scratch.normed, sample.velocity, imageTokens);
  }

  /** next latents = current + (tNext - t) * velocity; the caller swaps them once submitted. */
  eulerStep(rec: Recorder, sample: FluxSample, dt: number): void {
    const count = imageTokensOf(sample.shape) * this.config.inChannels;
    this.axpy.record(rec, dt, sample.velocity.buffer, sample.currentLatents.buffer, sample.nextLatents.buffer, count);
  }

  /** One whole forward pass of one sample, submitted block by block (short submissions). */
  async forward(sample: FluxSample, scratch: FluxScratch, timestep: number, guidance: number, hooks: SingleBlockHooks = {}): Promise<void> {
    const run = async (label: string, record: (rec: Recorder) => void) => {
      const rec = this.gpu.recorder(label);
      record(rec);
      await rec.submit();
    };
    await run('flux embed', (rec) => {
      this.conditioning(rec, sample, scratch, timestep, guidance);
      this.embed(rec, sample);
    });
    for (let n = 0; n < this.config.doubleBlocks; n++) await run(`flux double block ${n}`, (rec) => this.doubleBlock(rec, n, sample, scratch));
    for (let n = 0; n < this.config.singleBlocks; n++) await run(`flux single block ${n}`, (rec) => this.singleBlock(rec, n, sample, scratch, hooks));
    await run('flux final layer', (rec) => this.finalLayer(rec, sample, scratch));
  }

  /** modulation chunks [chunks * hidden] = lin(silu(vec)). */
  private modulation(rec: Recorder, weights: LinearWeights, sample: FluxSample, target: GPUBuffer, chunks: number): void {
    this.linear(rec, weights, dense(sample.activatedVec, this.config.hidden), dense(target, chunks * this.config.hidden), 1);
  }

  /** shift and scale of a modulated LayerNorm: chunks `first` and `first + 1`. */
  private shiftScale(modulation: GPUBuffer, first: number) {
    return { buffer: modulation, shiftOffset: first * this.config.hidden, scaleOffset: (first + 1) * this.config.hidden };
  }

  /** normed = LN-mod(x rows), then q, k, v of those rows with their QK norm (not rotated). */
  private projectQkv(
    rec: Recorder,
    weights: Pick<DoubleStreamWeights, 'q' | 'k' | 'v' | 'queryNorm' | 'keyNorm'>,
    sample: FluxSample,
    scratch: FluxScratch,
    first: number,
    count: number,
    modulation: GPUBuffer,
  ): void {
    const h = this.config.hidden;
    const normed = rows(scratch.normed, first);
    this.layerNorm.record(rec, { source: rows(sample.x, first), target: normed, rows: count, cols: h, modulation: this.shiftScale(modulation, 0) });
    for (const [projection, view, norm] of [[weights.q, scratch.q, weights.queryNorm], [weights.k, scratch.k, weights.keyNorm], [weights.v, scratch.v, undefined]] as const) {
      const target = rows(view, first);
      this.linear(rec, projection, normed, target, count);
      if (norm) this.qkNorm.record(rec, { source: target, target, rows: count, groupsPerRow: this.config.heads, weight: norm });
    }
  }

  private rotate(rec: Recorder, sample: FluxSample, scratch: FluxScratch): void {
    const tokens = tokensOf(sample.shape);
    for (const view of [scratch.q, scratch.k]) this.rope.record(rec, { view, rows: tokens, heads: this.config.heads, table: sample.rope, at: { tableOffset: 0 } });
  }

  private attend(rec: Recorder, sample: FluxSample, scratch: FluxScratch, extras: AttentionExtras | undefined): void {
    const tokens = tokensOf(sample.shape);
    this.attention.record(rec, {
      queries: scratch.q, keys: scratch.k, values: scratch.v, output: scratch.attention,
      queryCount: tokens, keyCount: tokens, heads: this.config.heads, extras,
    });
  }

  /** residual rows += gate * mlpOut(gelu(mlpIn(normed rows))), in chunks of rows that fit one binding. */
  private mlp(rec: Recorder, mlpIn: LinearWeights, mlpOut: LinearWeights, scratch: FluxScratch, first: number, count: number, residual: MatrixView, gate: LinearEpilogue): void {
    for (let done = 0; done < count; done += scratch.mlpChunkRows) {
      const chunk = Math.min(scratch.mlpChunkRows, count - done);
      this.linear(rec, mlpIn, rows(scratch.normed, first + done), scratch.mlp, chunk, { kind: 'gelu-tanh' });
      this.linear(rec, mlpOut, scratch.mlp, rows(residual, done), chunk, gate);
    }
  }

  /** out_layer(silu(in_layer(x))) into `target` with `epilogue`. */
  private embedder(rec: Recorder, weights: MlpEmbedderWeights, input: MatrixView, target: MatrixView, scratch: FluxScratch, epilogue: LinearEpilogue): void {
    const h = this.config.hidden;
    this.linear(rec, weights.in, input, dense(scratch.embedderHidden, h), 1);
    this.silu.record(rec, dense(scratch.embedderHidden, h), dense(scratch.embedderActivated, h), 1, h);
    this.linear(rec, weights.out, dense(scratch.embedderActivated, h), target, 1, epilogue);
  }

  private linear(rec: Recorder, weights: LinearWeights, x: MatrixView, y: MatrixView, count: number, epilogue?: LinearEpilogue): void {
    this.linears.get(weights.weight.type)!.record(rec, { x, weight: weights.weight, y, rows: count, bias: weights.bias, epilogue });
  }
}
