// The weights file of a model, whatever its format: GGUF (city96's quantized FLUX and T5) or
// safetensors (diffusers checkpoints, CLIP-L, the VAE), seen as a list of named tensors with a
// PyTorch-order shape and a ggml type (safetensors' F32/F16/BF16 have the same bytes as ggml's).

import type { ByteSource } from '../formats/byte-source';
import type { GgmlTypeName } from '../formats/ggml-types';
import { readGguf, type GgufFile } from '../formats/gguf';
import { readSafetensors, type SafetensorsFile } from '../formats/safetensors';

export type ModelFile = GgufFile | SafetensorsFile;

export interface FileTensor {
  name: string;
  /** PyTorch order: [out, in] for weights (GGUF's ne reversed). */
  shape: readonly number[];
  type: GgmlTypeName;
}

/** Opens a model file; GGUF when the name ends in .gguf, safetensors otherwise. */
export function openModelFile(source: ByteSource): Promise<ModelFile> {
  return /\.gguf$/i.test(source.name) ? readGguf(source) : readSafetensors(source);
}

/** The file's tensors; safetensors dtypes other than F32/F16/BF16 are refused here. */
export function fileTensors(file: ModelFile): FileTensor[] {
  if ('alignment' in file) return file.tensors.map((t) => ({ name: t.name, shape: [...t.ne].reverse(), type: t.type.name }));
  return file.tensors.map((t) => {
    file.requireDtype(t);
    return { name: t.name, shape: t.shape, type: t.dtype as GgmlTypeName };
  });
}
