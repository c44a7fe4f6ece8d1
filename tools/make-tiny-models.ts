// `npm run make-tiny-models -- DIR`: writes the deterministic tiny models (same tensor names and
// file formats as the real FLUX.1, T5, CLIP-L and VAE files) used by the tests and for
// comparisons with outside reference implementations.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileParts } from './node-file-source';
import { tinyClipFiles } from './tiny-models/clip';
import { tinyFluxFiles } from './tiny-models/flux';
import { tinyT5Files } from './tiny-models/t5';
import { tinyVaeFiles } from './tiny-models/vae';

const GENERATORS = [tinyFluxFiles, tinyT5Files, tinyClipFiles, tinyVaeFiles];

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npm run make-tiny-models -- DIR');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
for (const generate of GENERATORS) {
  for (const [name, parts] of generate()) {
    const file = path.join(dir, name);
    await writeFileParts(file, parts);
    console.log(`${file}  ${(parts.reduce((n, p) => n + p.byteLength, 0) / 2 ** 20).toFixed(2)} MiB`);
  }
}
