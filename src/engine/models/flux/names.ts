// Tensor names of FLUX transformer checkpoints. BFL names (as in city96's GGUF files) are the
// engine's canonical names; diffusers names map onto them (spec/flux.md §5.3). Diffusers splits
// the fused projections (qkv, linear1) into parts that the loader writes at successive row
// offsets, and stores the final layer's modulation with its two halves swapped.

export interface CanonicalTarget {
  /** BFL name, e.g. "double_blocks.3.img_attn.qkv.weight". */
  canonical: string;
  /** This source is part `part` of `parts` stacked along rows (0 of 1 when not split). */
  part: number;
  parts: number;
  /** Rows [0, n/2) and [n/2, n) trade places (diffusers' final-layer scale/shift order). */
  swapHalves: boolean;
}

/** Prefix some third-party checkpoints put on every key. */
const STRIPPED_PREFIXES = ['model.diffusion_model.', 'diffusion_model.'];

const whole = (canonical: string, swapHalves = false): CanonicalTarget => ({ canonical, part: 0, parts: 1, swapHalves });
const split = (canonical: string, part: number, parts: number): CanonicalTarget => ({ canonical, part, parts, swapHalves: false });

const DIFFUSERS_TOP: Record<string, CanonicalTarget> = {
  'x_embedder': whole('img_in'),
  'context_embedder': whole('txt_in'),
  'time_text_embed.timestep_embedder.linear_1': whole('time_in.in_layer'),
  'time_text_embed.timestep_embedder.linear_2': whole('time_in.out_layer'),
  'time_text_embed.text_embedder.linear_1': whole('vector_in.in_layer'),
  'time_text_embed.text_embedder.linear_2': whole('vector_in.out_layer'),
  'time_text_embed.guidance_embedder.linear_1': whole('guidance_in.in_layer'),
  'time_text_embed.guidance_embedder.linear_2': whole('guidance_in.out_layer'),
  'norm_out.linear': whole('final_layer.adaLN_modulation.1', true),
  'proj_out': whole('final_layer.linear'),
};

const DIFFUSERS_DOUBLE: Record<string, (n: string) => CanonicalTarget> = {
  'norm1.linear': (n) => whole(`double_blocks.${n}.img_mod.lin`),
  'norm1_context.linear': (n) => whole(`double_blocks.${n}.txt_mod.lin`),
  'attn.to_q': (n) => split(`double_blocks.${n}.img_attn.qkv`, 0, 3),
  'attn.to_k': (n) => split(`double_blocks.${n}.img_attn.qkv`, 1, 3),
  'attn.to_v': (n) => split(`double_blocks.${n}.img_attn.qkv`, 2, 3),
  'attn.add_q_proj': (n) => split(`double_blocks.${n}.txt_attn.qkv`, 0, 3),
  'attn.add_k_proj': (n) => split(`double_blocks.${n}.txt_attn.qkv`, 1, 3),
  'attn.add_v_proj': (n) => split(`double_blocks.${n}.txt_attn.qkv`, 2, 3),
  'attn.norm_q': (n) => whole(`double_blocks.${n}.img_attn.norm.query_norm`),
  'attn.norm_k': (n) => whole(`double_blocks.${n}.img_attn.norm.key_norm`),
  'attn.norm_added_q': (n) => whole(`double_blocks.${n}.txt_attn.norm.query_norm`),
  'attn.norm_added_k': (n) => whole(`double_blocks.${n}.txt_attn.norm.key_norm`),
  'attn.to_out.0': (n) => whole(`double_blocks.${n}.img_attn.proj`),
  'attn.to_add_out': (n) => whole(`double_blocks.${n}.txt_attn.proj`),
  'ff.net.0.proj': (n) => whole(`double_blocks.${n}.img_mlp.0`),
  'ff.net.2': (n) => whole(`double_blocks.${n}.img_mlp.2`),
  'ff_context.net.0.proj': (n) => whole(`double_blocks.${n}.txt_mlp.0`),
  'ff_context.net.2': (n) => whole(`double_blocks.${n}.txt_mlp.2`),
};

