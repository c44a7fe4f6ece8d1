// The FLUX transformer forward pass on the GPU (spec/flux.md §1), block by block, so a caller can
// interleave several samples block by block (CharaConsist's lockstep) or run one sample straight
// through. Single blocks take optional hooks — the CharaConsist interface: read q/k before RoPE,
// k/v and the attention output; supply extra keys/values with group labels; change the attention
// output before linear2. Without hooks nothing extra is recorded.
//
// Passes over [tokens, hidden] activations are fused where the arithmetic allows: the gated
// residual adds and GELU run in the linear kernels' epilogues, and the QK norm and RoPE are one
// pass (separate only when a beforeRope hook must see the normalised, unrotated q and k). Every
// linear dispatch is tagged with its layer's role, so a profiled run shows where the time goes
// (timeline.ts).

import type { KernelTiming } from '../../gpu/profiler';
import type { Recorder } from '../../gpu/recorder';
import type { GpuRuntime } from '../../gpu/runtime';
import { ScratchBuffer } from '../../gpu/scratch-buffer';
import { AttentionOp, type AttentionExtras, type AttentionOptions } from '../../ops/attention';
import { ActivationOp, AxpyOp } from '../../ops/elementwise';
import { LinearOp, type LinearCall, type LinearEpilogue } from '../../ops/linear';
import { ModulatedLayerNormOp, RmsNormOp } from '../../ops/norm';
import { QkNormRopeOp } from '../../ops/qk-norm-rope';
import { isQuantized, quantizedActivationsLayout, quantizedRows, type QuantizedActivations } from '../../ops/quantize-activations';
import { RopeOp } from '../../ops/rope';
import { dense, rows, type MatrixView } from '../../ops/view';
import type { LinearVariant } from '../../ops/linear-config';
import { isBlockQuantized, type LinearWeightType } from '../../ops/weights';
import { timestepEmbedding } from './timestep';
import { imageTokensOf, tokensOf, type FluxSample, type FluxScratch } from './activations';
import { TIME_EMBED_DIM } from './config';
import type { DoubleStreamWeights, FluxWeights, LinearWeights, MlpEmbedderWeights, SingleBlockWeights } from './weights';

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

/**
 * 'exact': f32 activations everywhere. 'fast': the blocks' linear layers whose weights are
 * block-quantized (Q4_0, Q8_0, …) multiply int8-quantized activations (dot4I8Packed), where the
 * adapter has the WGSL language feature packed_4x8_integer_dot_product; the embedders, the final
 * layer and the modulation linears always stay exact (W8A8 studies of FLUX find them sensitive).
 */
export type FluxPrecision = 'exact' | 'fast';

/** What each linear layer does in the model: the timeline's rows and the int8 quality report. */
export type LinearRole = 'qkv' | 'proj' | 'mlp up' | 'mlp down' | 'modulation' | 'embedders' | 'final';
export const LINEAR_ROLES: readonly LinearRole[] = ['qkv', 'proj', 'mlp up', 'mlp down', 'modulation', 'embedders', 'final'];

/** The tag the recorder gives a linear layer's dispatches. */
export const linearTag = (role: LinearRole) => `linear ${role}`;

export interface ProbedLinear {
  role: LinearRole;
  /** where in the model: 'conditioning', 'embed', 'double 3 img', 'single 12', 'final' */
  block: string;
  call: LinearCall;
}

export interface FluxTransformerOptions {
  /** Linear kernel variant of the exact layers (default 'auto'). */
  variant?: LinearVariant;
  /** default 'exact' */
  precision?: FluxPrecision;
  /** Attention kernel options (default: AttentionOp's); benchmarks time a step with other variants. */
  attention?: Omit<AttentionOptions, 'headDim'>;
  /** Sees every linear layer call right after it is recorded (benchmarks repeat them with other kernels). */
  probeLinear?: (rec: Recorder, layer: ProbedLinear) => void;
}

