// The CLIP-L text encoder on the GPU, up to FLUX's pooled vector y (spec/flux.md §4.2):
//   x = token_embedding[ids] + position_embedding[0..tokens)
//   per layer:  x += out_proj(CausalAttn(LN1(x)))          (scale 1/sqrt(headDim))
//               x += fc2(quick_gelu(fc1(LN2(x))))
//   y = final_layer_norm(x)[EOS]
// The causal mask means no row sees the ids after it, so the encoder runs only the ids up to and
// including the EOS and normalises only that last row.

import { invalidInput } from '../../errors';
import type { Recorder } from '../../gpu/recorder';
import type { GpuRuntime } from '../../gpu/runtime';
import { AttentionOp } from '../../ops/attention';
import { AxpyOp } from '../../ops/elementwise';
import { EmbeddingOp } from '../../ops/embedding';
import { LinearOp, type LinearCall } from '../../ops/linear';
import type { LinearVariant } from '../../ops/linear-config';
import { LayerNormOp } from '../../ops/norm';
import { columns, dense, rows, type MatrixView, type VectorView } from '../../ops/view';
import type { GpuWeight, LinearWeightType } from '../../ops/weights';
import type { Encoding } from '../../text/tokenizer';
import { ActivationBuffers } from '../activation-buffers';
import { clipVectorLayout, type ClipLayer, type ClipVectorLayout, type ClipWeights } from './weights';

export interface ClipEncoderOptions {
  /** linear kernel variant; default 'auto' (benchmarks compare 'baseline') */
  linearVariant?: LinearVariant;
}

type ActivationName = 'ids' | 'residual' | 'normed' | 'qkv' | 'attention' | 'hidden' | 'pooled';

interface ClipOps {
  norm: LayerNormOp;
  attention: AttentionOp;
  embedding: EmbeddingOp;
  addPositions: AxpyOp;
  linear: ReadonlyMap<LinearWeightType, LinearOp>;
}

const REPORT = 'This is a bug in the app: please report it with this message.';

export class ClipTextEncoder {
  private activations: ActivationBuffers<ActivationName> | undefined;
  private readonly vectorLayout: ClipVectorLayout;

  private constructor(
    private readonly gpu: GpuRuntime,
    readonly weights: ClipWeights,
    private readonly ops: ClipOps,
  ) {
    this.vectorLayout = clipVectorLayout(weights.config);
  }

  static async create(gpu: GpuRuntime, weights: ClipWeights, options: ClipEncoderOptions = {}): Promise<ClipTextEncoder> {
    const { config } = weights;
    const types = [...new Set(weights.layers.flatMap((layer) => Object.values(layer)).map((weight) => weight.type))];
    const [norm, attention, embedding, addPositions, ...linear] = await Promise.all([
      LayerNormOp.create(gpu, { eps: config.eps }),
      AttentionOp.create(gpu, { headDim: config.headDim }),
      EmbeddingOp.create(gpu, { type: weights.tokenEmbedding.type }),
      AxpyOp.create(gpu),
      ...types.map((type) => LinearOp.create(gpu, { type, variant: options.linearVariant })),
    ]);
    return new ClipTextEncoder(gpu, weights, { norm, attention, embedding, addPositions, linear: new Map(linear.map((op) => [op.type, op])) });
  }

  /** Allocates the activations for `tokens` ids (encode does it; record needs it first). */
  async prepare(tokens: number): Promise<void> {
    if (this.activations?.tokens === tokens) return;
    this.release();
    const { hidden, mlp } = this.weights.config;
    this.activations = await ActivationBuffers.allocate(this.gpu, 'CLIP', tokens, {
      ids: tokens,
      residual: tokens * hidden,
      normed: tokens * hidden,
      qkv: tokens * 3 * hidden,
      attention: tokens * hidden,
      hidden: tokens * mlp,
      pooled: hidden,
    });
  }

