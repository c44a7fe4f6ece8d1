// The published FLUX.1 models' architectures (spec/flux.md; the VAE's is FLUX_VAE_DECODER in
// models/vae/config.ts), for estimates made before a file's header is read: from a catalog
// entry's size alone, weights are taken to occupy about their file size on the GPU (Q4_0, Q8_0
// and F16 repack to the same bytes; see ops/weights.ts).

import type { ClipConfig } from '../models/clip/config';
import type { FluxConfig } from '../models/flux/config';
import type { T5Config } from '../models/t5/config';

export const FLUX1_TRANSFORMER: Omit<FluxConfig, 'guidance'> = {
  hidden: 3072, heads: 24, headDim: 128, doubleBlocks: 19, singleBlocks: 38, mlpHidden: 12288,
  inChannels: 64, contextDim: 4096, vecDim: 768, axesDim: [16, 56, 56], theta: 10000,
};

export const T5_V1_1_XXL_ENCODER: T5Config = { dModel: 4096, heads: 64, dKv: 64, dFf: 10240, layers: 24, vocab: 32128, buckets: 32, maxDistance: 128, eps: 1e-6 };

export const CLIP_L_TEXT_ENCODER: ClipConfig = { hidden: 768, heads: 12, headDim: 64, layers: 12, mlp: 3072, vocab: 49408, positions: 77, eps: 1e-5 };
