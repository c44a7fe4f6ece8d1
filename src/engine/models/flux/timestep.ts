// FLUX's sinusoidal embedding of timesteps and guidance (BFL timestep_embedding, dim 256,
// max_period 10000, time_factor 1000; cos half first: spec/flux.md §1.3). Computed in float64 on
// the CPU: the arguments reach the thousands (guidance 3.5 -> 3500), where WGSL's sin/cos and f32
// arithmetic would be the largest error of a forward pass (spec/characonsist-official.md §17.5).

import { TIME_EMBED_DIM } from './config';

const MAX_PERIOD = 10000;
const TIME_FACTOR = 1000;

/** [cos(1000 t f_0..127), sin(1000 t f_0..127)], f_i = exp(-ln(10000) i / 128). */
export function timestepEmbedding(t: number): Float32Array {
  const half = TIME_EMBED_DIM / 2;
  const embedding = new Float32Array(TIME_EMBED_DIM);
  for (let i = 0; i < half; i++) {
    const angle = TIME_FACTOR * t * Math.exp((-Math.log(MAX_PERIOD) * i) / half);
    embedding[i] = Math.cos(angle);
    embedding[half + i] = Math.sin(angle);
  }
  return embedding;
}
