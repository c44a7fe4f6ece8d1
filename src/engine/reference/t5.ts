// Float64 reference of the T5 v1.1 encoder (spec/flux.md §4.1), independent of the GPU path:
// dense, dequantized weights under canonical (llama.cpp) names.
//   x = shared[ids]; per block x += o(Attn(RMS(x))), x += wo(gelu_tanh(wi_0 RMS(x)) ⊙ wi_1 RMS(x));
//   out = RMS(x). Attention: unscaled scores plus the relative-position bias, no mask.

import type { T5Config } from '../models/t5/config';
import { T5_OUTPUT_NORM, T5_TOKEN_EMBEDDING, t5BlockTensor } from '../models/t5/names';
import { relativePositionBucket } from '../models/t5/position-bias';
import { attentionReference } from './attention';
import type { ReferenceWeights } from './flux';
import { linearReference } from './linear';
import { rmsNormReference } from './norm';

/** The encoder's output [ids.length, dModel]. */
export function t5EncoderReference(config: T5Config, weights: ReferenceWeights, ids: ArrayLike<number>): Float64Array {
  const { dModel, heads, dKv, dFf, eps } = config;
  const inner = heads * dKv;
  const tokens = ids.length;
  const table = weights(T5_TOKEN_EMBEDDING);
  let x: Float64Array = new Float64Array(tokens * dModel);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < dModel; c++) x[t * dModel + c] = table[ids[t] * dModel + c];

  const bias = weights(t5BlockTensor(0, 'attn_rel_b'));
  const positionBias = (head: number, query: number, key: number) => bias[relativePositionBucket(key - query, config.buckets, config.maxDistance) * heads + head];
  for (let layer = 0; layer < config.layers; layer++) {
    const w = (name: string) => weights(t5BlockTensor(layer, name));
    const project = (input: ArrayLike<number>, name: string, cols: number, depth: number) => linearReference({ x: input, weight: w(name), rows: tokens, cols, depth });
    const h = rmsNormReference(x, dModel, w('attn_norm'), eps);
    const attention = attentionReference({
      queries: project(h, 'attn_q', inner, dModel), keys: project(h, 'attn_k', inner, dModel), values: project(h, 'attn_v', inner, dModel),
      heads, headDim: dKv, scale: 1, positionBias,
    });
    x = add(x, project(attention, 'attn_o', dModel, inner));
    const f = rmsNormReference(x, dModel, w('ffn_norm'), eps);
    const gate = linearReference({ x: f, weight: w('ffn_gate'), rows: tokens, cols: dFf, depth: dModel, epilogue: { kind: 'gelu-tanh' } });
    const gated = multiply(gate, project(f, 'ffn_up', dFf, dModel));
    x = add(x, project(gated, 'ffn_down', dModel, dFf));
  }
  return rmsNormReference(x, dModel, weights(T5_OUTPUT_NORM), eps);
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((value, i) => value + b[i]);
}

function multiply(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((value, i) => value * b[i]);
}
