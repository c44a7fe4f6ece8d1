// From the tensor list of a T5 encoder file (city96's GGUF or Hugging Face safetensors) to a
// validated plan: config, the file tensor behind each canonical tensor, and the types the engine
// can compute on. K-quant files are refused here, before anything is read or allocated.

import { modelFileError } from '../../errors';
import { ggmlType, type GgmlTypeName } from '../../formats/ggml-types';
import { isLinearWeightType } from '../../ops/weights';
import { planCheckpoint, requireConsistent, requireSharedType, type CheckpointPlan, type ModelDescription } from '../checkpoint-plan';
import { fileTensors, type FileTensor, type ModelFile } from '../model-file';
import { inferT5Config, T5_TOKENIZER_VOCABULARY, T5_WORDS, t5TensorShapes, type T5Config } from './config';
import { canonicalT5Name, t5BlockTensor } from './names';

export type T5CheckpointPlan = CheckpointPlan<T5Config>;

const T5_MODEL: ModelDescription<T5Config> = {
  ...T5_WORDS,
  canonicalName: canonicalT5Name,
  inferConfig: inferT5Config,
  tensorShapes: t5TensorShapes,
};

/** city96's smallest T5 file without K-quants, offered when a K-quant file is refused. */
export const T5_FILE_TO_CHOOSE = 't5-v1_1-xxl-encoder-Q8_0.gguf';

const FLOAT_TYPES: readonly GgmlTypeName[] = ['F32', 'F16', 'BF16'];

export function planT5Checkpoint(fileName: string, fileTensors: readonly FileTensor[]): T5CheckpointPlan {
  const plan = planCheckpoint(fileName, fileTensors, T5_MODEL);
  for (const [canonical, tensor] of plan.tensors) checkType(fileName, canonical, tensor);
  for (let block = 0; block < plan.config.layers; block++) {
    const qkv = ['attn_q', 'attn_k', 'attn_v'].map((projection) => plan.tensors.get(t5BlockTensor(block, projection))!);
    requireSharedType(fileName, qkv, `Choose city96's ${T5_FILE_TO_CHOOSE}.`);
  }
  // After the types: a K-quant file is better refused for its type, whatever else is wrong.
  const { vocab } = plan.config;
  requireConsistent(vocab >= T5_TOKENIZER_VOCABULARY, fileName, () => `the token table has ${vocab} rows, but the tokenizer gives ids up to ${T5_TOKENIZER_VOCABULARY - 1}`, T5_WORDS);
  return plan;
}

/** Matrices the linear kernels read (and the embedding table) keep their type; the rest is read as f32. */
function checkType(fileName: string, canonical: string, tensor: FileTensor): void {
  const onCpu = tensor.shape.length === 1 || canonical.endsWith('.attn_rel_b.weight');
  if (onCpu ? FLOAT_TYPES.includes(tensor.type) : isLinearWeightType(tensor.type)) return;
  if (ggmlType(tensor.type).kQuant) {
    throw modelFileError(
      fileName,
      `tensor ${tensor.name} is ${tensor.type}, a K-quant, which this app does not compute on yet`,
      `Choose city96's ${T5_FILE_TO_CHOOSE} (5.06 GB, the smallest T5 file this app runs) or t5-v1_1-xxl-encoder-f16.gguf.`,
    );
  }
  throw modelFileError(fileName, `tensor ${tensor.name} is ${tensor.type}, which this app cannot read there`, `Choose city96's ${T5_FILE_TO_CHOOSE}.`);
}

/** The plan of an opened file. */
export function planT5File(file: ModelFile): T5CheckpointPlan {
  return planT5Checkpoint(file.name, fileTensors(file));
}
