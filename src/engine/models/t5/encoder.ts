// The T5 v1.1 encoder on the GPU (spec/flux.md §4.1):
//   x = shared[ids]                                   (no scaling)
//   per block:  x += o(Attn(RMS(x)))
//               x += wo(gelu_tanh(wi_0 RMS(x)) ⊙ wi_1 RMS(x))
//   out = RMS(x)                                      [tokens, dModel]
// Attention is unscaled, adds block 0's relative-position bias in every block, and has no mask:
// FLUX runs T5 on the padded sequence. The residual stream and all accumulations stay f32 (T5's
// feed-forward overflows fp16). The gated product needs no buffer of its own: wi_0 writes
// gelu(wi_0 x) and wi_1's multiply epilogue multiplies it in place.

import { invalidInput } from '../../errors';
import type { Recorder } from '../../gpu/recorder';
import type { GpuRuntime } from '../../gpu/runtime';
import { AttentionOp, positionBiasColumns } from '../../ops/attention';
import { EmbeddingOp } from '../../ops/embedding';
import { LinearOp, type LinearCall } from '../../ops/linear';
import type { LinearVariant } from '../../ops/linear-config';
import { RmsNormOp } from '../../ops/norm';
import { columns, dense, type MatrixView, type VectorView } from '../../ops/view';
import type { GpuWeight, LinearWeightType } from '../../ops/weights';
import { ActivationBuffers } from '../activation-buffers';
import { positionBiasTable } from './position-bias';
import { t5NormWeight, type T5Layer, type T5Weights } from './weights';

export interface T5EncoderOptions {
  /** linear kernel variant; default 'auto' (benchmarks compare 'baseline') */
  linearVariant?: LinearVariant;
}

type ActivationName = 'ids' | 'residual' | 'normed' | 'qkv' | 'attention' | 'hidden' | 'positionBias';

interface T5Ops {
  norm: RmsNormOp;
  attention: AttentionOp;
  embedding: EmbeddingOp;
  linear: ReadonlyMap<LinearWeightType, LinearOp>;
}

export class T5Encoder {
  private activations: ActivationBuffers<ActivationName> | undefined;

  private constructor(
    private readonly gpu: GpuRuntime,
    readonly weights: T5Weights,
    private readonly ops: T5Ops,
  ) {}

  static async create(gpu: GpuRuntime, weights: T5Weights, options: T5EncoderOptions = {}): Promise<T5Encoder> {
    const { config } = weights;
    const matrices = weights.layers.flatMap((layer) => Object.values(layer));
    const types = [...new Set(matrices.map((weight) => weight.type))];
    const [norm, attention, embedding, ...linear] = await Promise.all([
      RmsNormOp.create(gpu, { groupSize: config.dModel, eps: config.eps }),
      AttentionOp.create(gpu, { headDim: config.dKv }),
      EmbeddingOp.create(gpu, { type: weights.tokenEmbedding.type }),
      ...types.map((type) => LinearOp.create(gpu, { type, variant: options.linearVariant })),
    ]);
    return new T5Encoder(gpu, weights, { norm, attention, embedding, linear: new Map(linear.map((op) => [op.type, op])) });
  }

  /** Allocates the activations for sequences of `tokens` ids and the position-bias table (encode does it; record needs it first). */
  async prepare(tokens: number): Promise<void> {
    if (this.activations?.tokens === tokens) return;
    this.release();
    const { dModel, dFf, heads } = this.weights.config;
    const inner = heads * this.weights.config.dKv;
    this.activations = await ActivationBuffers.allocate(this.gpu, 'T5', tokens, {
      ids: tokens,
      residual: tokens * dModel,
      normed: tokens * dModel,
      qkv: tokens * 3 * inner,
      attention: tokens * inner,
      hidden: tokens * dFf,
      positionBias: heads * positionBiasColumns(tokens, tokens),
    });
    this.gpu.memory.upload(this.activations.buffers.positionBias, positionBiasTable(this.weights.relativeAttentionBias, this.weights.config, tokens, tokens));
  }

