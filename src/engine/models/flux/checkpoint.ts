// From the tensor list of a checkpoint file (GGUF with BFL names or safetensors with diffusers
// names) to a plan: the inferred config, and for each canonical tensor the file tensors that fill
// it and the row at which each lands. Everything is validated before a byte of data is read.

import { modelFileError } from '../../errors';
import { ggmlType, type GgmlTypeName } from '../../formats/ggml-types';
import { isLinearWeightType } from '../../ops/weights';
import type { FileTensor } from '../model-file';
import { fluxTensorShapes, inferFluxConfig, type FluxConfig } from './config';
import { canonicalFluxName } from './names';

export interface TensorSource {
  file: FileTensor;
  /** First row of the canonical tensor this source fills. */
  rowOffset: number;
  /** Write the source's two row halves in swapped order. */
  swapHalves: boolean;
}

export interface CanonicalTensor {
  name: string;
  shape: readonly number[];
  /** All sources share one type (a split tensor with mixed types is refused). */
  type: GgmlTypeName;
  sources: TensorSource[];
}

export interface FluxCheckpointPlan {
  config: FluxConfig;
  tensors: Map<string, CanonicalTensor>;
  /** File tensors that are not part of the FLUX transformer (reported, not loaded). */
  ignored: string[];
}

export function planFluxCheckpoint(fileName: string, fileTensors: readonly FileTensor[]): FluxCheckpointPlan {
  const groups = new Map<string, { file: FileTensor; part: number; parts: number; swapHalves: boolean }[]>();
  const ignored: string[] = [];
  for (const file of fileTensors) {
    const target = canonicalFluxName(file.name);
    if (!target) {
      ignored.push(file.name);
      continue;
    }
    const group = groups.get(target.canonical) ?? [];
    if (group.some((entry) => entry.part === target.part)) {
      throw modelFileError(fileName, `tensor ${target.canonical} appears twice (again as ${file.name})`, 'This file is not a valid FLUX.1 checkpoint; choose another file.');
    }
    group.push({ file, ...target });
    groups.set(target.canonical, group);
  }

  const tensors = new Map<string, CanonicalTensor>();
  for (const [name, group] of groups) tensors.set(name, assemble(fileName, name, group));
  const config = inferFluxConfig((name) => tensors.get(name)?.shape, fileName);
  checkShapes(fileName, config, tensors);
  checkTypes(fileName, tensors);
  return { config, tensors, ignored };
}

/** Matrices keep their type on the GPU, where the linear kernels read it; vectors are decoded on the CPU. */
function checkTypes(fileName: string, tensors: Map<string, CanonicalTensor>): void {
  for (const tensor of tensors.values()) {
    if (tensor.shape.length === 1 || isLinearWeightType(tensor.type)) continue;
    throw modelFileError(
      fileName,
      `tensor ${tensor.name} is ${tensor.type}${ggmlType(tensor.type).kQuant ? ', a K-quant,' : ''} which this app does not compute on`,
      "Choose a FLUX.1 file quantized as Q4_0, Q4_1, Q5_0, Q5_1 or Q8_0, or stored as F16, BF16 or F32 (for example city96's flux1-dev-Q4_0.gguf).",
    );
  }
}

function assemble(fileName: string, name: string, group: { file: FileTensor; part: number; parts: number; swapHalves: boolean }[]): CanonicalTensor {
  const parts = group[0].parts;
  const ordered = [...group].sort((a, b) => a.part - b.part);
  if (ordered.length !== parts) {
    throw modelFileError(fileName, `tensor ${name} is split into ${parts} parts but ${ordered.length} are present`, 'The file is incomplete: download it again.');
  }
  const [first] = ordered;
  const cols = first.file.shape.slice(1);
  let rowOffset = 0;
  const sources = ordered.map(({ file, swapHalves }) => {
    if (file.shape.length === 0) throw modelFileError(fileName, `tensor ${file.name} has no dimensions, but ${name} is a vector or a matrix`, 'This file is not a valid FLUX.1 checkpoint; choose another file.');
    if (file.type !== first.file.type || file.shape.slice(1).join() !== cols.join()) {
      throw modelFileError(fileName, `the parts of ${name} (${file.name}) disagree in type or width`, 'This checkpoint layout is not supported.');
    }
    const source = { file, rowOffset, swapHalves };
    rowOffset += file.shape[0];
    return source;
  });
  return { name, shape: [rowOffset, ...cols], type: first.file.type, sources };
}

function checkShapes(fileName: string, config: FluxConfig, tensors: Map<string, CanonicalTensor>): void {
  const expected = fluxTensorShapes(config);
  for (const [name, shape] of expected) {
    const actual = tensors.get(name);
    if (!actual) throw modelFileError(fileName, `tensor ${name} is missing`, 'The file is incomplete or not a FLUX.1 transformer: download it again or choose another file.');
    if (actual.shape.join() !== shape.join()) {
      throw modelFileError(fileName, `tensor ${name} has shape [${actual.shape.join(', ')}], expected [${shape.join(', ')}]`, 'This file does not match the FLUX.1 architecture; choose another file.');
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw modelFileError(fileName, `unexpected tensor ${name}`, 'This file does not match the FLUX.1 architecture; choose another file.');
  }
}
