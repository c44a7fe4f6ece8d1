// FLUX.1's VAE decoder (spec/flux.md §3.6): hyper-parameters inferred from tensor shapes, the
// decoder's layout (which block reads and writes how many channels, in run order) and the
// canonical tensors (BFL ae.safetensors names, PyTorch shapes) a checkpoint must hold.

import { modelFileError } from '../../errors';
import { countBlocks, requiredShape, type ShapeOf } from '../checkpoint-plan';

export interface VaeDecoderConfig {
  /** `ch`: channels of level 0 (128) */
  channels: number;
  /** `ch_mult`: level L has channels · channelMultipliers[L] channels ([1, 2, 4, 4]) */
  channelMultipliers: readonly number[];
  /** ResnetBlocks per level: the decoder runs `num_res_blocks` + 1 (3) */
  blocksPerLevel: number;
  /** latent channels (16) */
  zChannels: number;
  /** image channels (3) */
  outChannels: number;
}

export const FLUX_VAE_DECODER: VaeDecoderConfig = { channels: 128, channelMultipliers: [1, 2, 4, 4], blocksPerLevel: 3, zChannels: 16, outChannels: 3 };

export const VAE_WORDS = {
  model: 'FLUX.1 VAE',
  action: 'Choose the ae.safetensors of FLUX.1 (or a diffusers AutoencoderKL of FLUX.1).',
};

/** GroupNorm's groups: every normalised channel count must split into them. */
const NORM_GROUPS = 32;

export interface ResnetLayout {
  /** e.g. "decoder.up.1.block.0" */
  prefix: string;
  inChannels: number;
  outChannels: number;
  /** a 1x1 nin_shortcut when the channel count changes */
  shortcut: boolean;
}

export interface LevelLayout {
  level: number;
  blocks: ResnetLayout[];
  /** nearest x2 + 3x3 conv after the blocks (every level but 0) */
  upsample?: { prefix: string; channels: number };
}

export interface DecoderLayout {
  convIn: { prefix: string; inChannels: number; outChannels: number };
  mid: { block1: ResnetLayout; attention: { prefix: string; channels: number }; block2: ResnetLayout };
  /** in run order: the deepest level (up.3) first */
  levels: LevelLayout[];
  normOut: { prefix: string; channels: number };
  convOut: { prefix: string; inChannels: number; outChannels: number };
}

export function decoderLayout(config: VaeDecoderConfig): DecoderLayout {
  const levelChannels = (level: number) => config.channels * config.channelMultipliers[level];
  const deepest = config.channelMultipliers.length - 1;
  const mid = levelChannels(deepest);
  const resnet = (prefix: string, inChannels: number, outChannels: number): ResnetLayout => ({ prefix, inChannels, outChannels, shortcut: inChannels !== outChannels });
  const levels: LevelLayout[] = [];
  let channels = mid;
  for (let level = deepest; level >= 0; level--) {
    const out = levelChannels(level);
    const blocks = Array.from({ length: config.blocksPerLevel }, (_, j) => resnet(`decoder.up.${level}.block.${j}`, j === 0 ? channels : out, out));
    channels = out;
    levels.push({ level, blocks, ...(level > 0 ? { upsample: { prefix: `decoder.up.${level}.upsample.conv`, channels } } : {}) });
  }
  return {
    convIn: { prefix: 'decoder.conv_in', inChannels: config.zChannels, outChannels: mid },
    mid: { block1: resnet('decoder.mid.block_1', mid, mid), attention: { prefix: 'decoder.mid.attn_1', channels: mid }, block2: resnet('decoder.mid.block_2', mid, mid) },
    levels,
    normOut: { prefix: 'decoder.norm_out', channels },
    convOut: { prefix: 'decoder.conv_out', inChannels: channels, outChannels: config.outChannels },
  };
}

