// Tiny FLUX transformers with the real tensor names, the real head_dim 128 and the real file
// formats, written as a GGUF per weight type (BFL names, city96's type policy) and as
// safetensors (diffusers names). Deterministic: the same seed gives the same bytes.

import { f32ToBf16, f32ToF16, quantize, type QuantizableType } from '../../src/engine/formats/ggml-blocks';
import type { GgmlTypeName } from '../../src/engine/formats/ggml-types';
import { encodeGguf } from '../../src/engine/formats/gguf-writer';
import { encodeSafetensors, type SafetensorsTensorInput } from '../../src/engine/formats/safetensors-writer';
import { fluxTensorShapes, type FluxConfig } from '../../src/engine/models/flux/config';
import { diffusersNamesFor } from '../../src/engine/models/flux/names';
import { initFor, randomTensor } from './weights';

/** 2 heads x 128, 2 double + 4 single blocks (two even, two odd for CharaConsist), MLP ratio 2. */
export const TINY_FLUX: FluxConfig = {
  hidden: 256, heads: 2, headDim: 128, doubleBlocks: 2, singleBlocks: 4, mlpHidden: 512,
  inChannels: 64, contextDim: 128, vecDim: 64, guidance: true, axesDim: [16, 56, 56], theta: 10000,
};

/**
 * A smaller model for whole-story tests, which run dozens of forward passes on a software
 * adapter: one double block, and two single blocks (one even: foreground sharing and token merge;
 * one odd: background sharing only).
 */
export const TINY_STORY_FLUX: FluxConfig = { ...TINY_FLUX, doubleBlocks: 1, singleBlocks: 2, mlpHidden: 256 };

export const TINY_SEED = 20250711;

/**
 * The RoPE frequency pairs the legible story model's image queries use: pair k of an axis turns by
 * 10000^(-2k/56) rad per token (k = 1: 0.72 rad along rows; k = 2: 0.52 rad along columns).
 */
const LEGIBLE_QUERY_PAIRS = { row: 1, col: 2 };
/** The query norm's scale: text-attention logits of about +-40, so each image token reads mostly one prompt token. */
const LEGIBLE_QUERY_SCALE = 4;

/**
 * The tiny story model with single blocks that read the prompt legibly, so that prompt-level
 * stories get the foreground masks and point matches the studio shows (random weights give
 * speckled text attention, which the 3x3 erosion wipes out). Every single block's image query is
 * one fixed vector (linear1's query rows zero, its bias set) in one row and one column frequency
 * pair of RoPE: rotated by each token's position, it sweeps smoothly over the grid, so
 * neighbouring tokens attend to the same prompt token, and the mask is made of regions, each
 * foreground or background by the span of the prompt token that wins it. Keys and values stay
 * random: the attention outputs of tokens that read the same words are alike, which is what
 * point matching measures. Which regions win is decided by the prompt: test/e2e/stories.ts holds
 * a story checked to give mixed masks and valid matches.
 */
export function tinyLegibleStoryTensors(config: FluxConfig = TINY_STORY_FLUX): Tensors {
  const tensors = tinyFluxTensors(config);
  const [timeAxis, rowAxis] = config.axesDim;
  const queryDims = [timeAxis + 2 * LEGIBLE_QUERY_PAIRS.row, timeAxis + rowAxis + 2 * LEGIBLE_QUERY_PAIRS.col];
  for (let n = 0; n < config.singleBlocks; n++) {
    const block = (name: string) => tensors.get(`single_blocks.${n}.${name}`)!.values;
    const queryRows = config.hidden;
    block('linear1.weight').fill(0, 0, queryRows * config.hidden);
    const bias = block('linear1.bias').fill(0, 0, queryRows);
    for (let head = 0; head < config.heads; head++) for (const dim of queryDims) bias[head * config.headDim + dim] = 1;
    block('norm.query_norm.scale').fill(LEGIBLE_QUERY_SCALE);
  }
  return tensors;
}

/** Tensors under these prefixes are never quantized by city96's converter (spec/flux.md §5.2). */
const UNQUANTIZED_PREFIXES = ['img_in.', 'txt_in.', 'time_in.', 'vector_in.', 'guidance_in.', 'final_layer.'];

export interface GgufVariant {
  /** type of the quantized 2-D weights */
  weights: QuantizableType;
  /** type of 1-D tensors: F32 in current files, F16 in city96's day-one legacy files */
  vectors: 'F32' | 'F16';
}

