// T5 encoder hyper-parameters, inferred from tensor shapes (spec/flux.md §4.1), and the list of
// canonical tensors with the shapes a checkpoint must have.

import { modelFileError } from '../../errors';
import { countBlocks, requiredShape, type ShapeOf } from '../checkpoint-plan';
import { T5_OUTPUT_NORM, T5_TOKEN_EMBEDDING, t5BlockTensor } from './names';

export interface T5Config {
  /** 4096 for T5-XXL */
  dModel: number;
  /** 64 */
  heads: number;
  /** size of one head (64) */
  dKv: number;
  /** feed-forward width (10240) */
  dFf: number;
  /** encoder blocks (24) */
  layers: number;
  /** embedding rows (32128) */
  vocab: number;
  /** relative-position buckets (32) */
  buckets: number;
  /** distance from which all positions share the last bucket of a side (128; not stored in files) */
  maxDistance: number;
  /** RMS norm epsilon (1e-6; not stored in files) */
  eps: number;
}

export const T5_WORDS = {
  model: 'T5 encoder',
  action: "Choose a T5 v1.1 encoder file (for example city96's t5-v1_1-xxl-encoder-Q8_0.gguf).",
};

/** Token ids FLUX's T5 tokenizer gives: 0..32099 (its tokenizer.json; a unit test reads the shipped file). */
export const T5_TOKENIZER_VOCABULARY = 32100;

export function inferT5Config(shapeOf: ShapeOf, fileName: string): T5Config {
  const need = (name: string, rank: number) => requiredShape(shapeOf, name, fileName, T5_WORDS, rank);
  const [vocab, dModel] = need(T5_TOKEN_EMBEDDING, 2);
  const [buckets, heads] = need(t5BlockTensor(0, 'attn_rel_b'), 2);
  const inner = need(t5BlockTensor(0, 'attn_q'), 2)[0];
  if (inner % heads !== 0 || buckets % 2 !== 0) {
    throw modelFileError(fileName, `attention width ${inner} with ${heads} heads and ${buckets} position buckets is not a T5 layout`, T5_WORDS.action);
  }
  return {
    dModel,
    heads,
    dKv: inner / heads,
    dFf: need(t5BlockTensor(0, 'ffn_gate'), 2)[0],
    layers: countBlocks(shapeOf, 'enc.blk', 'attn_q.weight'),
    vocab,
    buckets,
    maxDistance: 128,
    eps: 1e-6,
  };
}

/** Every canonical tensor of a T5 encoder with its PyTorch shape. */
export function t5TensorShapes(config: T5Config): Map<string, readonly number[]> {
  const { dModel, dFf } = config;
  const inner = config.heads * config.dKv;
  const shapes = new Map<string, readonly number[]>([[T5_TOKEN_EMBEDDING, [config.vocab, dModel]]]);
  shapes.set(t5BlockTensor(0, 'attn_rel_b'), [config.buckets, config.heads]);
  for (let n = 0; n < config.layers; n++) {
    const block = (tensor: string, shape: readonly number[]) => shapes.set(t5BlockTensor(n, tensor), shape);
    block('attn_norm', [dModel]);
    for (const projection of ['attn_q', 'attn_k', 'attn_v']) block(projection, [inner, dModel]);
    block('attn_o', [dModel, inner]);
    block('ffn_norm', [dModel]);
    block('ffn_gate', [dFf, dModel]);
    block('ffn_up', [dFf, dModel]);
    block('ffn_down', [dModel, dFf]);
  }
  shapes.set(T5_OUTPUT_NORM, [dModel]);
  return shapes;
}
