// FLUX transformer hyper-parameters, inferred from tensor shapes (spec/flux.md §5.6), and the
// list of canonical tensors with the shapes a checkpoint must have.

import { modelFileError } from '../../errors';
import { countBlocks, requireConsistent, requiredShape, type ShapeOf } from '../checkpoint-plan';
import { FLUX_VAE_DECODER } from '../vae/config';

export interface FluxConfig {
  hidden: number;
  heads: number;
  headDim: number;
  doubleBlocks: number;
  singleBlocks: number;
  mlpHidden: number;
  /** 64 = 16 latent channels x 2x2 patch */
  inChannels: number;
  /** T5 hidden size (4096) */
  contextDim: number;
  /** CLIP pooled size (768) */
  vecDim: number;
  /** dev has a guidance embedder; schnell does not */
  guidance: boolean;
  axesDim: readonly [number, number, number];
  theta: number;
}

/** Sinusoidal embedding width of timesteps and guidance. */
export const TIME_EMBED_DIM = 256;

const FLUX_AXES = [16, 56, 56] as const;
/** One token packs a 2x2 patch of the VAE's latent channels. */
const PACKED_CHANNELS = 4 * FLUX_VAE_DECODER.zChannels;

export const FLUX_WORDS = {
  model: 'FLUX.1 transformer',
  action: 'Choose a FLUX.1 transformer file (for example a city96 GGUF).',
};

export function inferFluxConfig(shapeOf: ShapeOf, file: string): FluxConfig {
  const need = (name: string, rank: number) => requiredShape(shapeOf, name, file, FLUX_WORDS, rank);
  const [hidden, inChannels] = need('img_in.weight', 2);
  const headDim = need('double_blocks.0.img_attn.norm.query_norm.scale', 1)[0];
  if (headDim !== 128) {
    // axes_dim and theta are not stored in files; only head_dim 128 lets the real values apply.
    throw modelFileError(file, `head dimension ${headDim} is not 128`, 'Only FLUX.1-architecture transformers are supported.');
  }
  requireConsistent(hidden % headDim === 0, file, () => `hidden size ${hidden} is not a whole number of heads of ${headDim}`, FLUX_WORDS);
  requireConsistent(inChannels === PACKED_CHANNELS, file, () => `img_in reads ${inChannels} channels per token; FLUX.1 latents have ${PACKED_CHANNELS}`, FLUX_WORDS);
  return {
    hidden,
    heads: hidden / headDim,
    headDim,
    doubleBlocks: countBlocks(shapeOf, 'double_blocks', 'img_mod.lin.weight'),
    singleBlocks: countBlocks(shapeOf, 'single_blocks', 'linear2.weight'),
    mlpHidden: need('double_blocks.0.img_mlp.0.weight', 2)[0],
    inChannels,
    contextDim: need('txt_in.weight', 2)[1],
    vecDim: need('vector_in.in_layer.weight', 2)[1],
    guidance: shapeOf('guidance_in.in_layer.weight') !== undefined,
    axesDim: FLUX_AXES,
    theta: 10000,
  };
}

/** Every canonical tensor of a FLUX transformer with its expected PyTorch shape. */
export function fluxTensorShapes(config: FluxConfig): Map<string, readonly number[]> {
  const { hidden: h, mlpHidden: mlp, headDim } = config;
  const shapes = new Map<string, readonly number[]>();
  const linear = (name: string, out: number, inp: number) => {
    shapes.set(`${name}.weight`, [out, inp]);
    shapes.set(`${name}.bias`, [out]);
  };
  linear('img_in', h, config.inChannels);
  linear('txt_in', h, config.contextDim);
  for (const embedder of config.guidance ? ['time_in', 'guidance_in'] : ['time_in']) {
    linear(`${embedder}.in_layer`, h, TIME_EMBED_DIM);
    linear(`${embedder}.out_layer`, h, h);
  }
  linear('vector_in.in_layer', h, config.vecDim);
  linear('vector_in.out_layer', h, h);
  for (let n = 0; n < config.doubleBlocks; n++) {
    for (const stream of ['img', 'txt']) {
      const block = `double_blocks.${n}.${stream}`;
      linear(`${block}_mod.lin`, 6 * h, h);
      linear(`${block}_attn.qkv`, 3 * h, h);
      shapes.set(`${block}_attn.norm.query_norm.scale`, [headDim]);
      shapes.set(`${block}_attn.norm.key_norm.scale`, [headDim]);
      linear(`${block}_attn.proj`, h, h);
      linear(`${block}_mlp.0`, mlp, h);
      linear(`${block}_mlp.2`, h, mlp);
    }
  }
  for (let n = 0; n < config.singleBlocks; n++) {
    const block = `single_blocks.${n}`;
    linear(`${block}.modulation.lin`, 3 * h, h);
    linear(`${block}.linear1`, 3 * h + mlp, h);
    linear(`${block}.linear2`, h, h + mlp);
    shapes.set(`${block}.norm.query_norm.scale`, [headDim]);
    shapes.set(`${block}.norm.key_norm.scale`, [headDim]);
  }
  linear('final_layer.adaLN_modulation.1', 2 * h, h);
  linear('final_layer.linear', config.inChannels, h);
  return shapes;
}
