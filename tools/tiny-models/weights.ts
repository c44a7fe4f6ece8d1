// Deterministic random tensors for the tiny test models: seeded Gaussian noise scaled per kind
// of parameter, so attention is far from uniform and CharaConsist's masks and matches are not
// degenerate (spec/characonsist-official.md §17.6: weights with std 1/sqrt(fan_in), norm scales
// around 1.5).

import { gaussianNoise } from '../../src/engine/sampling/noise';

export type Init =
  | { kind: 'weight'; fanIn: number }
  | { kind: 'bias' }
  | { kind: 'norm-scale' };

/** FNV-1a of the tensor name: each tensor gets its own noise stream, independent of write order. */
function streamOf(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export function randomTensor(seed: number, name: string, count: number, init: Init): Float32Array {
  const noise = gaussianNoise(seed, count, streamOf(name));
  switch (init.kind) {
    case 'weight':
      return noise.map((v) => v / Math.sqrt(init.fanIn));
    case 'bias':
      return noise.map((v) => 0.05 * v);
    case 'norm-scale':
      return noise.map((v) => 1.5 + 0.1 * v);
  }
}

/** How a tensor is initialised, from its shape and name (PyTorch order). */
export function initFor(name: string, shape: readonly number[]): Init {
  if (shape.length === 2) return { kind: 'weight', fanIn: shape[1] };
  return /norm\.(query|key)_norm\.scale$|layer_norm|norm\.weight$/.test(name) ? { kind: 'norm-scale' } : { kind: 'bias' };
}
