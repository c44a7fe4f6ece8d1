// Float64 reference of the FLUX transformer forward pass and the Euler sampler, written from
// ../shared/spec/flux.md §1-§3 (BFL model.py / layers.py), independent of the GPU code path.
// Weights are dense, dequantized, under canonical BFL names. Single blocks take optional hooks,
// so the CharaConsist reference can read and change what the official processors read and change.

import type { FluxConfig } from '../models/flux/config';
import { timestepEmbedding } from '../models/flux/timestep';
import { geluTanhReference, siluReference } from './activation';
import { attentionReference, type AttentionReferenceExtras } from './attention';
import { linearReference } from './linear';
import { modulatedLayerNormReference, rmsNormReference } from './norm';
import { ropeReference } from './rope';

type Vector = ArrayLike<number>;
export type ReferenceWeights = (canonical: string) => Vector;

export interface FluxReferenceInputs {
  /** x_t [imageTokens, 64] */
  img: Vector;
  /** [imageTokens, 3] position ids (0, row, col) */
  imgIds: Vector;
  /** T5 embeddings [textTokens, contextDim] */
  txt: Vector;
  /** [textTokens, 3], zeros in text-to-image */
  txtIds: Vector;
  /** CLIP pooled [vecDim] */
  y: Vector;
  timestep: number;
  /** dev only */
  guidance: number;
}

/** What a single block exposes to CharaConsist (all [tokens, hidden], text rows first). */
export interface SingleBlockState {
  block: number;
  textTokens: number;
  /** after QK norm, before RoPE */
  queriesBeforeRope: Float64Array;
  keysBeforeRope: Float64Array;
  /** after RoPE */
  queries: Float64Array;
  keys: Float64Array;
  values: Float64Array;
}

export interface SingleBlockHooks {
  /** Extra keys/values (keys already rotated) and labels for this block's attention. */
  extras?(state: SingleBlockState): AttentionReferenceExtras | undefined;
  /** Sees (and may change in place) the attention output [tokens, hidden] before linear2. */
  afterAttention?(state: SingleBlockState, attention: Float64Array): void;
}

const EPS = 1e-6;

const linear = (weights: ReferenceWeights, name: string, x: Vector, rows: number, depth: number, cols: number) =>
  linearReference({ x, rows, depth, cols, weight: weights(`${name}.weight`), bias: weights(`${name}.bias`) });

/** out_layer(silu(in_layer(x))) */
function mlpEmbedder(weights: ReferenceWeights, name: string, x: Vector, depth: number, hidden: number): Float64Array {
  return linear(weights, `${name}.out_layer`, siluReference(linear(weights, `${name}.in_layer`, x, 1, depth, hidden)), 1, hidden, hidden);
}

/** The conditioning vector: time_in(t) (+ guidance_in(g)) + vector_in(y). */
export function conditioningReference(config: FluxConfig, weights: ReferenceWeights, inputs: Pick<FluxReferenceInputs, 'y' | 'timestep' | 'guidance'>): Float64Array {
  const h = config.hidden;
  const vec = mlpEmbedder(weights, 'time_in', timestepEmbedding(inputs.timestep), 256, h);
  if (config.guidance) add(vec, mlpEmbedder(weights, 'guidance_in', timestepEmbedding(inputs.guidance), 256, h));
  add(vec, mlpEmbedder(weights, 'vector_in', inputs.y, config.vecDim, h));
  return vec;
}

/** The n chunks of lin(silu(vec)), each [hidden]. */
function modulation(weights: ReferenceWeights, name: string, vec: Float64Array, chunks: number, hidden: number): Float64Array[] {
  const out = linear(weights, name, siluReference(vec), 1, hidden, chunks * hidden);
  return Array.from({ length: chunks }, (_, i) => out.subarray(i * hidden, (i + 1) * hidden));
}