interface Ops {
  /** per weight type: the exact kernel, and the int8 one where 'fast' applies */
  exact: ReadonlyMap<LinearWeightType, LinearOp>;
  int8: ReadonlyMap<LinearWeightType, LinearOp>;
  layerNorm: ModulatedLayerNormOp;
  qkNorm: RmsNormOp;
  rope: RopeOp;
  qkNormRope: QkNormRopeOp;
  attention: AttentionOp;
  silu: ActivationOp;
  axpy: AxpyOp;
}

const EPS = 1e-6;

export class FluxTransformer {
  /** Int8 activations of the normalised rows, shared by the layers that read them. */
  private readonly quantizedNormed: ScratchBuffer;
  /** Where the linear calls being recorded belong (ProbedLinear.block). */
  private block = '';

  private constructor(
    private readonly gpu: GpuRuntime,
    private readonly weights: FluxWeights,
    private readonly ops: Ops,
    private readonly probe: FluxTransformerOptions['probeLinear'],
  ) {
    this.quantizedNormed = new ScratchBuffer(gpu, 'flux int8 normalised activations');
  }

  static async create(gpu: GpuRuntime, weights: FluxWeights, options: FluxTransformerOptions = {}): Promise<FluxTransformer> {
    const { config } = weights;
    const types = [...weights.types];
    const int8Types = options.precision === 'fast' && gpu.report.wgslLanguageFeatures.includes('packed_4x8_integer_dot_product') ? types.filter(isBlockQuantized) : [];
    const opsOf = (list: LinearWeightType[], variant: LinearVariant | undefined) => Promise.all(list.map(async (type) => [type, await LinearOp.create(gpu, { type, variant })] as const));
    const [exact, int8, layerNorm, qkNorm, rope, qkNormRope, attention, silu, axpy] = await Promise.all([
      opsOf(types, options.variant),
      opsOf(int8Types, 'int8'),
      ModulatedLayerNormOp.create(gpu, { eps: EPS, quantized: int8Types.length > 0 }),
      RmsNormOp.create(gpu, { groupSize: config.headDim, eps: EPS }),
      RopeOp.create(gpu),
      QkNormRopeOp.create(gpu, { eps: EPS }),
      AttentionOp.create(gpu, { ...options.attention, headDim: config.headDim }),
      ActivationOp.create(gpu, 'silu'),
      AxpyOp.create(gpu),
    ]);
    const ops = { exact: new Map(exact), int8: new Map(int8), layerNorm, qkNorm, rope, qkNormRope, attention, silu, axpy };
    return new FluxTransformer(gpu, weights, ops, options.probeLinear);
  }

  get config() {
    return this.weights.config;
  }

  /** Frees the int8 activations' scratch memory ('fast'); call once its last recording has been submitted. */
  release(): void {
    this.quantizedNormed.release();
    for (const op of this.ops.int8.values()) op.release();
  }

  /** 'fast' when some layer runs on int8 activations. */
  get precision(): FluxPrecision {
    return this.ops.int8.size > 0 ? 'fast' : 'exact';
  }

  /**
   * vec = time_in(t) (+ guidance_in(g)) + vector_in(y), and silu(vec) for the modulations.
   * The sinusoids are computed in float64 on the CPU and written now (before the recording is
   * submitted): call once per sample per step, after the previous step's recording was submitted.
   */
  conditioning(rec: Recorder, sample: FluxSample, scratch: FluxScratch, timestep: number, guidance: number): void {
    this.block = 'conditioning';
    this.gpu.memory.upload(sample.timeEmbedding, timestepEmbedding(timestep));
    const vec = dense(sample.vec, this.config.hidden);
    this.embedder(rec, this.weights.timeIn, dense(sample.timeEmbedding, TIME_EMBED_DIM), vec, scratch, { kind: 'none' });
    const add: LinearEpilogue = { kind: 'gated-residual', gate: { buffer: scratch.ones, offset: 0 } };
    if (this.weights.guidanceIn) {
      this.gpu.memory.upload(sample.guidanceEmbedding, timestepEmbedding(guidance));
      this.embedder(rec, this.weights.guidanceIn, dense(sample.guidanceEmbedding, TIME_EMBED_DIM), vec, scratch, add);
    }
    this.embedder(rec, this.weights.vectorIn, dense(sample.pooled, this.config.vecDim), vec, scratch, add);
    this.ops.silu.record(rec, vec, dense(sample.activatedVec, this.config.hidden), 1, this.config.hidden);
  }

