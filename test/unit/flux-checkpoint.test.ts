import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { planFluxCheckpoint } from '../../src/engine/models/flux/checkpoint';
import type { FileTensor } from '../../src/engine/models/model-file';
import { fluxTensorShapes, type FluxConfig } from '../../src/engine/models/flux/config';
import { canonicalFluxName, diffusersNamesFor } from '../../src/engine/models/flux/names';

const TINY: FluxConfig = {
  hidden: 256, heads: 2, headDim: 128, doubleBlocks: 2, singleBlocks: 3, mlpHidden: 1024,
  inChannels: 64, contextDim: 96, vecDim: 48, guidance: true, axesDim: [16, 56, 56], theta: 10000,
};

function bflFile(config: FluxConfig): FileTensor[] {
  return [...fluxTensorShapes(config)].map(([name, shape]) => ({ name, shape, type: shape.length === 1 ? 'F32' : 'Q8_0' }));
}

/** Rows of one diffusers part: linear1 splits into q, k, v (hidden rows each) and the MLP. */
function partRows(config: FluxConfig, rows: number, part: number, parts: number): number {
  return parts === 4 ? (part < 3 ? config.hidden : config.mlpHidden) : rows / parts;
}

/** The diffusers layout, written out by splitting tensors as the diffusers converter does. */
function diffusersFile(config: FluxConfig): FileTensor[] {
  return bflFile(config).flatMap(({ name, shape, type }) =>
    diffusersNamesFor(name).map(({ name: diffusersName, target }) => ({
      name: diffusersName,
      shape: [partRows(config, shape[0], target.part, target.parts), ...shape.slice(1)],
      type,
    })),
  );
}

describe('FLUX tensor names', () => {
  it.each([
    ['double_blocks.4.img_attn.qkv.weight', 'double_blocks.4.img_attn.qkv.weight', 0, 1],
    ['model.diffusion_model.single_blocks.7.linear2.bias', 'single_blocks.7.linear2.bias', 0, 1],
    ['transformer_blocks.4.attn.to_k.weight', 'double_blocks.4.img_attn.qkv.weight', 1, 3],
    ['transformer_blocks.0.attn.add_v_proj.bias', 'double_blocks.0.txt_attn.qkv.bias', 2, 3],
    ['transformer_blocks.2.attn.norm_added_q.weight', 'double_blocks.2.txt_attn.norm.query_norm.scale', 0, 1],
    ['transformer_blocks.2.ff_context.net.2.weight', 'double_blocks.2.txt_mlp.2.weight', 0, 1],
    ['single_transformer_blocks.11.proj_mlp.weight', 'single_blocks.11.linear1.weight', 3, 4],
    ['single_transformer_blocks.11.attn.norm_k.weight', 'single_blocks.11.norm.key_norm.scale', 0, 1],
    ['single_transformer_blocks.3.proj_out.weight', 'single_blocks.3.linear2.weight', 0, 1],
    ['time_text_embed.guidance_embedder.linear_2.bias', 'guidance_in.out_layer.bias', 0, 1],
    ['proj_out.weight', 'final_layer.linear.weight', 0, 1],
  ])('maps %s to %s (part %i of %i)', (name, canonical, part, parts) => {
    expect(canonicalFluxName(name)).toEqual({ canonical, part, parts, swapHalves: false });
  });

  it("marks diffusers' final modulation as swapped halves", () => {
    expect(canonicalFluxName('norm_out.linear.weight')).toEqual({ canonical: 'final_layer.adaLN_modulation.1.weight', part: 0, parts: 1, swapHalves: true });
  });

  it('ignores tensors that are not part of the transformer', () => {
    expect(canonicalFluxName('vae.decoder.conv_in.weight')).toBeUndefined();
    expect(canonicalFluxName('double_blocks.0.img_attn.qkv.weight_scale')).toBeUndefined();
  });
});

