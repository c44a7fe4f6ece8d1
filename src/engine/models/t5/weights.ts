// A T5 encoder's weights on the GPU, loaded from a model file through the generic loader: every
// matrix as a GpuWeight in its file type (q, k and v of a block stacked into one), the norm
// weights as one f32 buffer, and block 0's relative-position bias kept on the CPU, where the
// attention's bias table is built from it.

import type { GpuRuntime } from '../../gpu/runtime';
import { GpuWeight, type LinearWeightType } from '../../ops/weights';
import type { VectorView } from '../../ops/view';
import type { FileTensor, ModelFile } from '../model-file';
import { fileTensors } from '../model-file';
import { HostVector, loadPlacements, uploadHostVector, type LoadProgress, type Placement } from '../tensor-loader';
import { planT5Checkpoint } from './checkpoint';
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

/** Plans, allocates and streams a T5 encoder file onto the GPU. */
export async function loadT5Weights(gpu: GpuRuntime, file: ModelFile, onProgress?: (progress: LoadProgress) => void): Promise<T5Weights> {
  const { config, tensors } = planT5Checkpoint(file.name, fileTensors(file));
  const tensor = (name: string) => tensors.get(name)!;
  const placements: Placement[] = [];
  const allocated: GpuWeight[] = [];
  const matrix = async (label: string, sources: FileTensor[]): Promise<GpuWeight> => {
    const cols = sources[0].shape[1];
    const rows = sources.reduce((sum, source) => sum + source.shape[0], 0);
    const weight = await GpuWeight.create(gpu, `T5 ${label}`, sources[0].type as LinearWeightType, rows, cols);
    allocated.push(weight);
    let at = 0;
    for (const source of sources) {
      placements.push({ source: source.name, target: weight, rows: [0, source.shape[0]], cols: [0, cols], at });
      at += source.shape[0];
    }
    return weight;
  };
  const vectorInto = (target: HostVector, source: FileTensor, at: number) => {
    const [rows, cols] = source.shape.length === 1 ? [1, source.shape[0]] : source.shape;
    placements.push({ source: source.name, target, rows: [0, rows], cols: [0, cols], at });
  };

  const norms = new HostVector('T5 norm weights', (2 * config.layers + 1) * config.dModel);
  const bias = new HostVector('T5 relative attention bias', config.buckets * config.heads);
  vectorInto(bias, tensor(t5BlockTensor(0, 'attn_rel_b')), 0);
  vectorInto(norms, tensor(T5_OUTPUT_NORM), normRow(config, 'final') * config.dModel);
  try {
    const tokenEmbedding = await matrix('token embedding', [tensor(T5_TOKEN_EMBEDDING)]);
    const layers: T5Layer[] = [];
    for (let layer = 0; layer < config.layers; layer++) {
      const block = (name: string) => tensor(t5BlockTensor(layer, name));
      vectorInto(norms, block('attn_norm'), normRow(config, { layer, kind: 'attention' }) * config.dModel);
      vectorInto(norms, block('ffn_norm'), normRow(config, { layer, kind: 'feed-forward' }) * config.dModel);
      layers.push({
        qkv: await matrix(`block ${layer} qkv`, [block('attn_q'), block('attn_k'), block('attn_v')]),
        output: await matrix(`block ${layer} o`, [block('attn_o')]),
        gate: await matrix(`block ${layer} wi_0`, [block('ffn_gate')]),
        up: await matrix(`block ${layer} wi_1`, [block('ffn_up')]),
        down: await matrix(`block ${layer} wo`, [block('ffn_down')]),
      });
    }
    await loadPlacements(file, placements, onProgress);
    return { config, tokenEmbedding, relativeAttentionBias: bias.values, layers, norms: await uploadHostVector(gpu, norms) };
  } catch (error) {
    // Out of memory or a damaged file halfway: nothing stays allocated.
    for (const weight of allocated) weight.release();
    throw error;
  }
}

/** Frees the weights' GPU memory (before the transformer is loaded). */
export function releaseT5Weights(gpu: GpuRuntime, weights: T5Weights): void {
  weights.tokenEmbedding.release();
  for (const layer of weights.layers) for (const weight of Object.values(layer)) weight.release();
  gpu.memory.release(weights.norms);
}