  /** x = [txt_in(text); img_in(latents)]. */
  embed(rec: Recorder, sample: FluxSample): void {
    this.block = 'embed';
    const { textTokens } = sample.shape;
    this.linear(rec, 'embedders', this.weights.txtIn, sample.text, sample.x, textTokens);
    this.linear(rec, 'embedders', this.weights.imgIn, sample.currentLatents, rows(sample.x, textTokens), imageTokensOf(sample.shape));
  }

  doubleBlock(rec: Recorder, n: number, sample: FluxSample, scratch: FluxScratch): void {
    const block = this.weights.doubleBlocks[n];
    const { textTokens } = sample.shape;
    const streams = [
      { name: 'txt', weights: block.txt, first: 0, count: textTokens, modulation: scratch.modulation[1] },
      { name: 'img', weights: block.img, first: textTokens, count: imageTokensOf(sample.shape), modulation: scratch.modulation[0] },
    ];
    for (const stream of streams) {
      this.block = `double ${n} ${stream.name}`;
      this.modulation(rec, stream.weights.modulation, sample, stream.modulation, 6);
      this.projectQkv(rec, stream.weights, sample, scratch, stream.first, stream.count, stream.modulation, true);
    }
    this.attend(rec, sample, scratch, undefined);
    for (const stream of streams) {
      this.block = `double ${n} ${stream.name}`;
      const residual = rows(sample.x, stream.first);
      const gate = (chunk: number) => ({ kind: 'gated-residual' as const, gate: { buffer: stream.modulation, offset: chunk * this.config.hidden } });
      this.linear(rec, 'proj', stream.weights.proj, rows(scratch.attention, stream.first), residual, stream.count, gate(2));
      const normed = this.normalise(rec, residual, rows(scratch.normed, stream.first), stream.count, this.shiftScale(stream.modulation, 3), [stream.weights.mlpIn]);
      this.mlp(rec, stream.weights.mlpIn, stream.weights.mlpOut, normed, scratch, stream.count, residual, gate(5));
    }
  }

  singleBlock(rec: Recorder, n: number, sample: FluxSample, scratch: FluxScratch, hooks: SingleBlockHooks = {}): void {
    this.block = `single ${n}`;
    const block = this.weights.singleBlocks[n];
    const tokens = tokensOf(sample.shape);
    const modulation = scratch.modulation[0];
    const context: SingleBlockContext = { block: n, sample, scratch };
    this.modulation(rec, block.modulation, sample, modulation, 3);
    const normed = this.projectQkv(rec, block, sample, scratch, 0, tokens, modulation, !hooks.beforeRope);
    if (hooks.beforeRope) {
      hooks.beforeRope(rec, context);
      this.rotate(rec, sample, scratch);
    }
    hooks.afterRope?.(rec, context);
    this.attend(rec, sample, scratch, hooks.extras?.(rec, context));
    hooks.afterAttention?.(rec, context);
    const gate: LinearEpilogue = { kind: 'gated-residual', gate: { buffer: modulation, offset: 2 * this.config.hidden } };
    // linear2(cat(attention, gelu(mlp))) = attnOut(attention) + mlpOut(gelu(mlp)), each added with the gate.
    this.linear(rec, 'proj', block.attnOut, scratch.attention, sample.x, tokens, gate);
    this.mlp(rec, block.mlpIn, block.mlpOut, normed, scratch, tokens, sample.x, gate);
  }

  /** velocity = final_layer(img tokens of x). */
  finalLayer(rec: Recorder, sample: FluxSample, scratch: FluxScratch): void {
    this.block = 'final';
    const { textTokens } = sample.shape;
    const imageTokens = imageTokensOf(sample.shape);
    const modulation = scratch.modulation[0];
    this.modulation(rec, this.weights.finalModulation, sample, modulation, 2);
    this.ops.layerNorm.record(rec, { source: rows(sample.x, textTokens), target: scratch.normed, rows: imageTokens, cols: this.config.hidden, modulation: this.shiftScale(modulation, 0) });
    this.linear(rec, 'final', this.weights.finalLinear, scratch.normed, sample.velocity, imageTokens);
  }

