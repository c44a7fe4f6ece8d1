// Tiny FLUX.1 VAE decoders with the real tensor names and structure (4 levels, 3 ResnetBlocks
// each, nin_shortcuts, the mid-block attention) and small channels: ch 32, so levels of 32, 64,
// 128, 128 channels (GroupNorm's 32 groups still divide them). Written as safetensors with BFL
// names (plus two encoder tensors a loader must ignore), with diffusers names, and in F16.
// Deterministic: the same seed gives the same bytes.

import { quantize } from '../../src/engine/formats/ggml-blocks';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { ATTENTION_PROJECTIONS, vaeTensorShapes, type VaeDecoderConfig } from '../../src/engine/models/vae/config';
import { diffusersVaeName, isGroupNormWeight } from '../../src/engine/models/vae/names';
import { randomTensor, type Init } from './weights';

export const TINY_VAE: VaeDecoderConfig = { channels: 32, channelMultipliers: [1, 2, 4, 4], blocksPerLevel: 3, zChannels: 16, outChannels: 3 };

/**
 * A cheaper decoder for whole-story tests (the e2e model files), where decoding dominates on a
 * software adapter: the same levels, upsamplings, mid-block attention and GroupNorms, with one
 * ResnetBlock per level and 32 channels throughout (about 8x fewer multiply-adds than TINY_VAE).
 */
export const TINY_STORY_VAE: VaeDecoderConfig = { ...TINY_VAE, channelMultipliers: [1, 1, 1, 1], blocksPerLevel: 1 };

export const TINY_VAE_SEED = 20250712;

type FloatType = 'F32' | 'F16';
type Tensors = Map<string, { shape: readonly number[]; values: Float32Array }>;

/** Part of ae.safetensors' encoder, which the decoder's loader skips. */
const ENCODER_TENSORS: [string, number[]][] = [
  ['encoder.conv_in.weight', [32, 3, 3, 3]],
  ['encoder.conv_in.bias', [32]],
];

/** Conv weights with std 1/sqrt(fan-in), GroupNorm gammas near 1.5, small biases and betas. */
function initFor(name: string, shape: readonly number[]): Init {
  if (shape.length > 1) return { kind: 'weight', fanIn: shape.slice(1).reduce((a, b) => a * b, 1) };
  return isGroupNormWeight(name) ? { kind: 'norm-scale' } : { kind: 'bias' };
}

/** Every canonical decoder tensor's values (BFL names, PyTorch shapes). */
export function tinyVaeTensors(config: VaeDecoderConfig = TINY_VAE, seed = TINY_VAE_SEED): Tensors {
  const tensors: Tensors = new Map();
  for (const [name, shape] of vaeTensorShapes(config)) {
    tensors.set(name, { shape, values: randomTensor(seed, name, shape.reduce((a, b) => a * b, 1), initFor(name, shape)) });
  }
  return tensors;
}

function encode(entries: Iterable<[string, { shape: readonly number[]; values: Float32Array }]>, dtype: FloatType): Uint8Array[] {
  return encodeSafetensors([...entries].map(([name, { shape, values }]) => ({ name, dtype, shape: [...shape], bytes: quantize(dtype, values) })), { format: 'pt' });
}

/** BFL names, as ae.safetensors, with two encoder tensors in front. */
export function tinyVaeBfl(dtype: FloatType, config: VaeDecoderConfig = TINY_VAE, seed = TINY_VAE_SEED): Uint8Array[] {
  const encoder = ENCODER_TENSORS.map(([name, shape]): [string, { shape: number[]; values: Float32Array }] => [
    name, { shape, values: randomTensor(seed, name, shape.reduce((a, b) => a * b, 1), initFor(name, shape)) },
  ]);
  return encode([...encoder, ...tinyVaeTensors(config, seed)], dtype);
}

/** Diffusers AutoencoderKL names, with the attention's 1x1 conv weights squeezed to [out, in]. */
export function tinyVaeDiffusers(dtype: FloatType, config: VaeDecoderConfig = TINY_VAE, seed = TINY_VAE_SEED): Uint8Array[] {
  const levels = config.channelMultipliers.length;
  const squeezed = new Set(ATTENTION_PROJECTIONS.map((projection) => `decoder.mid.attn_1.${projection}.weight`));
  const entries = [...tinyVaeTensors(config, seed)].map(([name, tensor]): [string, typeof tensor] => [
    diffusersVaeName(name, levels),
    squeezed.has(name) ? { ...tensor, shape: tensor.shape.slice(0, 2) } : tensor,
  ]);
  return encode(entries, dtype);
}

/** The files make-tiny-models writes. */
export function tinyVaeFiles(): [string, Uint8Array[]][] {
  return [
    ['vae-tiny-f32.safetensors', tinyVaeBfl('F32')],
    ['vae-tiny-f16.safetensors', tinyVaeBfl('F16')],
    ['vae-tiny-diffusers-f32.safetensors', tinyVaeDiffusers('F32')],
  ];
}
