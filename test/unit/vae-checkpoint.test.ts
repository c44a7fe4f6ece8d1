import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import type { GgmlTypeName } from '../../src/engine/formats/ggml-types';
import type { FileTensor } from '../../src/engine/models/model-file';
import { rowsPerPart } from '../../src/engine/models/vae/banded-tensor';
import { planVaeCheckpoint } from '../../src/engine/models/vae/checkpoint';
import { FLUX_VAE_DECODER, vaeTensorShapes, type VaeDecoderConfig } from '../../src/engine/models/vae/config';
import { canonicalVaeName, diffusersVaeName } from '../../src/engine/models/vae/names';
import { neededInputRows, tapMajorWeights } from '../../src/engine/ops/conv';

const TINY: VaeDecoderConfig = { channels: 32, channelMultipliers: [1, 2, 4], blocksPerLevel: 2, zChannels: 16, outChannels: 3 };
const ATTENTION_WEIGHTS = /^decoder\.mid\.attn_1\.(q|k|v|proj_out)\.weight$/;

function bflFile(config: VaeDecoderConfig, type: GgmlTypeName = 'F32'): FileTensor[] {
  const encoder: FileTensor[] = [{ name: 'encoder.conv_in.weight', shape: [128, 3, 3, 3], type }, { name: 'encoder.conv_in.bias', shape: [128], type }];
  return [...encoder, ...[...vaeTensorShapes(config)].map(([name, shape]) => ({ name, shape, type }))];
}

function diffusersFile(config: VaeDecoderConfig): FileTensor[] {
  const levels = config.channelMultipliers.length;
  return [...vaeTensorShapes(config)].map(([name, shape]) => ({ name: diffusersVaeName(name, levels), shape: ATTENTION_WEIGHTS.test(name) ? shape.slice(0, 2) : shape, type: 'F16' }));
}

describe('VAE tensor names (spec/flux.md §5.4)', () => {
  it.each([
    ['decoder.up.2.block.1.conv2.weight', 'decoder.up.2.block.1.conv2.weight'],
    ['decoder.mid_block.resnets.0.norm1.bias', 'decoder.mid.block_1.norm1.bias'],
    ['decoder.mid_block.resnets.1.conv2.weight', 'decoder.mid.block_2.conv2.weight'],
    ['decoder.mid_block.attentions.0.group_norm.weight', 'decoder.mid.attn_1.norm.weight'],
    ['decoder.mid_block.attentions.0.to_v.bias', 'decoder.mid.attn_1.v.bias'],
    ['decoder.mid_block.attentions.0.to_out.0.weight', 'decoder.mid.attn_1.proj_out.weight'],
    ['decoder.up_blocks.0.resnets.2.conv1.weight', 'decoder.up.3.block.2.conv1.weight'],
    ['decoder.up_blocks.3.resnets.0.conv_shortcut.bias', 'decoder.up.0.block.0.nin_shortcut.bias'],
    ['decoder.up_blocks.1.upsamplers.0.conv.weight', 'decoder.up.2.upsample.conv.weight'],
    ['decoder.conv_norm_out.weight', 'decoder.norm_out.weight'],
    ['decoder.conv_in.bias', 'decoder.conv_in.bias'],
    ['encoder.down.0.block.0.conv1.weight', undefined],
    ['quant_conv.weight', undefined],
  ])('%s -> %s', (name, canonical) => {
    expect(canonicalVaeName(name, 4)).toBe(canonical);
  });

  it('maps every canonical tensor to diffusers and back', () => {
    for (const name of vaeTensorShapes(FLUX_VAE_DECODER).keys()) expect(canonicalVaeName(diffusersVaeName(name, 4), 4)).toBe(name);
  });
});

