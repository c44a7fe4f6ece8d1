// Float64 reference of the CLIP-L text encoder (spec/flux.md §4.2), independent of the GPU path:
// dense weights under canonical (Hugging Face) names. It runs every id, padding included, so
// it also checks that the GPU may stop at the EOS.
//   x = token_embedding[ids] + position_embedding; per layer x += out_proj(CausalAttn(LN1(x))),
//   x += fc2(quick_gelu(fc1(LN2(x)))); hidden = final_layer_norm(x); y = hidden[EOS].

import type { ClipConfig } from '../models/clip/config';
import { CLIP_POSITION_EMBEDDING, CLIP_TOKEN_EMBEDDING, clipFinalNorm, clipLayerTensor } from '../models/clip/names';
import { attentionReference } from './attention';
import type { ReferenceWeights } from './flux';
import { linearReference } from './linear';
import { layerNormReference } from './norm';

export interface ClipReferenceOutput {
  /** final hidden states [ids.length, hidden] */
  hidden: Float64Array;
  /** the row at the EOS [hidden] */
  pooled: Float64Array;
}

export function clipTextReference(config: ClipConfig, weights: ReferenceWeights, ids: ArrayLike<number>, eosIndex: number): ClipReferenceOutput {
  const { hidden: width, heads, headDim, mlp, eps } = config;
  const tokens = ids.length;
  const tokenTable = weights(CLIP_TOKEN_EMBEDDING);
  const positionTable = weights(CLIP_POSITION_EMBEDDING);
  let x: Float64Array = new Float64Array(tokens * width);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < width; c++) x[t * width + c] = tokenTable[ids[t] * width + c] + positionTable[t * width + c];

  for (let layer = 0; layer < config.layers; layer++) {
    const w = (module: string, parameter: 'weight' | 'bias') => weights(clipLayerTensor(layer, module, parameter));
    const norm = (input: Float64Array, module: string) => layerNormReference(input, width, w(module, 'weight'), w(module, 'bias'), eps);
    const project = (input: ArrayLike<number>, module: string, cols: number, depth: number) =>
      linearReference({ x: input, weight: w(module, 'weight'), bias: w(module, 'bias'), rows: tokens, cols, depth });
    const h = norm(x, 'layer_norm1');
    const attention = attentionReference({
      queries: project(h, 'self_attn.q_proj', width, width), keys: project(h, 'self_attn.k_proj', width, width), values: project(h, 'self_attn.v_proj', width, width),
      heads, headDim, scale: 1 / Math.sqrt(headDim), causal: true,
    });
    x = add(x, project(attention, 'self_attn.out_proj', width, width));
    const activated = linearReference({ x: norm(x, 'layer_norm2'), weight: w('mlp.fc1', 'weight'), bias: w('mlp.fc1', 'bias'), rows: tokens, cols: mlp, depth: width, epilogue: { kind: 'quick-gelu' } });
    x = add(x, project(activated, 'mlp.fc2', width, mlp));
  }
  const hidden = layerNormReference(x, width, weights(clipFinalNorm('weight')), weights(clipFinalNorm('bias')), eps);
  return { hidden, pooled: hidden.slice(eosIndex * width, (eosIndex + 1) * width) };
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((value, i) => value + b[i]);
}