/** The attention's 1x1 convolutions, whose weights diffusers stores squeezed to [out, in]. */
export const ATTENTION_PROJECTIONS = ['q', 'k', 'v', 'proj_out'] as const;

/** Every canonical decoder tensor with its PyTorch shape ([out, in, k, k] for conv weights). */
export function vaeTensorShapes(config: VaeDecoderConfig): Map<string, readonly number[]> {
  const layout = decoderLayout(config);
  const shapes = new Map<string, readonly number[]>();
  const conv = (prefix: string, inChannels: number, outChannels: number, kernelSize: number) => {
    shapes.set(`${prefix}.weight`, [outChannels, inChannels, kernelSize, kernelSize]);
    shapes.set(`${prefix}.bias`, [outChannels]);
  };
  const norm = (prefix: string, channels: number) => {
    shapes.set(`${prefix}.weight`, [channels]);
    shapes.set(`${prefix}.bias`, [channels]);
  };
  const resnet = (block: ResnetLayout) => {
    norm(`${block.prefix}.norm1`, block.inChannels);
    conv(`${block.prefix}.conv1`, block.inChannels, block.outChannels, 3);
    norm(`${block.prefix}.norm2`, block.outChannels);
    conv(`${block.prefix}.conv2`, block.outChannels, block.outChannels, 3);
    if (block.shortcut) conv(`${block.prefix}.nin_shortcut`, block.inChannels, block.outChannels, 1);
  };
  conv(layout.convIn.prefix, layout.convIn.inChannels, layout.convIn.outChannels, 3);
  resnet(layout.mid.block1);
  const { prefix, channels } = layout.mid.attention;
  norm(`${prefix}.norm`, channels);
  for (const projection of ATTENTION_PROJECTIONS) conv(`${prefix}.${projection}`, channels, channels, 1);
  resnet(layout.mid.block2);
  for (const level of layout.levels) {
    level.blocks.forEach(resnet);
    if (level.upsample) conv(level.upsample.prefix, level.upsample.channels, level.upsample.channels, 3);
  }
  norm(layout.normOut.prefix, layout.normOut.channels);
  conv(layout.convOut.prefix, layout.convOut.inChannels, layout.convOut.outChannels, 3);
  return shapes;
}

export function inferVaeConfig(shapeOf: ShapeOf, fileName: string): VaeDecoderConfig {
  const need = (name: string) => requiredShape(shapeOf, name, fileName, VAE_WORDS, 2);
  const [outChannels, channels] = need('decoder.conv_out.weight');
  const zChannels = need('decoder.conv_in.weight')[1];
  const levels = countBlocks(shapeOf, 'decoder.up', 'block.0.conv1.weight');
  const channelMultipliers = Array.from({ length: levels }, (_, level) => need(`decoder.up.${level}.block.0.conv1.weight`)[0] / channels);
  const config = { channels, channelMultipliers, blocksPerLevel: countBlocks(shapeOf, 'decoder.up.0.block', 'conv1.weight'), zChannels, outChannels };
  const fail = (problem: string) => modelFileError(fileName, problem, VAE_WORDS.action);
  if (levels === 0 || config.blocksPerLevel === 0) throw fail('the decoder has no up blocks');
  // The transformer's latents have FLUX's channels, and the pictures are RGB.
  const flux = FLUX_VAE_DECODER;
  if (zChannels !== flux.zChannels || outChannels !== flux.outChannels) {
    throw fail(`the decoder reads ${zChannels} latent channels and writes ${outChannels}; FLUX.1's reads ${flux.zChannels} and writes ${flux.outChannels} (RGB)`);
  }
  for (const [level, multiplier] of channelMultipliers.entries()) {
    const levelChannels = multiplier * channels;
    if (!Number.isInteger(multiplier) || levelChannels % NORM_GROUPS !== 0) {
      throw fail(`level ${level} has ${levelChannels} channels, not a multiple of the ${NORM_GROUPS} GroupNorm groups`);
    }
  }
  return config;
}
