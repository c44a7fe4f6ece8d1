// Float64 reference of FLUX.1's VAE decoder (spec/flux.md §3.5, §3.6) and of its pieces, written
// from the spec with dense loops over channel-major [C, H, W] images (PyTorch's layout, not the
// engine's), independent of the GPU code. Weights are looked up by canonical BFL name
// (ae.safetensors), in PyTorch shapes: conv weights [out, in, k, k].

import type { VaeDecoderConfig } from '../models/vae/config';
import { attentionReference } from './attention';

type Vector = ArrayLike<number>;
export type VaeReferenceWeights = (canonical: string) => Vector;

/** A channel-major image: values[(c · height + y) · width + x]. */
export interface ReferenceImage {
  channels: number;
  height: number;
  width: number;
  values: Float64Array;
}

const SCALING_FACTOR = 0.3611;
const SHIFT_FACTOR = 0.1159;
const LATENT_CHANNELS = 16;
const GROUPS = 32;
const EPS = 1e-6;

function image(channels: number, height: number, width: number): ReferenceImage {
  return { channels, height, width, values: new Float64Array(channels * height * width) };
}

/** tokens [rows · cols, 64] -> z [16, 2 rows, 2 cols] = unpack(tokens) / 0.3611 + 0.1159 (§3.1, §3.5). */
export function unpackLatentReference(tokens: Vector, rows: number, cols: number): ReferenceImage {
  const z = image(LATENT_CHANNELS, 2 * rows, 2 * cols);
  for (let c = 0; c < LATENT_CHANNELS; c++) {
    for (let y = 0; y < 2 * rows; y++) {
      for (let x = 0; x < 2 * cols; x++) {
        const token = Math.floor(y / 2) * cols + Math.floor(x / 2);
        const feature = 4 * c + 2 * (y % 2) + (x % 2);
        z.values[(c * z.height + y) * z.width + x] = tokens[token * 4 * LATENT_CHANNELS + feature] / SCALING_FACTOR + SHIFT_FACTOR;
      }
    }
  }
  return z;
}

/** Mean and (biased) variance of each of the 32 channel groups. */
export function groupStatisticsReference(x: ReferenceImage): { mean: Float64Array; variance: Float64Array } {
  const perGroup = (x.channels / GROUPS) * x.height * x.width;
  const mean = new Float64Array(GROUPS);
  const variance = new Float64Array(GROUPS);
  for (let g = 0; g < GROUPS; g++) {
    const group = x.values.subarray(g * perGroup, (g + 1) * perGroup);
    mean[g] = group.reduce((sum, v) => sum + v, 0) / perGroup;
    variance[g] = group.reduce((sum, v) => sum + (v - mean[g]) ** 2, 0) / perGroup;
  }
  return { mean, variance };
}

/** GroupNorm(32 groups, eps 1e-6, affine): (x − mean_g) / sqrt(var_g + eps) · gamma[c] + beta[c]. */
export function groupNormReference(x: ReferenceImage, gamma: Vector, beta: Vector): ReferenceImage {
  const { mean, variance } = groupStatisticsReference(x);
  const out = image(x.channels, x.height, x.width);
  const plane = x.height * x.width;
  for (let c = 0; c < x.channels; c++) {
    const g = Math.floor(c / (x.channels / GROUPS));
    for (let i = c * plane; i < (c + 1) * plane; i++) out.values[i] = ((x.values[i] - mean[g]) / Math.sqrt(variance[g] + EPS)) * gamma[c] + beta[c];
  }
  return out;
}

/** swish: x · sigmoid(x). */
export function swishReference(x: ReferenceImage): ReferenceImage {
  return { ...x, values: x.values.map((v) => v / (1 + Math.exp(-v))) };
}

/** Conv2d, stride 1, zero padding (k − 1) / 2; weight [out, in, k, k]. */
export function conv2dReference(x: ReferenceImage, weight: Vector, bias: Vector, outChannels: number, kernelSize: number): ReferenceImage {
  const out = image(outChannels, x.height, x.width);
  const pad = (kernelSize - 1) / 2;
  const { channels, height, width } = x;
  for (let o = 0; o < outChannels; o++) {
    const plane = out.values.subarray(o * height * width, (o + 1) * height * width);
    plane.fill(bias[o]);
    for (let c = 0; c < channels; c++) {
      for (let ky = 0; ky < kernelSize; ky++) {
        for (let kx = 0; kx < kernelSize; kx++) {
          const w = weight[((o * channels + c) * kernelSize + ky) * kernelSize + kx];
          for (let y = 0; y < height; y++) {
            const sy = y + ky - pad;
            if (sy < 0 || sy >= height) continue;
            for (let xx = 0; xx < width; xx++) {
              const sx = xx + kx - pad;
              if (sx >= 0 && sx < width) plane[y * width + xx] += w * x.values[(c * height + sy) * width + sx];
            }
          }
        }
      }
    }
  }
  return out;
}

