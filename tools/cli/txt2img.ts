// `npm run cli -- txt2img --transformer F --t5 F --clip F --vae F --prompt "…" --out image.png
//   [--width 1024] [--height 1024] [--steps N] [--seed S] [--guidance G] [--max-sequence-length T]
//   [--dump-embeddings E.safetensors]
//   [--dump-latents L.safetensors] [--t5-tokenizer DIR] [--clip-tokenizer DIR]`

import { writeFileSync } from 'node:fs';
import type { ImageSettings } from '../../src/engine-api';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { loadTokenizers, nodeFileRef } from '../node-models';
import { encodePng } from './png';
import { writeOutputs } from './tensors';

export interface Txt2ImgCliOptions extends ImageSettings {
  transformer: string;
  t5: string;
  clip: string;
  vae: string;
  out: string;
  dumpEmbeddings?: string;
  dumpLatents?: string;
  t5Tokenizer?: string;
  clipTokenizer?: string;
}

export async function txt2imgCommand(gpu: GpuRuntime, options: Txt2ImgCliOptions): Promise<void> {
  const files = { transformer: nodeFileRef(options.transformer), t5: nodeFileRef(options.t5), clip: nodeFileRef(options.clip), vae: nodeFileRef(options.vae) };
  const tokenizers = await loadTokenizers(options.t5Tokenizer, options.clipTokenizer);
  let shown = '';
  const started = performance.now();
  const result = await txt2img(gpu, files, tokenizers, new ConditioningCache(), options, ({ stage, done, total }) => {
    const line = `${stage}: ${Math.floor((100 * done) / Math.max(1, total))}%`;
    if (line !== shown && (done === total || stage === 'sampling' || Math.floor((10 * done) / total) !== Math.floor((10 * (done - 1)) / total))) console.log((shown = line));
  });
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  writeFileSync(options.out, encodePng(result.rgba, result.width, result.height));
  const { conditioning, latents } = result;
  if (options.dumpEmbeddings) {
    await writeOutputs(options.dumpEmbeddings, {
      txt: { shape: [1, conditioning.textTokens, conditioning.text.length / conditioning.textTokens], values: conditioning.text },
      y: { shape: [1, conditioning.pooled.length], values: conditioning.pooled },
    });
  }
  if (options.dumpLatents) {
    const size = latents[0].length;
    const all = new Float32Array(latents.length * size);
    latents.forEach((latent, i) => all.set(latent, i * size));
    await writeOutputs(options.dumpLatents, { latents: { shape: [latents.length, 1, size / 64, 64], values: all } });
  }
}