  /** next latents = current + (tNext - t) * velocity; the caller swaps them once submitted. */
  eulerStep(rec: Recorder, sample: FluxSample, dt: number): void {
    const count = imageTokensOf(sample.shape) * this.config.inChannels;
    this.ops.axpy.record(rec, dt, sample.velocity.buffer, sample.currentLatents.buffer, sample.nextLatents.buffer, count);
  }

  /**
   * One whole forward pass of one sample, submitted block by block (short submissions). Resolves
   * once everything is submitted, with the GPU timing of every dispatch when profiling is on (then
   * only after the GPU has finished); nothing waits for the GPU between blocks.
   */
  async forward(sample: FluxSample, scratch: FluxScratch, timestep: number, guidance: number, hooks: SingleBlockHooks = {}): Promise<KernelTiming[]> {
    const submitted: Promise<KernelTiming[]>[] = [];
    const run = (label: string, record: (rec: Recorder) => void) => {
      const rec = this.gpu.recorder(label);
      record(rec);
      submitted.push(rec.submit());
    };
    run('flux embed', (rec) => {
      this.conditioning(rec, sample, scratch, timestep, guidance);
      this.embed(rec, sample);
    });
    for (let n = 0; n < this.config.doubleBlocks; n++) run(`flux double block ${n}`, (rec) => this.doubleBlock(rec, n, sample, scratch));
    for (let n = 0; n < this.config.singleBlocks; n++) run(`flux single block ${n}`, (rec) => this.singleBlock(rec, n, sample, scratch, hooks));
    run('flux final layer', (rec) => this.finalLayer(rec, sample, scratch));
    return (await Promise.all(submitted)).flat();
  }

  /** modulation chunks [chunks * hidden] = lin(silu(vec)). */
  private modulation(rec: Recorder, weights: LinearWeights, sample: FluxSample, target: GPUBuffer, chunks: number): void {
    this.linear(rec, 'modulation', weights, dense(sample.activatedVec, this.config.hidden), dense(target, chunks * this.config.hidden), 1);
  }

  /** shift and scale of a modulated LayerNorm: chunks `first` and `first + 1`. */
  private shiftScale(modulation: GPUBuffer, first: number) {
    return { buffer: modulation, shiftOffset: first * this.config.hidden, scaleOffset: (first + 1) * this.config.hidden };
  }

  /**
   * LN-mod of `count` rows of `source` for the layers `readers`: int8 activations when every reader
   * takes them, else f32 rows in `target`.
   */
  private normalise(
    rec: Recorder,
    source: MatrixView,
    target: MatrixView,
    count: number,
    modulation: { buffer: GPUBuffer; shiftOffset: number; scaleOffset: number },
    readers: LinearWeights[],
  ): MatrixView | QuantizedActivations {
    const cols = this.config.hidden;
    if (!readers.every((layer) => this.ops.int8.has(layer.weight.type))) {
      this.ops.layerNorm.record(rec, { source, target, rows: count, cols, modulation });
      return target;
    }
    const quantized = { buffer: this.quantizedNormed.get(rec, 4 * quantizedActivationsLayout(count, cols).totalWords), rows: count, cols, firstRow: 0, layoutRows: count };
    this.ops.layerNorm.recordQuantized(rec, { source, rows: count, cols, modulation, target: quantized });
    return quantized;
  }