export function fluxForwardReference(config: FluxConfig, weights: ReferenceWeights, inputs: FluxReferenceInputs, hooks: SingleBlockHooks = {}): Float64Array {
  const h = config.hidden;
  const imageTokens = inputs.img.length / config.inChannels;
  const textTokens = inputs.txt.length / config.contextDim;
  const vec = conditioningReference(config, weights, inputs);
  let img = linear(weights, 'img_in', inputs.img, imageTokens, config.inChannels, h);
  let txt = linear(weights, 'txt_in', inputs.txt, textTokens, config.contextDim, h);
  const ids = concat([inputs.txtIds, inputs.imgIds]);
  for (let n = 0; n < config.doubleBlocks; n++) [img, txt] = doubleBlock(config, weights, n, img, txt, vec, ids);
  let x = concat([txt, img]);
  for (let n = 0; n < config.singleBlocks; n++) x = singleBlock(config, weights, n, x, textTokens, vec, ids, hooks);
  return finalLayer(config, weights, x.subarray(textTokens * h), vec);
}

interface StreamAttentionInput {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
}

function doubleBlock(config: FluxConfig, weights: ReferenceWeights, n: number, img: Float64Array, txt: Float64Array, vec: Float64Array, ids: Float64Array): [Float64Array, Float64Array] {
  const h = config.hidden;
  const prefix = `double_blocks.${n}`;
  const streams = { img, txt };
  const mods = { img: modulation(weights, `${prefix}.img_mod.lin`, vec, 6, h), txt: modulation(weights, `${prefix}.txt_mod.lin`, vec, 6, h) };
  const qkv = (stream: 'img' | 'txt'): StreamAttentionInput => {
    const x = streams[stream];
    const [shift1, scale1] = mods[stream];
    const normed = modulatedLayerNormReference(x, h, shift1, scale1, EPS);
    const fused = linear(weights, `${prefix}.${stream}_attn.qkv`, normed, x.length / h, h, 3 * h);
    const [q, k, v] = splitColumns(fused, 3 * h, [h, h, h]);
    return {
      q: rmsNormReference(q, config.headDim, weights(`${prefix}.${stream}_attn.norm.query_norm.scale`), EPS),
      k: rmsNormReference(k, config.headDim, weights(`${prefix}.${stream}_attn.norm.key_norm.scale`), EPS),
      v,
    };
  };
  const [textPart, imagePart] = [qkv('txt'), qkv('img')];
  const attention = jointAttention(config, concat([textPart.q, imagePart.q]), concat([textPart.k, imagePart.k]), concat([textPart.v, imagePart.v]), ids);
  const split = { txt: attention.subarray(0, txt.length), img: attention.subarray(txt.length) };
  const update = (stream: 'img' | 'txt'): Float64Array => {
    const [, , gate1, shift2, scale2, gate2] = mods[stream];
    const tokens = streams[stream].length / h;
    const afterAttention = gatedAdd(streams[stream], gate1, linear(weights, `${prefix}.${stream}_attn.proj`, split[stream], tokens, h, h), h);
    const normed = modulatedLayerNormReference(afterAttention, h, shift2, scale2, EPS);
    const hidden = geluTanhReference(linear(weights, `${prefix}.${stream}_mlp.0`, normed, tokens, h, config.mlpHidden));
    return gatedAdd(afterAttention, gate2, linear(weights, `${prefix}.${stream}_mlp.2`, hidden, tokens, config.mlpHidden, h), h);
  };
  return [update('img'), update('txt')];
}

