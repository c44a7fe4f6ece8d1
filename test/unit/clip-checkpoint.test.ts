import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { bytesSource } from '../../src/engine/formats/byte-source';
import { readSafetensors } from '../../src/engine/formats/safetensors';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { planClipCheckpoint, planClipFile } from '../../src/engine/models/clip/checkpoint';
import { CLIP_TOKENIZER_VOCABULARY, clipTensorShapes, type ClipConfig } from '../../src/engine/models/clip/config';
import { canonicalClipName } from '../../src/engine/models/clip/names';
import { clipVectorLayout } from '../../src/engine/models/clip/weights';
import type { FileTensor } from '../../src/engine/models/model-file';
import { concatParts } from './format-fixtures';
import { clipFiles } from './tokenizer-inputs';

/** CLIP ViT-L/14's text encoder (spec/flux.md §4.2). */
const CLIP_L: ClipConfig = { hidden: 768, heads: 12, headDim: 64, layers: 12, mlp: 3072, vocab: 49408, positions: 77, eps: 1e-5 };

function file(config: ClipConfig, prefix = ''): FileTensor[] {
  return [...clipTensorShapes(config)].map(([name, shape]) => ({ name: prefix + name, shape, type: 'F16' }));
}

describe('CLIP tensor names', () => {
  it.each([
    ['text_model.embeddings.token_embedding.weight', 'text_model.embeddings.token_embedding.weight'],
    ['text_model.encoder.layers.11.self_attn.out_proj.bias', 'text_model.encoder.layers.11.self_attn.out_proj.bias'],
    ['text_encoders.clip_l.transformer.text_model.encoder.layers.0.layer_norm2.weight', 'text_model.encoder.layers.0.layer_norm2.weight'],
    ['cond_stage_model.transformer.text_model.final_layer_norm.bias', 'text_model.final_layer_norm.bias'],
    ['clip_l.transformer.text_model.embeddings.position_embedding.weight', 'text_model.embeddings.position_embedding.weight'],
  ])('maps %s to %s', (name, canonical) => {
    expect(canonicalClipName(name)).toBe(canonical);
  });

  it.each(['text_model.embeddings.position_ids', 'text_projection.weight', 'logit_scale', 'vision_model.encoder.layers.0.mlp.fc1.weight', 'text_model.encoder.layers.0.mlp.fc3.weight'])('ignores %s', (name) => {
    expect(canonicalClipName(name)).toBeUndefined();
  });
});

describe('planClipCheckpoint', () => {
  it('infers CLIP-L from the shapes of clip_l.safetensors: 123,060,480 parameters (spec/flux.md §7.1), heads of 64', () => {
    const tensors = file(CLIP_L, 'text_encoders.clip_l.transformer.');
    expect(tensors.reduce((sum, tensor) => sum + tensor.shape.reduce((a, b) => a * b, 1), 0)).toBe(123_060_480);
    tensors.push({ name: 'text_encoders.clip_l.logit_scale', shape: [], type: 'F32' });
    const plan = planClipCheckpoint('clip_l.safetensors', tensors);
    expect(plan.config).toEqual(CLIP_L);
    expect(plan.ignored).toEqual(['text_encoders.clip_l.logit_scale']);
  });

  it('takes a stated head count, and refuses a width that does not split into heads of 64 without one', () => {
    const tiny = { ...CLIP_L, hidden: 96, heads: 3, headDim: 32, layers: 1, mlp: 128 };
    expect(planClipCheckpoint('tiny.safetensors', file(tiny), 3).config).toEqual(tiny);
    expect(() => planClipCheckpoint('tiny.safetensors', file(tiny))).toThrowError(expect.objectContaining({ code: 'model-file', message: expect.stringMatching(/hidden size 96 does not split into heads of 64/) }));
  });

  it("refuses a position table other than the tokenizer's 77 positions, and a token table without its ids", () => {
    expect(() => planClipCheckpoint('long.safetensors', file({ ...CLIP_L, positions: 248 }))).toThrowError(
      expect.objectContaining({ code: 'model-file', message: expect.stringMatching(/the position table has 248 positions, but the tokenizer gives CLIP 77/) }),
    );
    expect(() => planClipCheckpoint('short.safetensors', file({ ...CLIP_L, positions: 76 }))).toThrowError(/76 positions/);
    expect(() => planClipCheckpoint('small.safetensors', file({ ...CLIP_L, vocab: 49407 }))).toThrowError(/the token table has 49407 rows, but the tokenizer gives ids up to 49407/);
    const flat = file(CLIP_L).map((tensor) => (tensor.name.endsWith('position_embedding.weight') ? { ...tensor, shape: [77 * 768] } : tensor));
    expect(() => planClipCheckpoint('flat.safetensors', flat)).toThrowError(/position_embedding\.weight has shape \[59136\]; a CLIP text encoder needs 2 dimensions/);
  });

  it('refuses quantized LayerNorm parameters and missing tensors', () => {
    const quantized = file(CLIP_L).map((tensor) => (tensor.name.endsWith('layers.4.layer_norm1.weight') ? { ...tensor, type: 'Q8_0' as const } : tensor));
    expect(() => planClipCheckpoint('a.safetensors', quantized)).toThrowError(EngineError);
    const missing = file(CLIP_L).filter((tensor) => !tensor.name.endsWith('layers.7.mlp.fc2.bias'));
    expect(() => planClipCheckpoint('b.safetensors', missing)).toThrowError(/layers\.7\.mlp\.fc2\.bias is missing/);
  });
});

describe('CLIP files against the tokenizer', () => {
  it("knows the shipped tokenizer's vocabulary: one past its largest id", () => {
    expect(CLIP_TOKENIZER_VOCABULARY).toBe(Math.max(...Object.values(clipFiles.vocab)) + 1);
  });

  it('refuses a num_attention_heads in the metadata that is not a number of heads', async () => {
    for (const heads of ['twelve', '0', '-3', '1e3', '']) {
      const file = await readSafetensors(bytesSource(concatParts(encodeSafetensors([], { num_attention_heads: heads })), 'clip.safetensors'));
      expect(() => planClipFile(file)).toThrowError(expect.objectContaining({ code: 'model-file', message: expect.stringContaining(`num_attention_heads is ${JSON.stringify(heads)}, not a number of heads`) }));
    }
  });
});

describe('clipVectorLayout', () => {
  it('places every bias and LayerNorm parameter once, without gaps or overlaps', () => {
    const config = { ...CLIP_L, layers: 3 };
    const layout = clipVectorLayout(config);
    const { hidden, mlp } = config;
    const ranges: [number, number][] = [
      ...Array.from({ length: config.layers }, (_, n) => {
        const at = layout.layer(n);
        return [[at.norm1.weight, hidden], [at.norm1.bias, hidden], [at.qkvBias, 3 * hidden], [at.outputBias, hidden], [at.norm2.weight, hidden], [at.norm2.bias, hidden], [at.fc1Bias, mlp], [at.fc2Bias, hidden]] as [number, number][];
      }).flat(),
      [layout.finalNorm.weight, hidden],
      [layout.finalNorm.bias, hidden],
    ];
    const covered = new Uint8Array(layout.length);
    for (const [start, length] of ranges) for (let i = start; i < start + length; i++) covered[i]++;
    expect(covered.every((count) => count === 1)).toBe(true);
  });
});
