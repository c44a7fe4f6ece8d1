// Tensor names of FLUX.1 VAE checkpoints. BFL names (ae.safetensors: `decoder.*`, beside the
// unused `encoder.*`) are the engine's canonical names; diffusers AutoencoderKL names map onto
// them (spec/flux.md §5.4). Diffusers numbers up blocks in run order (up_blocks.i is BFL's
// up.{levels − 1 − i}), so both directions need the number of levels.

import { invalidInput } from '../../errors';

const RESNET_FROM_DIFFUSERS: Record<string, string> = { norm1: 'norm1', conv1: 'conv1', norm2: 'norm2', conv2: 'conv2', conv_shortcut: 'nin_shortcut' };
const ATTENTION_FROM_DIFFUSERS: Record<string, string> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };
const TOP_FROM_DIFFUSERS: Record<string, string> = { 'decoder.conv_in': 'decoder.conv_in', 'decoder.conv_out': 'decoder.conv_out', 'decoder.conv_norm_out': 'decoder.norm_out' };

const invert = (table: Record<string, string>) => Object.fromEntries(Object.entries(table).map(([from, to]) => [to, from]));
const RESNET_TO_DIFFUSERS = invert(RESNET_FROM_DIFFUSERS);
const ATTENTION_TO_DIFFUSERS = invert(ATTENTION_FROM_DIFFUSERS);
const TOP_TO_DIFFUSERS = invert(TOP_FROM_DIFFUSERS);

/** Whether a canonical name is a GroupNorm's gamma (norm1, norm2, the attention's norm, norm_out). */
export function isGroupNormWeight(canonical: string): boolean {
  return /\.(norm[12]?|norm_out)\.weight$/.test(canonical);
}

/** Module names only diffusers uses. */
const DIFFUSERS_MODULE = /^decoder\.(mid_block|up_blocks|conv_norm_out)\b/;

export function isDiffusersVaeName(name: string): boolean {
  return DIFFUSERS_MODULE.test(name);
}

/** The number of up levels a diffusers file holds (its highest up_blocks index + 1). */
export function diffusersVaeLevels(names: readonly string[]): number {
  return names.reduce((levels, name) => Math.max(levels, Number(/^decoder\.up_blocks\.(\d+)\./.exec(name)?.[1] ?? -1) + 1), 0);
}

/**
 * The canonical BFL name of a decoder tensor (BFL or diffusers, for a decoder with `levels` up
 * levels); undefined for tensors that are not the decoder's (encoder.*, quant_conv…). A decoder
 * tensor with an unknown name comes back unchanged, so the plan reports it as unexpected.
 */
export function canonicalVaeName(name: string, levels: number): string | undefined {
  if (!name.startsWith('decoder.')) return undefined;
  if (!isDiffusersVaeName(name)) return name;
  const dot = name.lastIndexOf('.');
  const module = fromDiffusers(name.slice(0, dot), levels);
  return module === undefined ? name : `${module}${name.slice(dot)}`;
}

function fromDiffusers(module: string, levels: number): string | undefined {
  if (module in TOP_FROM_DIFFUSERS) return TOP_FROM_DIFFUSERS[module];
  let match = /^decoder\.mid_block\.resnets\.(\d+)\.(\w+)$/.exec(module);
  if (match && match[2] in RESNET_FROM_DIFFUSERS) return `decoder.mid.block_${Number(match[1]) + 1}.${RESNET_FROM_DIFFUSERS[match[2]]}`;
  match = /^decoder\.mid_block\.attentions\.0\.(.+)$/.exec(module);
  if (match && match[1] in ATTENTION_FROM_DIFFUSERS) return `decoder.mid.attn_1.${ATTENTION_FROM_DIFFUSERS[match[1]]}`;
  match = /^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)$/.exec(module);
  if (match && match[3] in RESNET_FROM_DIFFUSERS) return `decoder.up.${levels - 1 - Number(match[1])}.block.${match[2]}.${RESNET_FROM_DIFFUSERS[match[3]]}`;
  match = /^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv$/.exec(module);
  if (match) return `decoder.up.${levels - 1 - Number(match[1])}.upsample.conv`;
  return undefined;
}

/** The diffusers name of a canonical decoder tensor (writing diffusers-layout test files). */
export function diffusersVaeName(canonical: string, levels: number): string {
  const dot = canonical.lastIndexOf('.');
  const [module, parameter] = [canonical.slice(0, dot), canonical.slice(dot)];
  if (module in TOP_TO_DIFFUSERS) return `${TOP_TO_DIFFUSERS[module]}${parameter}`;
  let match = /^decoder\.mid\.block_(\d+)\.(\w+)$/.exec(module);
  if (match) return `decoder.mid_block.resnets.${Number(match[1]) - 1}.${RESNET_TO_DIFFUSERS[match[2]]}${parameter}`;
  match = /^decoder\.mid\.attn_1\.(\w+)$/.exec(module);
  if (match) return `decoder.mid_block.attentions.0.${ATTENTION_TO_DIFFUSERS[match[1]]}${parameter}`;
  match = /^decoder\.up\.(\d+)\.block\.(\d+)\.(\w+)$/.exec(module);
  if (match) return `decoder.up_blocks.${levels - 1 - Number(match[1])}.resnets.${match[2]}.${RESNET_TO_DIFFUSERS[match[3]]}${parameter}`;
  match = /^decoder\.up\.(\d+)\.upsample\.conv$/.exec(module);
  if (match) return `decoder.up_blocks.${levels - 1 - Number(match[1])}.upsamplers.0.conv${parameter}`;
  throw invalidInput(`${canonical} is not a canonical VAE decoder tensor.`, 'This is a bug in the app: please report it with this message.');
}
