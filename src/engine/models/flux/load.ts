// Opening a FLUX transformer file (GGUF or safetensors, BFL or diffusers names) onto the GPU.

import type { ByteSource } from '../../formats/byte-source';
import type { GpuRuntime } from '../../gpu/runtime';
import { fileTensors, openModelFile } from '../model-file';
import type { LoadProgress } from '../tensor-loader';
import { planFluxCheckpoint, type FluxCheckpointPlan } from './checkpoint';
import { loadFluxWeights, type FluxWeights } from './weights';

export async function loadFluxModel(gpu: GpuRuntime, source: ByteSource, onProgress?: (progress: LoadProgress) => void): Promise<{ plan: FluxCheckpointPlan; weights: FluxWeights }> {
  const file = await openModelFile(source);
  const plan = planFluxCheckpoint(source.name, fileTensors(file));
  const weights = await loadFluxWeights(gpu, file, plan, onProgress);
  await file.close();
  return { plan, weights };
}
