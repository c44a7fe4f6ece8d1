// CLIP text encoder hyper-parameters (spec/flux.md §4.2), inferred from tensor shapes, and the
// list of canonical tensors with the shapes a checkpoint must have. The head count is not
// recoverable from shapes: CLIP-L's head size is 64, unless the file's metadata says otherwise.

import { modelFileError } from '../../errors';
import { CLIP_MAX_LENGTH } from '../../text/clip-tokenizer';
import { countBlocks, requireConsistent, requiredShape, type ShapeOf } from '../checkpoint-plan';
import { CLIP_POSITION_EMBEDDING, CLIP_TOKEN_EMBEDDING, clipFinalNorm, clipLayerTensor } from './names';

export interface ClipConfig {
  /** 768 for CLIP-L: also the pooled vector FLUX takes as y */
  hidden: number;
  /** 12 */
  heads: number;
  /** 64 */
  headDim: number;
  /** 12 */
  layers: number;
  /** MLP width (3072) */
  mlp: number;
  /** 49408 */
  vocab: number;
  /** learned positions (77) */
  positions: number;
  /** LayerNorm epsilon (1e-5; not stored in files) */
  eps: number;
}

export const CLIP_WORDS = {
  model: 'CLIP text encoder',
  action: "Choose a CLIP-L text encoder file (for example FLUX's clip_l.safetensors).",
};

/** CLIP-L's head size, used when a file does not give its head count. */
const HEAD_DIM = 64;

/** Token ids FLUX's CLIP tokenizer gives: 0..49407 (its vocab.json; a unit test reads the shipped file). */
export const CLIP_TOKENIZER_VOCABULARY = 49408;

export function inferClipConfig(shapeOf: ShapeOf, fileName: string, heads?: number): ClipConfig {
  const need = (name: string, rank: number) => requiredShape(shapeOf, name, fileName, CLIP_WORDS, rank);
  const [vocab, hidden] = need(CLIP_TOKEN_EMBEDDING, 2);
  const headCount = heads ?? hidden / HEAD_DIM;
  if (!Number.isInteger(headCount) || headCount < 1 || hidden % headCount !== 0) {
    throw modelFileError(fileName, `hidden size ${hidden} does not split into ${heads === undefined ? `heads of ${HEAD_DIM}` : `${heads} heads`}`, CLIP_WORDS.action);
  }
  const positions = need(CLIP_POSITION_EMBEDDING, 2)[0];
  requireConsistent(positions === CLIP_MAX_LENGTH, fileName, () => `the position table has ${positions} positions, but the tokenizer gives CLIP ${CLIP_MAX_LENGTH}`, CLIP_WORDS);
  requireConsistent(vocab >= CLIP_TOKENIZER_VOCABULARY, fileName, () => `the token table has ${vocab} rows, but the tokenizer gives ids up to ${CLIP_TOKENIZER_VOCABULARY - 1}`, CLIP_WORDS);
  return {
    hidden,
    heads: headCount,
    headDim: hidden / headCount,
    layers: countBlocks(shapeOf, 'text_model.encoder.layers', 'self_attn.q_proj.weight'),
    mlp: need(clipLayerTensor(0, 'mlp.fc1', 'weight'), 2)[0],
    vocab,
    positions,
    eps: 1e-5,
  };
}

/** Every canonical tensor of a CLIP text encoder with its PyTorch shape. */
export function clipTensorShapes(config: ClipConfig): Map<string, readonly number[]> {
  const { hidden, mlp } = config;
  const shapes = new Map<string, readonly number[]>([
    [CLIP_TOKEN_EMBEDDING, [config.vocab, hidden]],
    [CLIP_POSITION_EMBEDDING, [config.positions, hidden]],
  ]);
  const linear = (layer: number, module: string, out: number, inp: number) => {
    shapes.set(clipLayerTensor(layer, module, 'weight'), [out, inp]);
    shapes.set(clipLayerTensor(layer, module, 'bias'), [out]);
  };
  const norm = (layer: number, module: string) => {
    shapes.set(clipLayerTensor(layer, module, 'weight'), [hidden]);
    shapes.set(clipLayerTensor(layer, module, 'bias'), [hidden]);
  };
  for (let layer = 0; layer < config.layers; layer++) {
    norm(layer, 'layer_norm1');
    for (const projection of ['q', 'k', 'v', 'out']) linear(layer, `self_attn.${projection}_proj`, hidden, hidden);
    norm(layer, 'layer_norm2');
    linear(layer, 'mlp.fc1', mlp, hidden);
    linear(layer, 'mlp.fc2', hidden, mlp);
  }
  shapes.set(clipFinalNorm('weight'), [hidden]);
  shapes.set(clipFinalNorm('bias'), [hidden]);
  return shapes;
}
