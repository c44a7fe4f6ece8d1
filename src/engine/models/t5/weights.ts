// A T5 encoder's weights on the GPU, loaded from a model file through the generic loader: every
// matrix as a GpuWeight in its file type (q, k and v of a block stacked into one), the norm
// weights as one f32 buffer, and block 0's relative-position bias kept on the CPU, where the
// attention's bias table is built from it.

import type { ByteSource } from '../../formats/byte-source';
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuWeight } from '../../ops/weights';
import type { VectorView } from '../../ops/view';
import { openModelFile, type ModelFile } from '../model-file';
import { PlacementPlan } from '../placement-plan';
import { HostVector, uploadHostVector, type LoadProgress } from '../tensor-loader';
import { planT5File } from './checkpoint';
import type { T5Config } from './config';
import { T5_OUTPUT_NORM, T5_TOKEN_EMBEDDING, t5BlockTensor } from './names';

export interface T5Layer {
  /** q, k, v stacked: [3 · heads · dKv, dModel] */
  qkv: GpuWeight;
  /** o [dModel, heads · dKv] */
  output: GpuWeight;
  /** wi_0 [dFf, dModel], through GELU */
  gate: GpuWeight;
  /** wi_1 [dFf, dModel] */
  up: GpuWeight;
  /** wo [dModel, dFf] */
  down: GpuWeight;
}

export interface T5Weights {
  config: T5Config;
  /** shared [vocab, dModel] */
  tokenEmbedding: GpuWeight;
  /** block 0's relative_attention_bias [buckets, heads], shared by every layer */
  relativeAttentionBias: Float32Array;
  layers: T5Layer[];
  /** f32 [2 · layers + 1, dModel]: per layer the attention and feed-forward norm weights, then the final norm's (t5NormWeight) */
  norms: GPUBuffer;
}

/** One of the RMS norms: before a layer's attention or feed-forward part, or the final one. */
export type T5Norm = { layer: number; kind: 'attention' | 'feed-forward' } | 'final';

/** Row of the norm's weight in T5Weights.norms. */
function normRow(config: T5Config, norm: T5Norm): number {
  return norm === 'final' ? 2 * config.layers : 2 * norm.layer + (norm.kind === 'attention' ? 0 : 1);
}

/** The weight [dModel] of a norm. */
export function t5NormWeight(weights: T5Weights, norm: T5Norm): VectorView {
  return { buffer: weights.norms, offset: normRow(weights.config, norm) * weights.config.dModel };
}

/** Opens a T5 encoder file (GGUF or safetensors), checks it, and streams it onto the GPU. */
export async function loadT5Weights(gpu: GpuRuntime, source: ByteSource, onProgress?: (progress: LoadProgress) => void): Promise<T5Weights> {
  const file = await openModelFile(source);
  try {
    return await loadPlanned(gpu, file, onProgress);
  } finally {
    await file.close();
  }
}

async function loadPlanned(gpu: GpuRuntime, file: ModelFile, onProgress: ((progress: LoadProgress) => void) | undefined): Promise<T5Weights> {
  const { config, tensors } = planT5File(file);
  const tensor = (name: string) => tensors.get(name)!;
  const plan = new PlacementPlan(gpu, 'T5');
  const norms = new HostVector('T5 norm weights', (2 * config.layers + 1) * config.dModel);
  const bias = new HostVector('T5 relative attention bias', config.buckets * config.heads);
  const normAt = (name: string, norm: T5Norm) => plan.vector(norms, tensor(name), normRow(config, norm) * config.dModel);
  plan.vector(bias, tensor(t5BlockTensor(0, 'attn_rel_b')), 0);
  normAt(T5_OUTPUT_NORM, 'final');
  const allocate = async () => {
    const tokenEmbedding = await plan.matrix('token embedding', [tensor(T5_TOKEN_EMBEDDING)]);
    const layers: T5Layer[] = [];
    for (let layer = 0; layer < config.layers; layer++) {
      const block = (name: string) => tensor(t5BlockTensor(layer, name));
      normAt(t5BlockTensor(layer, 'attn_norm'), { layer, kind: 'attention' });
      normAt(t5BlockTensor(layer, 'ffn_norm'), { layer, kind: 'feed-forward' });
      layers.push({
        qkv: await plan.matrix(`block ${layer} qkv`, [block('attn_q'), block('attn_k'), block('attn_v')]),
        output: await plan.matrix(`block ${layer} o`, [block('attn_o')]),
        gate: await plan.matrix(`block ${layer} wi_0`, [block('ffn_gate')]),
        up: await plan.matrix(`block ${layer} wi_1`, [block('ffn_up')]),
        down: await plan.matrix(`block ${layer} wo`, [block('ffn_down')]),
      });
    }
    return { tokenEmbedding, layers };
  };
  const { tokenEmbedding, layers } = await plan.load(file, allocate, onProgress);
  return { config, tokenEmbedding, relativeAttentionBias: bias.values, layers, norms: await uploadHostVector(gpu, norms) };
}

/** Frees the weights' GPU memory (before the transformer is loaded). */
export function releaseT5Weights(gpu: GpuRuntime, weights: T5Weights): void {
  weights.tokenEmbedding.release();
  for (const layer of weights.layers) for (const weight of Object.values(layer)) weight.release();
  gpu.memory.release(weights.norms);
}
