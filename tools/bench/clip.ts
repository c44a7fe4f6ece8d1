// The CLIP text encoder suite ('clip'): CLIP-L at full size with random F16 weights made on the
// GPU, one encode of a 77-token prompt (EOS at the last position, so every position runs), the
// 'auto' linear kernels against 'baseline'. --quick: a narrow one-layer model.

import { ggmlType, rowBytes } from '../../src/engine/formats/ggml-types';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { ClipConfig } from '../../src/engine/models/clip/config';
import { ClipTextEncoder, type ClipEncoderOptions } from '../../src/engine/models/clip/encoder';
import { clipVectorLayout, type ClipWeights } from '../../src/engine/models/clip/weights';
import type { LinearWeightType } from '../../src/engine/ops/weights';
import type { BenchBuffers } from './bench-buffers';
import { benchEncoder, type PreparedEncoder } from './encoder-bench';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

const TYPE: LinearWeightType = 'F16';
const TOKENS = 77;

export const CLIP_L: ClipConfig = { hidden: 768, heads: 12, headDim: 64, layers: 12, mlp: 3072, vocab: 49408, positions: 77, eps: 1e-5 };
export const QUICK: ClipConfig = { ...CLIP_L, hidden: 128, heads: 2, layers: 1, mlp: 256 };

/** Multiply-adds × 2: the projections and MLP, and q·kᵀ and p·v under the causal mask (about half of them). */
function clipFlops({ hidden, mlp, layers }: ClipConfig, tokens: number): number {
  return layers * (2 * tokens * (4 * hidden * hidden + 2 * hidden * mlp) + 2 * tokens * (tokens + 1) * hidden);
}

/** Every matrix once at its stored size, the embedding rows gathered, ids and output. */
function clipBytes({ hidden, mlp, layers }: ClipConfig, tokens: number): number {
  const stored = (rows: number, cols: number) => rows * rowBytes(ggmlType(TYPE), cols)!;
  return layers * (stored(4 * hidden, hidden) + stored(mlp, hidden) + stored(hidden, mlp)) + stored(tokens, hidden) + 4 * (tokens + hidden);
}

export async function randomClipWeights(buffers: BenchBuffers, config: ClipConfig): Promise<ClipWeights> {
  const { hidden, mlp } = config;
  const matrix = (label: string, rows: number, cols: number, magnitude = 1 / Math.sqrt(cols)) => buffers.weight(`CLIP ${label}`, TYPE, rows, cols, magnitude);
  const tokenEmbedding = await matrix('token embedding', config.vocab, hidden, 1);
  const layers = [];
  for (let layer = 0; layer < config.layers; layer++) {
    layers.push({
      qkv: await matrix(`layer ${layer} qkv`, 3 * hidden, hidden),
      output: await matrix(`layer ${layer} out_proj`, hidden, hidden),
      fc1: await matrix(`layer ${layer} fc1`, mlp, hidden),
      fc2: await matrix(`layer ${layer} fc2`, hidden, mlp),
    });
  }
  // LayerNorm weights 1, every bias 0; positions of unit size.
  const layout = clipVectorLayout(config);
  const vectors = new Float32Array(layout.length);
  for (let layer = 0; layer < config.layers; layer++) for (const norm of [layout.layer(layer).norm1, layout.layer(layer).norm2]) vectors.fill(1, norm.weight, norm.weight + hidden);
  vectors.fill(1, layout.finalNorm.weight, layout.finalNorm.weight + hidden);
  const positions = Float32Array.from({ length: config.positions * hidden }, (_, i) => Math.sin(i));
  return {
    config, tokenEmbedding, layers,
    positionEmbedding: await buffers.upload('CLIP positions', new Uint32Array(positions.buffer)),
    vectors: await buffers.upload('CLIP biases and norms', new Uint32Array(vectors.buffer)),
  };
}

async function preparedEncoder(gpu: GpuRuntime, weights: ClipWeights, options: ClipEncoderOptions, buffers: BenchBuffers): Promise<PreparedEncoder> {
  const encoder = await ClipTextEncoder.create(gpu, weights, options);
  await encoder.prepare(TOKENS);
  const ids = await buffers.upload('CLIP ids', Uint32Array.from({ length: TOKENS }, (_, t) => (t === TOKENS - 1 ? 49407 : (t * 7919) % weights.config.vocab)));
  const pooled = await buffers.output('CLIP pooled', 4 * weights.config.hidden);
  return { record: (rec) => encoder.record(rec, { buffer: ids, offset: 0 }, TOKENS, { buffer: pooled, offset: 0 }), release: () => encoder.release() };
}

async function run(gpu: GpuRuntime, options: BenchOptions): Promise<BenchRow[]> {
  const config = options.quick ? QUICK : CLIP_L;
  return benchEncoder(gpu, options, {
    group: 'clip',
    name: `CLIP text encoder ${TYPE.toLowerCase()} ${config.layers} layers d=${config.hidden} mlp=${config.mlp} L=${TOKENS}`,
    flops: clipFlops(config, TOKENS),
    bytes: clipBytes(config, TOKENS),
    weights: (buffers) => randomClipWeights(buffers, config),
    encoder: (weights, variant, buffers) => preparedEncoder(gpu, weights, { linearVariant: variant }, buffers),
  });
}

export const clipSuite: BenchSuite = {
  name: 'clip',
  description: `CLIP-L text encoder (random ${TYPE} weights), one encode of ${TOKENS} tokens, against baseline linear kernels`,
  run,
};