function singleBlock(config: FluxConfig, weights: ReferenceWeights, n: number, x: Float64Array, textTokens: number, vec: Float64Array, ids: Float64Array, hooks: SingleBlockHooks): Float64Array {
  const h = config.hidden;
  const prefix = `single_blocks.${n}`;
  const tokens = x.length / h;
  const [shift, scale, gate] = modulation(weights, `${prefix}.modulation.lin`, vec, 3, h);
  const normed = modulatedLayerNormReference(x, h, shift, scale, EPS);
  const fused = linear(weights, `${prefix}.linear1`, normed, tokens, h, 3 * h + config.mlpHidden);
  const [q, k, v, mlp] = splitColumns(fused, 3 * h + config.mlpHidden, [h, h, h, config.mlpHidden]);
  const queriesBeforeRope = rmsNormReference(q, config.headDim, weights(`${prefix}.norm.query_norm.scale`), EPS);
  const keysBeforeRope = rmsNormReference(k, config.headDim, weights(`${prefix}.norm.key_norm.scale`), EPS);
  const state: SingleBlockState = {
    block: n,
    textTokens,
    queriesBeforeRope,
    keysBeforeRope,
    queries: rope(config, queriesBeforeRope, ids),
    keys: rope(config, keysBeforeRope, ids),
    values: v,
  };
  const attention = attentionReference({
    queries: state.queries, keys: state.keys, values: v, heads: config.heads, headDim: config.headDim,
    scale: 1 / Math.sqrt(config.headDim), extras: hooks.extras?.(state),
  });
  hooks.afterAttention?.(state, attention);
  const joined = joinColumns([attention, geluTanhReference(mlp)], [h, config.mlpHidden]);
  return gatedAdd(x, gate, linear(weights, `${prefix}.linear2`, joined, tokens, h + config.mlpHidden, h), h);
}

function finalLayer(config: FluxConfig, weights: ReferenceWeights, img: Float64Array, vec: Float64Array): Float64Array {
  const h = config.hidden;
  const [shift, scale] = modulation(weights, 'final_layer.adaLN_modulation.1', vec, 2, h);
  const normed = modulatedLayerNormReference(img, h, shift, scale, EPS);
  return linear(weights, 'final_layer.linear', normed, img.length / h, h, config.inChannels);
}

function jointAttention(config: FluxConfig, q: Float64Array, k: Float64Array, v: Float64Array, ids: Float64Array): Float64Array {
  return attentionReference({
    queries: rope(config, q, ids), keys: rope(config, k, ids), values: v,
    heads: config.heads, headDim: config.headDim, scale: 1 / Math.sqrt(config.headDim),
  });
}

/** RoPE of x [tokens, heads * 128] at the tokens' own position ids [tokens, 3]. */
export function rope(config: FluxConfig, x: Vector, ids: Vector): Float64Array {
  return ropeReference(x, config.heads, (row) => Array.prototype.slice.call(ids, 3 * row, 3 * row + 3), config.axesDim, config.theta);
}

/** x + gate ⊙ y per row, gate [cols]. */
function gatedAdd(x: Float64Array, gate: Vector, y: Float64Array, cols: number): Float64Array {
  return x.map((value, i) => value + gate[i % cols] * y[i]);
}

function add(target: Float64Array, addend: Vector): void {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
}

function concat(parts: Vector[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Splits rows of width `width` into column blocks of the given widths. */
export function splitColumns(x: Float64Array, width: number, widths: number[]): Float64Array[] {
  const rows = x.length / width;
  let first = 0;
  return widths.map((w) => {
    const out = new Float64Array(rows * w);
    for (let r = 0; r < rows; r++) out.set(x.subarray(r * width + first, r * width + first + w), r * w);
    first += w;
    return out;
  });
}

function joinColumns(parts: Float64Array[], widths: number[]): Float64Array {
  const width = widths.reduce((a, b) => a + b, 0);
  const rows = parts[0].length / widths[0];
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let first = 0;
    parts.forEach((part, i) => {
      out.set(part.subarray(r * widths[i], (r + 1) * widths[i]), r * width + first);
      first += widths[i];
    });
  }
  return out;
}

/** N Euler steps x <- x + (t_next - t) v from `noise` along `schedule`; returns every latent. */
export function sampleReference(
  config: FluxConfig,
  weights: ReferenceWeights,
  inputs: Omit<FluxReferenceInputs, 'img' | 'timestep'>,
  noise: Vector,
  schedule: ArrayLike<number>,
): Float64Array[] {
  const latents = [Float64Array.from(noise)];
  for (let i = 0; i + 1 < schedule.length; i++) {
    const x = latents[i];
    const velocity = fluxForwardReference(config, weights, { ...inputs, img: x, timestep: schedule[i] });
    latents.push(x.map((value, j) => value + (schedule[i + 1] - schedule[i]) * velocity[j]));
  }
  return latents;
}