  /**
   * normed = LN-mod(x rows), then q, k, v of those rows with their QK norm, and RoPE when `rotate`.
   * Returns the normalised rows (single blocks' MLP reads them too).
   */
  private projectQkv(
    rec: Recorder,
    weights: Pick<DoubleStreamWeights, 'q' | 'k' | 'v' | 'queryNorm' | 'keyNorm'> & Partial<Pick<SingleBlockWeights, 'mlpIn'>>,
    sample: FluxSample,
    scratch: FluxScratch,
    first: number,
    count: number,
    modulation: GPUBuffer,
    rotate: boolean,
  ): MatrixView | QuantizedActivations {
    const readers = [weights.q, weights.k, weights.v, ...(weights.mlpIn ? [weights.mlpIn] : [])];
    const normed = this.normalise(rec, rows(sample.x, first), rows(scratch.normed, first), count, this.shiftScale(modulation, 0), readers);
    const [q, k] = [rows(scratch.q, first), rows(scratch.k, first)];
    for (const [projection, view] of [[weights.q, q], [weights.k, k], [weights.v, rows(scratch.v, first)]] as const) this.linear(rec, 'qkv', projection, normed, view, count);
    const heads = this.config.heads;
    if (rotate) {
      this.ops.qkNormRope.record(rec, { queries: q, keys: k, rows: count, heads, queryScale: weights.queryNorm, keyScale: weights.keyNorm, table: sample.rope, tableOffset: first });
    } else {
      this.ops.qkNorm.record(rec, { source: q, target: q, rows: count, groupsPerRow: heads, weight: weights.queryNorm });
      this.ops.qkNorm.record(rec, { source: k, target: k, rows: count, groupsPerRow: heads, weight: weights.keyNorm });
    }
    return normed;
  }

  private rotate(rec: Recorder, sample: FluxSample, scratch: FluxScratch): void {
    const tokens = tokensOf(sample.shape);
    for (const view of [scratch.q, scratch.k]) this.ops.rope.record(rec, { view, rows: tokens, heads: this.config.heads, table: sample.rope, at: { tableOffset: 0 } });
  }

  private attend(rec: Recorder, sample: FluxSample, scratch: FluxScratch, extras: AttentionExtras | undefined): void {
    const tokens = tokensOf(sample.shape);
    this.ops.attention.record(rec, {
      queries: scratch.q, keys: scratch.k, values: scratch.v, output: scratch.attention,
      queryCount: tokens, keyCount: tokens, heads: this.config.heads, extras,
    });
  }

  /** residual rows += gate * mlpOut(gelu(mlpIn(normed rows))), in chunks of rows that fit one binding. */
  private mlp(rec: Recorder, mlpIn: LinearWeights, mlpOut: LinearWeights, normed: MatrixView | QuantizedActivations, scratch: FluxScratch, count: number, residual: MatrixView, gate: LinearEpilogue): void {
    for (let done = 0; done < count; done += scratch.mlpChunkRows) {
      const chunk = Math.min(scratch.mlpChunkRows, count - done);
      const input = isQuantized(normed) ? quantizedRows(normed, done, chunk) : rows(normed, done);
      this.linear(rec, 'mlp up', mlpIn, input, scratch.mlp, chunk, { kind: 'gelu-tanh' });
      this.linear(rec, 'mlp down', mlpOut, scratch.mlp, rows(residual, done), chunk, gate);
    }
  }

  /** out_layer(silu(in_layer(x))) into `target` with `epilogue`. */
  private embedder(rec: Recorder, weights: MlpEmbedderWeights, input: MatrixView, target: MatrixView, scratch: FluxScratch, epilogue: LinearEpilogue): void {
    const h = this.config.hidden;
    this.linear(rec, 'embedders', weights.in, input, dense(scratch.embedderHidden, h), 1);
    this.ops.silu.record(rec, dense(scratch.embedderHidden, h), dense(scratch.embedderActivated, h), 1, h);
    this.linear(rec, 'embedders', weights.out, dense(scratch.embedderActivated, h), target, 1, epilogue);
  }

  /** The blocks' layers (qkv, proj, MLP) may run on int8 activations; the others always run exact. */
  private linear(rec: Recorder, role: LinearRole, weights: LinearWeights, x: MatrixView | QuantizedActivations, y: MatrixView, count: number, epilogue?: LinearEpilogue): void {
    const type = weights.weight.type;
    const inBlock = role === 'qkv' || role === 'proj' || role === 'mlp up' || role === 'mlp down';
    const op = (inBlock ? this.ops.int8.get(type) : undefined) ?? this.ops.exact.get(type)!;
    const call: LinearCall = { x, weight: weights.weight, y, rows: count, bias: weights.bias, epilogue };
    rec.tagged(linearTag(role), () => op.record(rec, call));
    this.probe?.(rec, { role, block: this.block, call });
  }
}