/** The type city96's converter gives a tensor. */
function typeOf(name: string, shape: readonly number[], variant: GgufVariant): QuantizableType {
  if (shape.length === 1) return variant.vectors;
  if (UNQUANTIZED_PREFIXES.some((prefix) => name.startsWith(prefix))) return variant.weights === 'F32' ? 'F32' : 'F16';
  return variant.weights;
}

type Tensors = Map<string, { shape: readonly number[]; values: Float32Array }>;

/** File name -> bytes of every tiny FLUX file, for tools/make-tiny-models.ts. */
export function tinyFluxFiles(): [string, Uint8Array[]][] {
  const dev = tinyFluxTensors();
  return [
    ['flux-tiny-f32.gguf', tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, TINY_FLUX, dev)],
    ['flux-tiny-f16.gguf', tinyFluxGguf({ weights: 'F16', vectors: 'F32' }, TINY_FLUX, dev)],
    // city96's day-one Q8_0 files keep 1-D tensors in F16; newer files use F32.
    ['flux-tiny-q8_0.gguf', tinyFluxGguf({ weights: 'Q8_0', vectors: 'F16' }, TINY_FLUX, dev)],
    ['flux-tiny-q4_0.gguf', tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, TINY_FLUX, dev)],
    ['flux-tiny-schnell-f32.gguf', tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, { ...TINY_FLUX, guidance: false })],
    ['flux-tiny-diffusers-f32.safetensors', tinyFluxSafetensors('F32', TINY_FLUX, dev)],
  ];
}

/** Every canonical tensor's values, in BFL order. */
export function tinyFluxTensors(config: FluxConfig = TINY_FLUX, seed = TINY_SEED): Tensors {
  const tensors: Tensors = new Map();
  for (const [name, shape] of fluxTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape, values: randomTensor(seed, name, count, initFor(name, shape)) });
  }
  return tensors;
}

export function tinyFluxGguf(variant: GgufVariant, config: FluxConfig = TINY_FLUX, values: Tensors = tinyFluxTensors(config)): Uint8Array[] {
  const tensors = [...values].map(([name, { shape, values }]) => {
    const type = typeOf(name, shape, variant);
    return { name, ne: [...shape].reverse(), type: type as GgmlTypeName, bytes: quantize(type, values) };
  });
  return encodeGguf({
    metadata: [
      ['general.architecture', { type: 'string', value: 'flux' }],
      ['general.quantization_version', { type: 'u32', value: 2 }],
      ['general.name', { type: 'string', value: `tiny-flux-${variant.weights.toLowerCase()}` }],
    ],
    tensors,
  });
}

/** Diffusers layout: fused projections split into parts, the final modulation's halves swapped. */
export function tinyFluxSafetensors(dtype: 'F32' | 'F16' | 'BF16', config: FluxConfig = TINY_FLUX, tensors: Tensors = tinyFluxTensors(config)): Uint8Array[] {
  const out: SafetensorsTensorInput[] = [];
  for (const [name, { shape, values }] of tensors) {
    const cols = shape.length === 2 ? shape[1] : 1;
    const parts = diffusersNamesFor(name);
    let row = 0;
    for (const { name: diffusersName, target } of parts) {
      const rows = partRows(config, name, shape[0], target.part, target.parts);
      let part = values.subarray(row * cols, (row + rows) * cols);
      if (target.swapHalves) part = swapRowHalves(part, rows, cols);
      out.push({ name: diffusersName, dtype, shape: shape.length === 2 ? [rows, cols] : [rows], bytes: encodeFloats(dtype, part) });
      row += rows;
    }
  }
  return encodeSafetensors(out, { format: 'pt' });
}

/** linear1 splits into q, k, v (hidden rows each) and the MLP input; qkv into three equal parts. */
function partRows(config: FluxConfig, name: string, rows: number, part: number, parts: number): number {
  if (name.includes('.linear1.')) return part < 3 ? config.hidden : config.mlpHidden;
  return rows / parts;
}

function swapRowHalves(values: Float32Array, rows: number, cols: number): Float32Array {
  const half = (rows / 2) * cols;
  const swapped = new Float32Array(values.length);
  swapped.set(values.subarray(half), 0);
  swapped.set(values.subarray(0, half), half);
  return swapped;
}

function encodeFloats(dtype: 'F32' | 'F16' | 'BF16', values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.slice().buffer);
  const convert = dtype === 'F16' ? f32ToF16 : f32ToBf16;
  return new Uint8Array(Uint16Array.from(values, convert).buffer);
}
