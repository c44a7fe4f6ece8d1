// From the tensor list of a CLIP text encoder file to a validated plan: config, the file tensor
// behind each canonical tensor, and types the engine can compute on.

import { modelFileError } from '../../errors';
import type { GgmlTypeName } from '../../formats/ggml-types';
import { quoted } from '../../formats/model-file-errors';
import { isLinearWeightType } from '../../ops/weights';
import { planCheckpoint, requireSharedType, type CheckpointPlan } from '../checkpoint-plan';
import { fileTensors, type FileTensor, type ModelFile } from '../model-file';
import { CLIP_WORDS, clipTensorShapes, inferClipConfig, type ClipConfig } from './config';
import { canonicalClipName, CLIP_POSITION_EMBEDDING, clipLayerTensor } from './names';

export type ClipCheckpointPlan = CheckpointPlan<ClipConfig>;

const FLOAT_TYPES: readonly GgmlTypeName[] = ['F32', 'F16', 'BF16'];
const CHOOSE_CLIP_L = "Choose FLUX's clip_l.safetensors (F16).";

/** `heads`: the head count when the file states it (shapes do not tell); else heads of 64. */
export function planClipCheckpoint(fileName: string, fileTensors: readonly FileTensor[], heads?: number): ClipCheckpointPlan {
  const plan = planCheckpoint(fileName, fileTensors, {
    ...CLIP_WORDS,
    canonicalName: canonicalClipName,
    inferConfig: (shapeOf, name) => inferClipConfig(shapeOf, name, heads),
    tensorShapes: clipTensorShapes,
  });
  for (const [canonical, tensor] of plan.tensors) {
    // Matrices keep their type on the GPU; vectors and the position table are read as f32.
    const onCpu = tensor.shape.length === 1 || canonical === CLIP_POSITION_EMBEDDING;
    if (!(onCpu ? FLOAT_TYPES.includes(tensor.type) : isLinearWeightType(tensor.type))) {
      throw modelFileError(fileName, `tensor ${tensor.name} is ${tensor.type}, which this app cannot read there`, CHOOSE_CLIP_L);
    }
  }
  for (let layer = 0; layer < plan.config.layers; layer++) {
    const qkv = ['q', 'k', 'v'].map((projection) => plan.tensors.get(clipLayerTensor(layer, `self_attn.${projection}_proj`, 'weight'))!);
    requireSharedType(fileName, qkv, CHOOSE_CLIP_L);
  }
  return plan;
}

/**
 * The plan of an opened file. The head count comes from the file's `num_attention_heads`
 * metadata when present (the tiny test models), else from CLIP's head size of 64.
 */
export function planClipFile(file: ModelFile): ClipCheckpointPlan {
  const heads = 'alignment' in file ? undefined : file.metadata.num_attention_heads;
  if (heads !== undefined && !/^[1-9][0-9]{0,4}$/.test(heads)) {
    throw modelFileError(file.name, `the metadata num_attention_heads is ${quoted(heads)}, not a number of heads`, CHOOSE_CLIP_L);
  }
  return planClipCheckpoint(file.name, encoderTensors(file), heads === undefined ? undefined : Number(heads));
}

/**
 * fileTensors, without the tensors the encoder does not use: some CLIP files carry an int64
 * position_ids buffer, whose dtype fileTensors would refuse.
 */
function encoderTensors(file: ModelFile): FileTensor[] {
  if ('alignment' in file) return fileTensors(file);
  return file.tensors
    .filter((tensor) => canonicalClipName(tensor.name) !== undefined)
    .map((tensor) => {
      file.requireDtype(tensor);
      return { name: tensor.name, shape: tensor.shape, type: tensor.dtype as FileTensor['type'] };
    });
}