const DIFFUSERS_SINGLE: Record<string, (n: string) => CanonicalTarget> = {
  'norm.linear': (n) => whole(`single_blocks.${n}.modulation.lin`),
  'attn.to_q': (n) => split(`single_blocks.${n}.linear1`, 0, 4),
  'attn.to_k': (n) => split(`single_blocks.${n}.linear1`, 1, 4),
  'attn.to_v': (n) => split(`single_blocks.${n}.linear1`, 2, 4),
  'proj_mlp': (n) => split(`single_blocks.${n}.linear1`, 3, 4),
  'attn.norm_q': (n) => whole(`single_blocks.${n}.norm.query_norm`),
  'attn.norm_k': (n) => whole(`single_blocks.${n}.norm.key_norm`),
  'proj_out': (n) => whole(`single_blocks.${n}.linear2`),
};

/** The parameter suffix: BFL RMSNorm scales are ".scale" where diffusers says ".weight". */
function parameterSuffix(module: string, parameter: string): string {
  return module.endsWith('_norm') && parameter === 'weight' ? 'scale' : parameter;
}

/**
 * Maps a checkpoint tensor name (BFL or diffusers, with or without a known prefix) to its
 * canonical BFL target; undefined for names that are not part of the FLUX transformer.
 */
export function canonicalFluxName(name: string): CanonicalTarget | undefined {
  const key = STRIPPED_PREFIXES.reduce((k, prefix) => (k.startsWith(prefix) ? k.slice(prefix.length) : k), name);
  const dot = key.lastIndexOf('.');
  if (dot < 0) return undefined;
  const [module, parameter] = [key.slice(0, dot), key.slice(dot + 1)];
  if (parameter !== 'weight' && parameter !== 'bias' && parameter !== 'scale') return undefined;
  if (isBflName(module)) return whole(key);
  const target = diffusersModule(module);
  return target && { ...target, canonical: `${target.canonical}.${parameterSuffix(target.canonical, parameter)}` };
}

function diffusersModule(module: string): CanonicalTarget | undefined {
  const top = DIFFUSERS_TOP[module];
  if (top) return top;
  const block = /^(transformer_blocks|single_transformer_blocks)\.(\d+)\.(.+)$/.exec(module);
  if (!block) return undefined;
  const table = block[1] === 'transformer_blocks' ? DIFFUSERS_DOUBLE : DIFFUSERS_SINGLE;
  return table[block[3]]?.(block[2]);
}

const BFL_MODULE = new RegExp(
  '^(img_in|txt_in|(time_in|vector_in|guidance_in)\\.(in_layer|out_layer)|final_layer\\.(linear|adaLN_modulation\\.1)' +
    '|double_blocks\\.\\d+\\.((img|txt)_mod\\.lin|(img|txt)_attn\\.(qkv|proj|norm\\.(query|key)_norm)|(img|txt)_mlp\\.[02])' +
    '|single_blocks\\.\\d+\\.(linear1|linear2|modulation\\.lin|norm\\.(query|key)_norm))$',
);

function isBflName(module: string): boolean {
  return BFL_MODULE.test(module);
}

/**
 * The diffusers tensors that hold a canonical BFL tensor (the inverse of canonicalFluxName, built
 * from the same tables): used to write diffusers-layout test checkpoints.
 */
export function diffusersNamesFor(canonical: string): { name: string; target: CanonicalTarget }[] {
  const dot = canonical.lastIndexOf('.');
  const [module, parameter] = [canonical.slice(0, dot), canonical.slice(dot + 1)];
  const diffusersParameter = parameter === 'scale' ? 'weight' : parameter;
  const block = /^(double_blocks|single_blocks)\.(\d+)\./.exec(module);
  const candidates: [string, CanonicalTarget][] = block
    ? Object.entries(block[1] === 'double_blocks' ? DIFFUSERS_DOUBLE : DIFFUSERS_SINGLE).map(([suffix, target]) => [
        `${block[1] === 'double_blocks' ? 'transformer_blocks' : 'single_transformer_blocks'}.${block[2]}.${suffix}`,
        target(block[2]),
      ])
    : Object.entries(DIFFUSERS_TOP);
  return candidates
    .filter(([, target]) => target.canonical === module)
    .map(([name, target]) => ({ name: `${name}.${diffusersParameter}`, target: { ...target, canonical } }));
}