  /**
   * Records the encoder on `tokens` ids (u32) and writes the final hidden state of the last one
   * into pooled [hidden]: pass the ids up to and including the EOS. prepare(tokens) first.
   */
  record(rec: Recorder, ids: VectorView, tokens: number, pooled: VectorView): void {
    const activations = this.activations;
    if (activations?.tokens !== tokens) throw invalidInput(`The CLIP encoder was prepared for ${activations?.tokens ?? 'no'} tokens, not ${tokens}.`, REPORT);
    this.recordEmbeddings(rec, ids, activations);
    this.weights.layers.forEach((layer, index) => this.recordLayer(rec, layer, index, activations));
    const { hidden } = this.weights.config;
    const last = rows(dense(activations.buffers.residual, hidden), tokens - 1);
    const { weight, bias } = this.vectorLayout.finalNorm;
    this.ops.norm.record(rec, {
      source: last, target: { ...pooled, stride: hidden }, rows: 1, cols: hidden,
      affine: { buffer: this.weights.vectors, weightOffset: weight, biasOffset: bias },
    });
  }

  /** FLUX's y [hidden]: the final hidden state at the EOS of a tokenizer encoding (77 ids, EOS at `length`). */
  async encode(encoding: Encoding): Promise<Float32Array> {
    const { vocab, positions, hidden } = this.weights.config;
    const tokens = encoding.length + 1;
    if (!Number.isInteger(encoding.length) || tokens > Math.min(encoding.ids.length, positions) || encoding.ids.some((id) => !Number.isInteger(id) || id < 0 || id >= vocab)) {
      throw invalidInput(`A CLIP encoding needs ids in [0, ${vocab}) and its EOS within the first ${positions}.`, REPORT);
    }
    await this.prepare(tokens);
    const { buffers } = this.activations!;
    this.gpu.memory.upload(buffers.ids, Uint32Array.from(encoding.ids.subarray(0, tokens)));
    const rec = this.gpu.recorder('CLIP text encoder');
    this.record(rec, { buffer: buffers.ids, offset: 0 }, tokens, { buffer: buffers.pooled, offset: 0 });
    await rec.submit();
    return this.gpu.memory.readF32(buffers.pooled, hidden);
  }

  /** Frees the activations (the weights belong to the caller: releaseClipWeights). */
  release(): void {
    this.activations?.release();
    this.activations = undefined;
  }

  private recordEmbeddings(rec: Recorder, ids: VectorView, { tokens, buffers }: ActivationBuffers<ActivationName>): void {
    const { hidden } = this.weights.config;
    this.ops.embedding.record(rec, { table: this.weights.tokenEmbedding, ids, tokens, output: dense(buffers.normed, hidden) });
    this.ops.addPositions.record(rec, 1, buffers.normed, this.weights.positionEmbedding, buffers.residual, tokens * hidden);
  }

  private recordLayer(rec: Recorder, layer: ClipLayer, index: number, { tokens, buffers }: ActivationBuffers<ActivationName>): void {
    const { hidden, heads, headDim, mlp } = this.weights.config;
    const vectors = this.vectorLayout.layer(index);
    const residual = dense(buffers.residual, hidden);
    const normed = dense(buffers.normed, hidden);
    const qkv = dense(buffers.qkv, 3 * hidden);
    const attention = dense(buffers.attention, hidden);
    const bias = (offset: number): VectorView => ({ buffer: this.weights.vectors, offset });
    const linear = (weight: GpuWeight, call: Omit<LinearCall, 'weight' | 'rows'>) => this.ops.linear.get(weight.type)!.record(rec, { ...call, weight, rows: tokens });
    const norm = (target: MatrixView, parameters: { weight: number; bias: number }) =>
      this.ops.norm.record(rec, { source: residual, target, rows: tokens, cols: hidden, affine: { buffer: this.weights.vectors, weightOffset: parameters.weight, biasOffset: parameters.bias } });

    norm(normed, vectors.norm1);
    linear(layer.qkv, { x: normed, y: qkv, bias: bias(vectors.qkvBias) });
    this.ops.attention.record(rec, {
      queries: qkv, keys: columns(qkv, hidden), values: columns(qkv, 2 * hidden), output: attention,
      queryCount: tokens, keyCount: tokens, heads, scale: 1 / Math.sqrt(headDim), causal: true,
    });
    linear(layer.output, { x: attention, y: residual, bias: bias(vectors.outputBias), epilogue: { kind: 'residual' } });
    norm(normed, vectors.norm2);
    linear(layer.fc1, { x: normed, y: dense(buffers.hidden, mlp), bias: bias(vectors.fc1Bias), epilogue: { kind: 'quick-gelu' } });
    linear(layer.fc2, { x: dense(buffers.hidden, mlp), y: residual, bias: bias(vectors.fc2Bias), epilogue: { kind: 'residual' } });
  }
}