describe('VAE checkpoint plan', () => {
  it('describes FLUX.1 ae.safetensors: 138 decoder tensors, 49,545,475 parameters (spec/flux.md §3.6)', () => {
    const plan = planVaeCheckpoint('ae.safetensors', bflFile(FLUX_VAE_DECODER));
    expect(plan.config).toEqual(FLUX_VAE_DECODER);
    expect(plan.tensors.size).toBe(138);
    expect([...plan.tensors.values()].reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0)).toBe(49_545_475);
    expect(plan.ignored).toEqual(['encoder.conv_in.weight', 'encoder.conv_in.bias']);
  });

  it('reads the config of a diffusers file with squeezed attention weights', () => {
    const plan = planVaeCheckpoint('diffusion_pytorch_model.safetensors', diffusersFile(TINY));
    expect(plan.config).toEqual(TINY);
    expect(plan.tensors.get('decoder.mid.attn_1.q.weight')!.shape).toEqual([128, 128]);
  });

  const refused = (what: string, file: FileTensor[], message: RegExp) =>
    it(`refuses ${what}`, () => {
      let error: unknown;
      try {
        planVaeCheckpoint('vae.safetensors', file);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).code).toBe('model-file');
      expect((error as EngineError).message).toMatch(message);
      expect((error as EngineError).message).not.toMatch(/undefined|NaN|\[object/);
    });

  refused('a missing tensor', bflFile(TINY).filter((t) => t.name !== 'decoder.up.1.block.1.norm2.bias'), /decoder\.up\.1\.block\.1\.norm2\.bias is missing/);
  refused('a wrong shape', bflFile(TINY).map((t) => (t.name === 'decoder.conv_out.weight' ? { ...t, shape: [3, 32, 1, 1] } : t)), /shape \[3, 32, 1, 1\]/);
  refused('quantized weights', bflFile(TINY, 'Q8_0'), /Q8_0/);
  refused('q, k and v of different types', bflFile(TINY).map((t) => (t.name === 'decoder.mid.attn_1.k.weight' ? { ...t, type: 'F16' as const } : t)), /q, k and v/);
  refused('channels that do not split into 32 groups', bflFile({ ...TINY, channels: 48 }), /48 channels/);
  refused('a decoder of 4 latent channels', bflFile({ ...TINY, zChannels: 4 }), /reads 4 latent channels and writes 3; FLUX\.1's reads 16 and writes 3/);
  refused('a decoder writing 4 channels', bflFile({ ...TINY, outChannels: 4 }), /writes 4; FLUX\.1's reads 16 and writes 3/);
  refused('a conv_out without channels', bflFile(TINY).map((t) => (t.name === 'decoder.conv_out.weight' ? { ...t, shape: [3] } : t)), /conv_out\.weight has shape \[3\]; a FLUX\.1 VAE needs 2 dimensions/);
  refused('a file without a decoder', [{ name: 'encoder.conv_in.weight', shape: [128, 3, 3, 3], type: 'F32' }], /decoder\.conv_out\.weight is missing/);
});

describe('convolution geometry', () => {
  it('reorders PyTorch [out, in, k, k] weights tap-major', () => {
    // out 1, in 2, 3x3: value = 10 · channel + tap
    const pytorch = Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 9) + (i % 9));
    expect([...tapMajorWeights(pytorch, 1, 2, 3)]).toEqual([0, 10, 1, 11, 2, 12, 3, 13, 4, 14, 5, 15, 6, 16, 7, 17, 8, 18]);
  });

  it.each([
    // output rows, kernel, upsampling, input height -> first and last input row read
    [{ firstRow: 0, rows: 4 }, 3, 1, 10, [0, 4]],
    [{ firstRow: 4, rows: 3 }, 3, 1, 10, [3, 7]],
    [{ firstRow: 8, rows: 2 }, 3, 1, 10, [7, 9]],
    [{ firstRow: 4, rows: 3 }, 1, 1, 10, [4, 6]],
    [{ firstRow: 6, rows: 4 }, 3, 2, 8, [2, 5]],
    [{ firstRow: 14, rows: 2 }, 3, 2, 8, [6, 7]],
  ] as const)('output rows %o of a %ix%i conv (scale %i, input height %i) read input rows %o', (band, kernel, scale, height, rows) => {
    expect(neededInputRows(band, kernel, scale, height)).toEqual(rows);
  });

  it('splits an activation into parts of at most the cap, halo rows included', () => {
    const size = { height: 1024, width: 1024, channels: 256 };
    // 1 MiB rows: 64 MiB holds 62 rows and 2 halo rows.
    expect(rowsPerPart(size, 64 * 2 ** 20)).toBe(62);
    expect(rowsPerPart(size, 2 ** 30)).toBe(1024);
    expect(rowsPerPart(size, 1)).toBe(1);
  });
});
