import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import type { GgmlTypeName } from '../../src/engine/formats/ggml-types';
import type { FileTensor } from '../../src/engine/models/model-file';
import { planT5Checkpoint } from '../../src/engine/models/t5/checkpoint';
import { T5_TOKENIZER_VOCABULARY, t5TensorShapes, type T5Config } from '../../src/engine/models/t5/config';
import { canonicalT5Name, huggingFaceT5Name } from '../../src/engine/models/t5/names';
import { t5Files } from './tokenizer-inputs';

/** T5 v1.1 XXL (spec/flux.md §4.1). */
const XXL: T5Config = { dModel: 4096, heads: 64, dKv: 64, dFf: 10240, layers: 24, vocab: 32128, buckets: 32, maxDistance: 128, eps: 1e-6 };

/** A city96-style file: 1-D tensors F32, the position bias F16, everything else in `type`. */
function ggufFile(config: T5Config, type: GgmlTypeName = 'Q8_0'): FileTensor[] {
  return [...t5TensorShapes(config)].map(([name, shape]) => ({ name, shape, type: shape.length === 1 ? 'F32' : name.endsWith('attn_rel_b.weight') ? 'F16' : type }));
}

function expectModelFileError(plan: () => unknown, message: RegExp): EngineError {
  let caught: unknown;
  try {
    plan();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EngineError);
  expect((caught as EngineError).code).toBe('model-file');
  expect((caught as EngineError).message).toMatch(message);
  expect((caught as EngineError).message).not.toMatch(/undefined|NaN|\[object/);
  return caught as EngineError;
}

describe('T5 files against the tokenizer', () => {
  it("knows the shipped tokenizer's vocabulary: one past its largest id, added tokens included", () => {
    const added = (t5Files.tokenizer as unknown as { added_tokens: { id: number }[] }).added_tokens.map((token) => token.id);
    expect(T5_TOKENIZER_VOCABULARY).toBe(Math.max(t5Files.tokenizer.model.vocab.length - 1, ...added) + 1);
  });
});

describe('T5 tensor names', () => {
  it.each([
    ['token_embd.weight', 'token_embd.weight'],
    ['enc.blk.23.ffn_down.weight', 'enc.blk.23.ffn_down.weight'],
    ['shared.weight', 'token_embd.weight'],
    ['encoder.embed_tokens.weight', 'token_embd.weight'],
    ['encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', 'enc.blk.0.attn_rel_b.weight'],
    ['encoder.block.7.layer.0.SelfAttention.o.weight', 'enc.blk.7.attn_o.weight'],
    ['encoder.block.7.layer.0.layer_norm.weight', 'enc.blk.7.attn_norm.weight'],
    ['encoder.block.12.layer.1.DenseReluDense.wi_0.weight', 'enc.blk.12.ffn_gate.weight'],
    ['encoder.block.12.layer.1.DenseReluDense.wi_1.weight', 'enc.blk.12.ffn_up.weight'],
    ['encoder.block.12.layer.1.layer_norm.weight', 'enc.blk.12.ffn_norm.weight'],
    ['text_encoders.t5xxl.transformer.encoder.final_layer_norm.weight', 'enc.output_norm.weight'],
    ['text_encoders.t5xxl.transformer.encoder.block.3.layer.0.SelfAttention.q.weight', 'enc.blk.3.attn_q.weight'],
  ])('maps %s to %s', (name, canonical) => {
    expect(canonicalT5Name(name)).toBe(canonical);
  });

  it.each(['decoder.block.0.layer.0.SelfAttention.q.weight', 'decoder.embed_tokens.weight', 'lm_head.weight', 'dec.blk.0.attn_q.weight', 'enc.blk.0.attn_q.bias'])('ignores %s', (name) => {
    expect(canonicalT5Name(name)).toBeUndefined();
  });

  it('writes Hugging Face names that map back to every canonical tensor', () => {
    for (const name of t5TensorShapes(XXL).keys()) expect(canonicalT5Name(huggingFaceT5Name(name))).toBe(name);
  });
});

describe('planT5Checkpoint', () => {
  it("infers T5 v1.1 XXL from a city96 file's shapes: 4,762,310,656 parameters in 219 tensors (spec/flux.md §4.1)", () => {
    const file = ggufFile(XXL);
    const plan = planT5Checkpoint('t5-v1_1-xxl-encoder-Q8_0.gguf', file);
    expect(plan.config).toEqual(XXL);
    expect(plan.tensors.size).toBe(219);
    expect(file.reduce((sum, tensor) => sum + tensor.shape.reduce((a, b) => a * b, 1), 0)).toBe(4_762_310_656);
  });

  it('reads Hugging Face files, keeping one copy of the tied embedding and ignoring the decoder', () => {
    const file = ggufFile(XXL, 'F16').map((tensor) => ({ ...tensor, name: huggingFaceT5Name(tensor.name), type: 'BF16' as const }));
    const embedding = file.find((tensor) => tensor.name === 'shared.weight')!;
    file.push({ ...embedding, name: 'encoder.embed_tokens.weight' }, { name: 'decoder.final_layer_norm.weight', shape: [4096], type: 'BF16' });
    const plan = planT5Checkpoint('t5xxl_bf16.safetensors', file);
    expect(plan.config).toEqual(XXL);
    expect(plan.tensors.get('token_embd.weight')!.name).toBe('shared.weight');
    expect(plan.ignored.sort()).toEqual(['decoder.final_layer_norm.weight', 'encoder.embed_tokens.weight']);
  });

  it('refuses K-quant files, naming the tensor, its type and the file to choose instead', () => {
    const file = ggufFile(XXL, 'Q5_K');
    const error = expectModelFileError(() => planT5Checkpoint('t5-v1_1-xxl-encoder-Q5_K_M.gguf', file), /token_embd\.weight is Q5_K, a K-quant/);
    expect(error.action).toMatch(/t5-v1_1-xxl-encoder-Q8_0\.gguf/);
  });

  it('refuses quantized norms, q/k/v of different types, missing and misshapen tensors', () => {
    const quantizedNorm = ggufFile(XXL).map((tensor) => (tensor.name === 'enc.blk.3.ffn_norm.weight' ? { ...tensor, type: 'Q8_0' as const } : tensor));
    expectModelFileError(() => planT5Checkpoint('a.gguf', quantizedNorm), /enc\.blk\.3\.ffn_norm\.weight is Q8_0/);
    const mixed = ggufFile(XXL).map((tensor) => (tensor.name === 'enc.blk.5.attn_k.weight' ? { ...tensor, type: 'F16' as const } : tensor));
    expectModelFileError(() => planT5Checkpoint('b.gguf', mixed), /enc\.blk\.5\.attn_q\.weight, enc\.blk\.5\.attn_k\.weight, enc\.blk\.5\.attn_v\.weight are stored as Q8_0, F16, Q8_0/);
    expectModelFileError(() => planT5Checkpoint('c.gguf', ggufFile(XXL).filter((tensor) => tensor.name !== 'enc.blk.9.ffn_up.weight')), /enc\.blk\.9\.ffn_up\.weight is missing/);
    const misshapen = ggufFile(XXL).map((tensor) => (tensor.name === 'enc.blk.2.attn_o.weight' ? { ...tensor, shape: [4096, 4095] } : tensor));
    expectModelFileError(() => planT5Checkpoint('d.gguf', misshapen), /enc\.blk\.2\.attn_o\.weight has shape \[4096, 4095\], expected \[4096, 4096\]/);
    expectModelFileError(() => planT5Checkpoint('flux.gguf', [{ name: 'img_in.weight', shape: [3072, 64], type: 'F16' }]), /token_embd\.weight is missing, so this is not a T5 encoder/);
    expectModelFileError(() => planT5Checkpoint('small-vocabulary.gguf', ggufFile({ ...XXL, vocab: 32000 })), /the token table has 32000 rows, but the tokenizer gives ids up to 32099/);
    expectModelFileError(() => planT5Checkpoint('no-buckets.gguf', ggufFile({ ...XXL, buckets: 0 })), /attn_rel_b\.weight has shape \[0, 64\]/);
  });
});