/** Nearest-neighbour x2. */
export function upsampleReference(x: ReferenceImage): ReferenceImage {
  const out = image(x.channels, 2 * x.height, 2 * x.width);
  for (let c = 0; c < x.channels; c++) {
    for (let y = 0; y < out.height; y++) {
      for (let xx = 0; xx < out.width; xx++) out.values[(c * out.height + y) * out.width + xx] = x.values[(c * x.height + (y >> 1)) * x.width + (xx >> 1)];
    }
  }
  return out;
}

export function addReference(a: ReferenceImage, b: ReferenceImage): ReferenceImage {
  return { ...a, values: a.values.map((v, i) => v + b.values[i]) };
}

function conv(weights: VaeReferenceWeights, prefix: string, x: ReferenceImage, kernelSize: number): ReferenceImage {
  const bias = weights(`${prefix}.bias`);
  return conv2dReference(x, weights(`${prefix}.weight`), bias, bias.length, kernelSize);
}

function norm(weights: VaeReferenceWeights, prefix: string, x: ReferenceImage): ReferenceImage {
  return groupNormReference(x, weights(`${prefix}.weight`), weights(`${prefix}.bias`));
}

/** ResnetBlock: h = conv1(swish(norm1(x))), h = conv2(swish(norm2(h))), x' = nin_shortcut(x) if present; x' + h. */
export function resnetBlockReference(weights: VaeReferenceWeights, prefix: string, x: ReferenceImage, shortcut: boolean): ReferenceImage {
  const h1 = conv(weights, `${prefix}.conv1`, swishReference(norm(weights, `${prefix}.norm1`, x)), 3);
  const h2 = conv(weights, `${prefix}.conv2`, swishReference(norm(weights, `${prefix}.norm2`, h1)), 3);
  return addReference(shortcut ? conv(weights, `${prefix}.nin_shortcut`, x, 1) : x, h2);
}

/** AttnBlock: x + proj_out(softmax(q·kᵀ / √C) · v), single head over the H·W pixels of norm(x). */
export function attentionBlockReference(weights: VaeReferenceWeights, prefix: string, x: ReferenceImage): ReferenceImage {
  const h = norm(weights, `${prefix}.norm`, x);
  const tokens = (projection: string) => toTokens(conv(weights, `${prefix}.${projection}`, h, 1));
  const attended = attentionReference({ queries: tokens('q'), keys: tokens('k'), values: tokens('v'), heads: 1, headDim: x.channels, scale: 1 / Math.sqrt(x.channels) });
  return addReference(x, conv(weights, `${prefix}.proj_out`, fromTokens(attended, x), 1));
}

/** [C, H, W] -> [H·W, C] */
function toTokens(x: ReferenceImage): Float64Array {
  const plane = x.height * x.width;
  const out = new Float64Array(x.values.length);
  for (let c = 0; c < x.channels; c++) for (let p = 0; p < plane; p++) out[p * x.channels + c] = x.values[c * plane + p];
  return out;
}

function fromTokens(tokens: Float64Array, like: ReferenceImage): ReferenceImage {
  const plane = like.height * like.width;
  const out = image(like.channels, like.height, like.width);
  for (let c = 0; c < like.channels; c++) for (let p = 0; p < plane; p++) out.values[c * plane + p] = tokens[p * like.channels + c];
  return out;
}

/** The decoder (§3.6) on tokens [rows · cols, 64]: the image [3, 16 rows, 16 cols] before clamping. */
export function vaeDecoderReference(config: VaeDecoderConfig, weights: VaeReferenceWeights, tokens: Vector, rows: number, cols: number): ReferenceImage {
  const levels = config.channelMultipliers.length;
  let x = conv(weights, 'decoder.conv_in', unpackLatentReference(tokens, rows, cols), 3);
  x = resnetBlockReference(weights, 'decoder.mid.block_1', x, false);
  x = attentionBlockReference(weights, 'decoder.mid.attn_1', x);
  x = resnetBlockReference(weights, 'decoder.mid.block_2', x, false);
  for (let level = levels - 1; level >= 0; level--) {
    const channels = config.channels * config.channelMultipliers[level];
    for (let j = 0; j < config.blocksPerLevel; j++) x = resnetBlockReference(weights, `decoder.up.${level}.block.${j}`, x, x.channels !== channels);
    if (level > 0) x = conv(weights, `decoder.up.${level}.upsample.conv`, upsampleReference(x), 3);
  }
  return conv(weights, 'decoder.conv_out', swishReference(norm(weights, 'decoder.norm_out', x)), 3);
}

/** RGBA8 per pixel (R in the low byte, alpha 255): round(127.5 · (clamp(x, −1, 1) + 1)) per channel. */
export function rgbaReference(x: ReferenceImage): Uint32Array {
  const plane = x.height * x.width;
  const byte = (v: number) => Math.floor(127.5 * (Math.min(1, Math.max(-1, v)) + 1) + 0.5);
  return Uint32Array.from({ length: plane }, (_, p) => (byte(x.values[p]) | (byte(x.values[plane + p]) << 8) | (byte(x.values[2 * plane + p]) << 16) | (255 << 24)) >>> 0);
}
