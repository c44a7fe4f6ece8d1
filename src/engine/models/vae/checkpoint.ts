// From the tensor list of a VAE file (BFL ae.safetensors or a diffusers AutoencoderKL) to a
// validated plan: the decoder's config, the file tensor behind each canonical tensor, and only
// float types. Encoder tensors are ignored.

import { modelFileError } from '../../errors';
import type { GgmlTypeName } from '../../formats/ggml-types';
import { planCheckpoint, type CheckpointPlan, type ModelDescription } from '../checkpoint-plan';
import type { FileTensor } from '../model-file';
import { ATTENTION_PROJECTIONS, decoderLayout, inferVaeConfig, VAE_WORDS, vaeTensorShapes, type VaeDecoderConfig } from './config';
import { canonicalVaeName, diffusersVaeLevels, isDiffusersVaeName } from './names';

export type VaeCheckpointPlan = CheckpointPlan<VaeDecoderConfig>;

const FLOAT_TYPES: readonly GgmlTypeName[] = ['F32', 'F16', 'BF16'];

export function planVaeCheckpoint(fileName: string, fileTensors: readonly FileTensor[]): VaeCheckpointPlan {
  const names = fileTensors.map((tensor) => tensor.name);
  const diffusers = names.some(isDiffusersVaeName);
  const levels = diffusersVaeLevels(names);
  const model: ModelDescription<VaeDecoderConfig> = {
    ...VAE_WORDS,
    canonicalName: (name) => canonicalVaeName(name, levels),
    inferConfig: inferVaeConfig,
    tensorShapes: diffusers ? diffusersShapes : vaeTensorShapes,
  };
  const plan = planCheckpoint(fileName, fileTensors, model);
  for (const tensor of plan.tensors.values()) {
    if (!FLOAT_TYPES.includes(tensor.type)) throw modelFileError(fileName, `tensor ${tensor.name} is ${tensor.type}; the VAE must be F32, F16 or BF16`, VAE_WORDS.action);
  }
  const { prefix } = decoderLayout(plan.config).mid.attention;
  const qkvTypes = new Set(['q', 'k', 'v'].map((projection) => plan.tensors.get(`${prefix}.${projection}.weight`)!.type));
  if (qkvTypes.size > 1) throw modelFileError(fileName, `the attention's q, k and v weights have different types (${[...qkvTypes].join(', ')}); they must share one`, VAE_WORDS.action);
  return plan;
}

/** Diffusers stores the attention's 1x1 conv weights squeezed to [out, in]. */
function diffusersShapes(config: VaeDecoderConfig): Map<string, readonly number[]> {
  const shapes = vaeTensorShapes(config);
  const { prefix } = decoderLayout(config).mid.attention;
  for (const projection of ATTENTION_PROJECTIONS) {
    const name = `${prefix}.${projection}.weight`;
    shapes.set(name, shapes.get(name)!.slice(0, 2));
  }
  return shapes;
}
