// `npm run make-tiny-models -- DIR`: writes the deterministic tiny models used by the tests and
// for comparisons with outside reference implementations.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileParts } from './node-file-source';
import { TINY_FLUX, tinyFluxGguf, tinyFluxSafetensors, type GgufVariant } from './tiny-models/flux';

const FLUX_GGUF: [string, GgufVariant][] = [
  ['flux-tiny-f32.gguf', { weights: 'F32', vectors: 'F32' }],
  ['flux-tiny-f16.gguf', { weights: 'F16', vectors: 'F32' }],
  // city96's day-one Q8_0 files keep 1-D tensors in F16; newer files use F32.
  ['flux-tiny-q8_0.gguf', { weights: 'Q8_0', vectors: 'F16' }],
  ['flux-tiny-q4_0.gguf', { weights: 'Q4_0', vectors: 'F32' }],
];

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npm run make-tiny-models -- DIR');
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const files: [string, Uint8Array[]][] = [
    ...FLUX_GGUF.map(([name, variant]): [string, Uint8Array[]] => [name, tinyFluxGguf(variant)]),
    ['flux-tiny-schnell-f32.gguf', tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, { ...TINY_FLUX, guidance: false })],
    ['flux-tiny-diffusers-f32.safetensors', tinyFluxSafetensors('F32')],
  ];
  for (const [name, parts] of files) {
    const file = path.join(dir, name);
    await writeFileParts(file, parts);
    console.log(`${file}  ${(parts.reduce((n, p) => n + p.byteLength, 0) / 2 ** 20).toFixed(2)} MiB`);
  }
}

await main();