  /** Records the encoder on `tokens` ids (u32) into output [tokens, dModel]; prepare(tokens) first. */
  record(rec: Recorder, ids: VectorView, tokens: number, output: MatrixView): void {
    for (const step of this.steps(ids, tokens, output)) step(rec);
  }

  /**
   * The embeddings [tokens, dModel] of padded token ids (the tokenizer's output, 512 for dev and
   * 256 for schnell). Each block is its own submission, so no command buffer runs long.
   */
  async encode(ids: Int32Array): Promise<Float32Array> {
    const { vocab, dModel } = this.weights.config;
    if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 0 || id >= vocab)) {
      throw invalidInput(`T5 token ids must be a non-empty list of integers in [0, ${vocab}).`, 'This is a bug in the app: please report it with this message.');
    }
    await this.prepare(ids.length);
    const { buffers } = this.activations!;
    this.gpu.memory.upload(buffers.ids, Uint32Array.from(ids));
    const output = dense(buffers.normed, dModel);
    for (const [index, step] of this.steps({ buffer: buffers.ids, offset: 0 }, ids.length, output).entries()) {
      const rec = this.gpu.recorder(`T5 step ${index}`);
      step(rec);
      await rec.submit();
    }
    return this.gpu.memory.readF32(buffers.normed, ids.length * dModel);
  }

  /** Frees the activations (the weights belong to the caller: releaseT5Weights). */
  release(): void {
    this.activations?.release();
    this.activations = undefined;
  }

  /** The forward pass as a list of recordings: embedding, one per block, final norm. */
  private steps(ids: VectorView, tokens: number, output: MatrixView): ((rec: Recorder) => void)[] {
    const activations = this.activations;
    if (activations?.tokens !== tokens) {
      throw invalidInput(`The T5 encoder was prepared for ${activations?.tokens ?? 'no'} tokens, not ${tokens}.`, 'This is a bug in the app: please report it with this message.');
    }
    const { weights, ops } = this;
    const residual = dense(activations.buffers.residual, weights.config.dModel);
    return [
      (rec) => ops.embedding.record(rec, { table: weights.tokenEmbedding, ids, tokens, output: residual }),
      ...weights.layers.map((layer, index) => (rec: Recorder) => this.recordBlock(rec, layer, index, activations)),
      (rec) => ops.norm.record(rec, { source: residual, target: output, rows: tokens, groupsPerRow: 1, weight: t5NormWeight(weights, 'final') }),
    ];
  }

  private recordBlock(rec: Recorder, layer: T5Layer, index: number, { tokens, buffers }: ActivationBuffers<ActivationName>): void {
    const { config } = this.weights;
    const inner = config.heads * config.dKv;
    const residual = dense(buffers.residual, config.dModel);
    const normed = dense(buffers.normed, config.dModel);
    const qkv = dense(buffers.qkv, 3 * inner);
    const attention = dense(buffers.attention, inner);
    const hidden = dense(buffers.hidden, config.dFf);
    const linear = (weight: GpuWeight, call: Omit<LinearCall, 'weight' | 'rows'>) => this.ops.linear.get(weight.type)!.record(rec, { ...call, weight, rows: tokens });
    const norm = (kind: 'attention' | 'feed-forward') =>
      this.ops.norm.record(rec, { source: residual, target: normed, rows: tokens, groupsPerRow: 1, weight: t5NormWeight(this.weights, { layer: index, kind }) });

    norm('attention');
    linear(layer.qkv, { x: normed, y: qkv });
    this.ops.attention.record(rec, {
      queries: qkv, keys: columns(qkv, inner), values: columns(qkv, 2 * inner), output: attention,
      queryCount: tokens, keyCount: tokens, heads: config.heads, scale: 1,
      positionBias: dense(buffers.positionBias, positionBiasColumns(tokens, tokens)),
    });
    linear(layer.output, { x: attention, y: residual, epilogue: { kind: 'residual' } });
    norm('feed-forward');
    linear(layer.gate, { x: normed, y: hidden, epilogue: { kind: 'gelu-tanh' } });
    linear(layer.up, { x: normed, y: hidden, epilogue: { kind: 'multiply' } });
    linear(layer.down, { x: hidden, y: residual, epilogue: { kind: 'residual' } });
  }
}
