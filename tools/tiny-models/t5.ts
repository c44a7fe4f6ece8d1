// Tiny T5 encoders with the real tensor names, the real vocabulary (32128 rows, so real tokenizer
// ids work) and the real file formats: GGUF with city96's (llama.cpp) names in F16 and Q8_0, and
// Hugging Face safetensors in F32. d_model 128 is the tiny FLUX's context width (TINY_FLUX.contextDim).
// Deterministic: the same seed gives the same bytes.

import { quantize, type QuantizableType } from '../../src/engine/formats/ggml-blocks';
import type { GgmlTypeName } from '../../src/engine/formats/ggml-types';
import { encodeGguf } from '../../src/engine/formats/gguf-writer';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { t5TensorShapes, type T5Config } from '../../src/engine/models/t5/config';
import { huggingFaceT5Name, T5_TOKEN_EMBEDDING, t5BlockTensor } from '../../src/engine/models/t5/names';
import { TINY_FLUX, TINY_SEED } from './flux';
import { randomTensor, type Init } from './weights';

/** 2 heads x 64, 2 blocks, the real vocabulary and position buckets. */
export const TINY_T5: T5Config = {
  dModel: TINY_FLUX.contextDim, heads: 2, dKv: 64, dFf: 256, layers: 2, vocab: 32128, buckets: 32, maxDistance: 128, eps: 1e-6,
};

export interface T5GgufVariant {
  /** the matrices and the token embedding */
  weights: 'F16' | 'Q8_0';
  /** norm weights (1-D) */
  vectors: 'F32' | 'F16';
  /** relative_attention_bias, which llama-quantize never quantizes */
  positionBias: 'F32' | 'F16';
}

type Tensors = Map<string, { shape: readonly number[]; values: Float32Array }>;

/** File name → bytes of every tiny T5 file, for tools/make-tiny-models.ts and the tests. */
export function tinyT5Files(config: T5Config = TINY_T5, seed = TINY_SEED): [string, Uint8Array[]][] {
  const tensors = tinyT5Tensors(config, seed);
  return [
    ['t5-tiny-f16.gguf', tinyT5Gguf({ weights: 'F16', vectors: 'F32', positionBias: 'F16' }, tensors)],
    ['t5-tiny-q8_0.gguf', tinyT5Gguf({ weights: 'Q8_0', vectors: 'F16', positionBias: 'F32' }, tensors)],
    ['t5-tiny-f32.safetensors', tinyT5Safetensors(tensors)],
  ];
}

/**
 * T5's own initialisation scales, so attention is far from uniform without 1/sqrt(d_kv): q with
 * std 1/sqrt(d_model · d_kv), embeddings and position biases with std 1, norm weights near 1.5.
 */
function initOf(config: T5Config, name: string, shape: readonly number[]): Init {
  if (shape.length === 1) return { kind: 'norm-scale' };
  if (name === T5_TOKEN_EMBEDDING || name.endsWith('.attn_rel_b.weight')) return { kind: 'weight', fanIn: 1 };
  if (name.endsWith('.attn_q.weight')) return { kind: 'weight', fanIn: config.dModel * config.dKv };
  return { kind: 'weight', fanIn: shape[1] };
}

/** Every canonical tensor's values, in canonical order. */
export function tinyT5Tensors(config: T5Config = TINY_T5, seed = TINY_SEED): Tensors {
  const tensors: Tensors = new Map();
  for (const [name, shape] of t5TensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape, values: randomTensor(seed, name, count, initOf(config, name, shape)) });
  }
  return tensors;
}

function ggufType(name: string, shape: readonly number[], variant: T5GgufVariant): QuantizableType {
  if (shape.length === 1) return variant.vectors;
  return name === t5BlockTensor(0, 'attn_rel_b') ? variant.positionBias : variant.weights;
}

/** A GGUF file of `tensors` (tinyT5Tensors) in the types of `variant`. */
export function tinyT5Gguf(variant: T5GgufVariant, tensors: Tensors): Uint8Array[] {
  return encodeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 't5encoder' }],
      ['general.quantization_version', { type: 'u32', value: 2 }],
      ['general.name', { type: 'string', value: `tiny-t5-${variant.weights.toLowerCase()}` }],
    ],
    tensors: [...tensors].map(([name, { shape, values }]) => {
      const type = ggufType(name, shape, variant);
      return { name, ne: [...shape].reverse(), type: type as GgmlTypeName, bytes: quantize(type, values) };
    }),
  });
}

/** F32 under Hugging Face names, the tied embedding saved twice (shared and encoder.embed_tokens) as some files do. */
export function tinyT5Safetensors(tensors: Tensors): Uint8Array[] {
  const named = [...tensors].map(([name, { shape, values }]) => ({
    name: huggingFaceT5Name(name), dtype: 'F32' as const, shape: [...shape], bytes: new Uint8Array(values.buffer),
  }));
  const shared = named.find((tensor) => tensor.name === 'shared.weight')!;
  return encodeSafetensors([...named, { ...shared, name: 'encoder.embed_tokens.weight' }], { format: 'pt' });
}