describe('planFluxCheckpoint', () => {
  it('infers the config from BFL names', () => {
    const plan = planFluxCheckpoint('tiny.gguf', bflFile(TINY));
    expect(plan.config).toEqual(TINY);
    expect(plan.tensors.get('single_blocks.2.linear1.weight')?.shape).toEqual([3 * 256 + 1024, 256]);
  });

  it('infers schnell (no guidance embedder)', () => {
    const schnell = { ...TINY, guidance: false };
    expect(planFluxCheckpoint('tiny.gguf', bflFile(schnell)).config.guidance).toBe(false);
  });

  it('assembles split diffusers tensors at successive row offsets', () => {
    const plan = planFluxCheckpoint('tiny.safetensors', diffusersFile(TINY));
    expect(plan.config).toEqual(TINY);
    const linear1 = plan.tensors.get('single_blocks.1.linear1.weight')!;
    expect(linear1.sources.map((s) => [s.file.name, s.rowOffset])).toEqual([
      ['single_transformer_blocks.1.attn.to_q.weight', 0],
      ['single_transformer_blocks.1.attn.to_k.weight', 256],
      ['single_transformer_blocks.1.attn.to_v.weight', 512],
      ['single_transformer_blocks.1.proj_mlp.weight', 768],
    ]);
    expect(plan.tensors.get('final_layer.adaLN_modulation.1.bias')!.sources[0].swapHalves).toBe(true);
  });

  const failures: [string, (file: FileTensor[]) => FileTensor[], RegExp][] = [
    ['a missing tensor', (f) => f.filter((t) => t.name !== 'single_blocks.1.linear2.bias'), /single_blocks\.1\.linear2\.bias is missing/],
    ['a wrong shape', (f) => f.map((t) => (t.name === 'txt_in.bias' ? { ...t, shape: [255] } : t)), /txt_in\.bias has shape \[255\]/],
    ['a duplicate', (f) => [...f, { ...f[0], name: `model.diffusion_model.${f[0].name}` }], /appears twice/],
    ['no img_in', (f) => f.filter((t) => !t.name.startsWith('img_in')), /img_in\.weight is missing/],
    ['latents of 32 channels', () => bflFile({ ...TINY, inChannels: 32 }), /img_in reads 32 channels per token; FLUX\.1 latents have 64/],
    ['a width that is not whole heads', () => bflFile({ ...TINY, hidden: 320 }), /hidden size 320 is not a whole number of heads of 128/],
    ['a K-quant matrix', (f) => f.map((t) => (t.name === 'single_blocks.2.linear1.weight' ? { ...t, type: 'Q4_K' as const } : t)), /single_blocks\.2\.linear1\.weight is Q4_K, a K-quant, which this app does not compute on/],
    ['a 1-D img_in', (f) => f.map((t) => (t.name === 'img_in.weight' ? { ...t, shape: [256] } : t)), /img_in\.weight has shape \[256\]; a FLUX\.1 transformer needs 2 dimensions/],
    ['a zero-size dimension', (f) => f.map((t) => (t.name === 'txt_in.weight' ? { ...t, shape: [256, 0] } : t)), /txt_in\.weight has shape \[256, 0\]/],
    ['a tensor without dimensions', (f) => f.map((t) => (t.name === 'final_layer.linear.bias' ? { ...t, shape: [] } : t)), /final_layer\.linear\.bias has no dimensions/],
  ];
  it.each(failures)('refuses %s with a model-file error', (_, corrupt, message) => {
    const error = (() => {
      try {
        planFluxCheckpoint('bad.gguf', corrupt(bflFile(TINY)));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('model-file');
    expect((error as EngineError).message).toMatch(message);
    expect((error as EngineError).message).not.toMatch(/undefined|NaN|\[object/);
  });

  it('refuses a diffusers checkpoint with a missing part', () => {
    const file = diffusersFile(TINY).filter((t) => t.name !== 'transformer_blocks.1.attn.to_v.weight');
    expect(() => planFluxCheckpoint('bad.safetensors', file)).toThrowError(/split into 3 parts but 2 are present/);
  });
});
