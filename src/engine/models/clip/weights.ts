// A CLIP text encoder's weights on the GPU, loaded from a model file through the generic loader:
// every matrix as a GpuWeight in its file type (q, k and v of a layer stacked into one), the
// position table as f32, and every bias and LayerNorm parameter in one f32 buffer
// (clipVectorLayout says where).

import type { ByteSource } from '../../formats/byte-source';
import type { GpuRuntime } from '../../gpu/runtime';
import type { GpuWeight } from '../../ops/weights';
import { openModelFile, type ModelFile } from '../model-file';
import { PlacementPlan } from '../placement-plan';
import { HostVector, uploadHostVector, type LoadProgress } from '../tensor-loader';
import { planClipFile } from './checkpoint';
import type { ClipConfig } from './config';
import { CLIP_POSITION_EMBEDDING, CLIP_TOKEN_EMBEDDING, clipFinalNorm, clipLayerTensor } from './names';

export interface ClipLayer {
  /** q, k, v stacked: [3 · hidden, hidden] */
  qkv: GpuWeight;
  /** out_proj [hidden, hidden] */
  output: GpuWeight;
  /** [mlp, hidden] */
  fc1: GpuWeight;
  /** [hidden, mlp] */
  fc2: GpuWeight;
}

export interface ClipWeights {
  config: ClipConfig;
  /** [vocab, hidden] */
  tokenEmbedding: GpuWeight;
  /** f32 [positions, hidden] */
  positionEmbedding: GPUBuffer;
  layers: ClipLayer[];
  /** f32: every bias and LayerNorm parameter, placed as clipVectorLayout says */
  vectors: GPUBuffer;
}

/** Element offsets of a layer's 1-D parameters in ClipWeights.vectors. */
export interface ClipLayerVectors {
  norm1: { weight: number; bias: number };
  /** q, k, v biases stacked [3 · hidden] */
  qkvBias: number;
  outputBias: number;
  norm2: { weight: number; bias: number };
  fc1Bias: number;
  fc2Bias: number;
}

export interface ClipVectorLayout {
  layer(index: number): ClipLayerVectors;
  finalNorm: { weight: number; bias: number };
  /** elements */
  length: number;
}

export function clipVectorLayout({ hidden, mlp, layers }: ClipConfig): ClipVectorLayout {
  const stride = 9 * hidden + mlp;
  const finalNorm = layers * stride;
  return {
    layer: (index) => {
      const base = index * stride;
      return {
        norm1: { weight: base, bias: base + hidden },
        qkvBias: base + 2 * hidden,
        outputBias: base + 5 * hidden,
        norm2: { weight: base + 6 * hidden, bias: base + 7 * hidden },
        fc1Bias: base + 8 * hidden,
        fc2Bias: base + 8 * hidden + mlp,
      };
    },
    finalNorm: { weight: finalNorm, bias: finalNorm + hidden },
    length: finalNorm + 2 * hidden,
  };
}

/** Opens a CLIP text encoder file (safetensors, or GGUF with the same names), checks it, and streams it onto the GPU. */
export async function loadClipWeights(gpu: GpuRuntime, source: ByteSource, onProgress?: (progress: LoadProgress) => void): Promise<ClipWeights> {
  const file = await openModelFile(source);
  try {
    return await loadPlanned(gpu, file, onProgress);
  } finally {
    await file.close();
  }
}

async function loadPlanned(gpu: GpuRuntime, file: ModelFile, onProgress: ((progress: LoadProgress) => void) | undefined): Promise<ClipWeights> {
  const { config, tensors } = planClipFile(file);
  const tensor = (name: string) => tensors.get(name)!;
  const layout = clipVectorLayout(config);
  const plan = new PlacementPlan(gpu, 'CLIP');
  const vectors = new HostVector('CLIP biases and norms', layout.length);
  const positions = new HostVector('CLIP position embedding', config.positions * config.hidden);
  const vectorAt = (name: string, at: number) => plan.vector(vectors, tensor(name), at);
  plan.vector(positions, tensor(CLIP_POSITION_EMBEDDING), 0);
  vectorAt(clipFinalNorm('weight'), layout.finalNorm.weight);
  vectorAt(clipFinalNorm('bias'), layout.finalNorm.bias);
  const allocate = async () => {
    const tokenEmbedding = await plan.matrix('token embedding', [tensor(CLIP_TOKEN_EMBEDDING)]);
    const layers: ClipLayer[] = [];
    for (let index = 0; index < config.layers; index++) {
      const name = (module: string, parameter: 'weight' | 'bias') => clipLayerTensor(index, module, parameter);
      const projections = ['q', 'k', 'v'].map((projection) => `self_attn.${projection}_proj`);
      const at = layout.layer(index);
      vectorAt(name('layer_norm1', 'weight'), at.norm1.weight);
      vectorAt(name('layer_norm1', 'bias'), at.norm1.bias);
      projections.forEach((projection, part) => vectorAt(name(projection, 'bias'), at.qkvBias + part * config.hidden));
      vectorAt(name('self_attn.out_proj', 'bias'), at.outputBias);
      vectorAt(name('layer_norm2', 'weight'), at.norm2.weight);
      vectorAt(name('layer_norm2', 'bias'), at.norm2.bias);
      vectorAt(name('mlp.fc1', 'bias'), at.fc1Bias);
      vectorAt(name('mlp.fc2', 'bias'), at.fc2Bias);
      layers.push({
        qkv: await plan.matrix(`layer ${index} qkv`, projections.map((projection) => tensor(name(projection, 'weight')))),
        output: await plan.matrix(`layer ${index} out_proj`, [tensor(name('self_attn.out_proj', 'weight'))]),
        fc1: await plan.matrix(`layer ${index} fc1`, [tensor(name('mlp.fc1', 'weight'))]),
        fc2: await plan.matrix(`layer ${index} fc2`, [tensor(name('mlp.fc2', 'weight'))]),
      });
    }
    return { tokenEmbedding, layers };
  };
  const { tokenEmbedding, layers } = await plan.load(file, allocate, onProgress);
  return { config, tokenEmbedding, layers, positionEmbedding: await uploadHostVector(gpu, positions), vectors: await uploadHostVector(gpu, vectors) };
}

/** Frees the weights' GPU memory. */
export function releaseClipWeights(gpu: GpuRuntime, weights: ClipWeights): void {
  weights.tokenEmbedding.release();
  for (const layer of weights.layers) for (const weight of Object.values(layer)) weight.release();
  gpu.memory.release(weights.positionEmbedding);
  gpu.memory.release(weights.vectors);
}
