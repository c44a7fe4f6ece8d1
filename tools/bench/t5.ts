// The T5 encoder suite ('t5'): T5 v1.1 XXL at full size with random Q8_0 weights made on the GPU
// (no 5 GB file needed), one encode of a 512-token prompt (FLUX dev's padded length), the 'auto'
// linear kernels against 'baseline'. --quick: a narrow two-block model on 32 tokens.

import { ggmlType, rowBytes } from '../../src/engine/formats/ggml-types';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { T5Config } from '../../src/engine/models/t5/config';
import { T5Encoder, type T5EncoderOptions } from '../../src/engine/models/t5/encoder';
import type { T5Weights } from '../../src/engine/models/t5/weights';
import { dense } from '../../src/engine/ops/view';
import type { LinearWeightType } from '../../src/engine/ops/weights';
import type { BenchBuffers } from './bench-buffers';
import { benchEncoder, type PreparedEncoder } from './encoder-bench';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

const TYPE: LinearWeightType = 'Q8_0';

export const XXL: T5Config = { dModel: 4096, heads: 64, dKv: 64, dFf: 10240, layers: 24, vocab: 32128, buckets: 32, maxDistance: 128, eps: 1e-6 };
const FULL = { config: XXL, tokens: 512 };
export const QUICK = { config: { ...XXL, dModel: 128, heads: 2, dFf: 256, layers: 2 }, tokens: 32 };

/** Multiply-adds × 2: the projections and feed-forward, and q·kᵀ and p·v of every head. */
function t5Flops({ dModel, heads, dKv, dFf, layers }: T5Config, tokens: number): number {
  const inner = heads * dKv;
  return layers * (2 * tokens * (4 * dModel * inner + 3 * dModel * dFf) + 4 * tokens * tokens * inner);
}

/** Every matrix once at its stored size, the embedding rows gathered, ids and output. */
function t5Bytes({ dModel, heads, dKv, dFf, layers }: T5Config, tokens: number): number {
  const inner = heads * dKv;
  const stored = (rows: number, cols: number) => rows * rowBytes(ggmlType(TYPE), cols)!;
  return layers * (stored(4 * inner, dModel) + stored(3 * dFf, dModel)) + stored(tokens, dModel) + 4 * tokens * (1 + dModel);
}

export async function randomT5Weights(buffers: BenchBuffers, config: T5Config): Promise<T5Weights> {
  const { dModel, dFf } = config;
  const inner = config.heads * config.dKv;
  const matrix = (label: string, rows: number, cols: number, magnitude = 1 / Math.sqrt(cols)) => buffers.weight(`T5 ${label}`, TYPE, rows, cols, magnitude);
  const tokenEmbedding = await matrix('token embedding', config.vocab, dModel, 1);
  const layers = [];
  for (let layer = 0; layer < config.layers; layer++) {
    layers.push({
      qkv: await matrix(`block ${layer} qkv`, 3 * inner, dModel),
      output: await matrix(`block ${layer} o`, dModel, inner),
      gate: await matrix(`block ${layer} wi_0`, dFf, dModel),
      up: await matrix(`block ${layer} wi_1`, dFf, dModel),
      down: await matrix(`block ${layer} wo`, dModel, dFf),
    });
  }
  const norms = new Float32Array((2 * config.layers + 1) * dModel).fill(1);
  const relativeAttentionBias = Float32Array.from({ length: config.buckets * config.heads }, (_, i) => Math.sin(i));
  return { config, tokenEmbedding, relativeAttentionBias, layers, norms: await buffers.upload('T5 norms', new Uint32Array(norms.buffer)) };
}

async function preparedEncoder(gpu: GpuRuntime, weights: T5Weights, tokens: number, options: T5EncoderOptions, buffers: BenchBuffers): Promise<PreparedEncoder> {
  const encoder = await T5Encoder.create(gpu, weights, options);
  await encoder.prepare(tokens);
  const ids = await buffers.upload('T5 ids', Uint32Array.from({ length: tokens }, (_, t) => (t * 7919) % weights.config.vocab));
  const output = dense(await buffers.output('T5 output', 4 * tokens * weights.config.dModel), weights.config.dModel);
  return { record: (rec) => encoder.record(rec, { buffer: ids, offset: 0 }, tokens, output), release: () => encoder.release() };
}

async function run(gpu: GpuRuntime, options: BenchOptions): Promise<BenchRow[]> {
  const { config, tokens } = options.quick ? QUICK : FULL;
  return benchEncoder(gpu, options, {
    group: 't5',
    name: `T5 encoder ${TYPE.toLowerCase()} ${config.layers} blocks d=${config.dModel} ff=${config.dFf} L=${tokens}`,
    flops: t5Flops(config, tokens),
    bytes: t5Bytes(config, tokens),
    weights: (buffers) => randomT5Weights(buffers, config),
    encoder: (weights, variant, buffers) => preparedEncoder(gpu, weights, tokens, { linearVariant: variant }, buffers),
  });
}

export const t5Suite: BenchSuite = {
  name: 't5',
  description: `T5 v1.1 XXL encoder (random ${TYPE} weights), one encode of ${FULL.tokens} tokens, against baseline linear kernels`,
  run,
};
