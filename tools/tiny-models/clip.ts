// Tiny CLIP text encoders with the real tensor names, the real vocabulary (49408 rows, so real
// tokenizer ids work), 77 positions and the real file format (safetensors): hidden 64 is the tiny
// FLUX's pooled width (TINY_FLUX.vecDim). One file in F32 with bare Hugging Face names, one in F16
// under a ComfyUI-style prefix with the tensors real files carry beside the encoder (int64
// position_ids, text_projection, logit_scale). Shapes do not give the head count, so both files
// state it in their metadata. Deterministic: the same seed gives the same bytes.

import { quantize } from '../../src/engine/formats/ggml-blocks';
import { encodeSafetensors, type SafetensorsTensorInput } from '../../src/engine/formats/safetensors-writer';
import { clipTensorShapes, type ClipConfig } from '../../src/engine/models/clip/config';
import { CLIP_POSITION_EMBEDDING, CLIP_TOKEN_EMBEDDING } from '../../src/engine/models/clip/names';
import { TINY_FLUX, TINY_SEED } from './flux';
import { randomTensor, type Init } from './weights';

/** 2 heads x 32, 2 layers, MLP 128, the real vocabulary and positions. */
export const TINY_CLIP: ClipConfig = { hidden: TINY_FLUX.vecDim, heads: 2, headDim: 32, layers: 2, mlp: 128, vocab: 49408, positions: 77, eps: 1e-5 };

/** Prefix of the CLIP-L tensors in ComfyUI's combined checkpoints. */
const COMFY_PREFIX = 'text_encoders.clip_l.transformer.';

/** File name → bytes of every tiny CLIP file, for tools/make-tiny-models.ts and the tests. */
export function tinyClipFiles(config: ClipConfig = TINY_CLIP, seed = TINY_SEED): [string, Uint8Array[]][] {
  return [
    ['clip-l-tiny-f32.safetensors', tinyClipSafetensors('F32', config, seed)],
    ['clip-l-tiny-f16.safetensors', tinyClipSafetensors('F16', config, seed)],
  ];
}

/** Embeddings of unit scale, weights with std 1/sqrt(fan_in), LayerNorm weights near 1.5 and small biases. */
function initOf(name: string, shape: readonly number[]): Init {
  if (name === CLIP_TOKEN_EMBEDDING) return { kind: 'weight', fanIn: 1 };
  if (name === CLIP_POSITION_EMBEDDING) return { kind: 'weight', fanIn: 4 };
  if (shape.length === 2) return { kind: 'weight', fanIn: shape[1] };
  return /layer_norm\d?\.weight$/.test(name) ? { kind: 'norm-scale' } : { kind: 'bias' };
}

/** Every canonical tensor's values, in canonical order. */
export function tinyClipTensors(config: ClipConfig = TINY_CLIP, seed = TINY_SEED): Map<string, { shape: readonly number[]; values: Float32Array }> {
  const tensors = new Map<string, { shape: readonly number[]; values: Float32Array }>();
  for (const [name, shape] of clipTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape, values: randomTensor(seed, name, count, initOf(name, shape)) });
  }
  return tensors;
}

export function tinyClipSafetensors(dtype: 'F32' | 'F16', config: ClipConfig = TINY_CLIP, seed = TINY_SEED): Uint8Array[] {
  const prefix = dtype === 'F16' ? COMFY_PREFIX : '';
  const tensors: SafetensorsTensorInput[] = [...tinyClipTensors(config, seed)].map(([name, { shape, values }]) => ({
    name: prefix + name, dtype, shape: [...shape], bytes: quantize(dtype, values),
  }));
  if (dtype === 'F16') tensors.push(...unusedTensors(config));
  return encodeSafetensors(tensors, { format: 'pt', num_attention_heads: String(config.heads) });
}

/** What real CLIP files hold beside the text encoder, which the loader must skip. */
function unusedTensors(config: ClipConfig): SafetensorsTensorInput[] {
  const positionIds = new BigInt64Array(config.positions).map((_, i) => BigInt(i));
  return [
    { name: `${COMFY_PREFIX}text_model.embeddings.position_ids`, dtype: 'I64', shape: [1, config.positions], bytes: new Uint8Array(positionIds.buffer) },
    { name: `${COMFY_PREFIX}text_projection.weight`, dtype: 'F16', shape: [config.hidden, config.hidden], bytes: new Uint8Array(2 * config.hidden * config.hidden) },
    { name: 'text_encoders.clip_l.logit_scale', dtype: 'F32', shape: [], bytes: new Uint8Array(new Float32Array([4.6052]).buffer) },
  ];
}
