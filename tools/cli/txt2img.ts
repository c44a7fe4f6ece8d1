// `npm run cli -- txt2img --transformer F --t5 F --clip F --vae F --prompt "…" --out image.png
//   [--width 1024] [--height 1024] [--steps N] [--seed S] [--guidance G] [--max-sequence-length T] [--precision exact|fast]
//   [--dump-embeddings E.safetensors] [--dump-latents L.safetensors] [--t5-tokenizer DIR] [--clip-tokenizer DIR]`

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { Tokenizers } from '../../src/engine/pipeline/models';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { COMMAND_ENTRIES, Txt2ImgArgumentsSchema, type Txt2ImgArguments } from '../../src/schema/cli';
import { nodeFileRef } from '../node-models';
import { command, type CliLog } from './command';
import { checkModelFiles } from './model-headers';
import type { OutputFiles } from './outputs';
import { encodePng } from '../../src/export/png';
import { encodeOutputs } from './tensors';
import { CLIP_TOKENIZER_FILES, T5_TOKENIZER_FILES, tokenizersFrom } from './tokenizer-files';

export const modelPaths = (args: Pick<Txt2ImgArguments, 'transformer' | 't5' | 'clip' | 'vae'>) => ({ '--transformer': args.transformer, '--t5': args.t5, '--clip': args.clip, '--vae': args.vae });

/** The files of a generation from prompts, and the tokenizer folders (default: the app's). */
export const generationPaths = (args: Pick<Txt2ImgArguments, 'transformer' | 't5' | 'clip' | 'vae' | 't5Tokenizer' | 'clipTokenizer'>) => ({
  files: modelPaths(args),
  folders: { '--t5-tokenizer': { path: args.t5Tokenizer, holding: T5_TOKENIZER_FILES }, '--clip-tokenizer': { path: args.clipTokenizer, holding: CLIP_TOKENIZER_FILES } },
});

interface Prepared {
  args: Txt2ImgArguments;
  tokenizers: Tokenizers;
}

export const txt2imgCommand = command({
  usage:
    'txt2img --transformer F --t5 F --clip F --vae F --prompt P --out IMAGE.png [--width W] [--height H] [--steps N] [--seed S]\n' +
    ' [--guidance G] [--max-sequence-length T] [--precision exact|fast] [--dump-embeddings E.safetensors] [--dump-latents L.safetensors]\n' +
    ' [--t5-tokenizer DIR] [--clip-tokenizer DIR] [--software]',
  entries: COMMAND_ENTRIES.txt2img,
  schema: Txt2ImgArgumentsSchema,
  paths: (args) => ({ ...generationPaths(args), outputs: { '--out': args.out, '--dump-embeddings': args.dumpEmbeddings, '--dump-latents': args.dumpLatents } }),
  async prepare(args): Promise<Prepared> {
    await checkModelFiles(args);
    return { args, tokenizers: await tokenizersFrom(args.t5Tokenizer, args.clipTokenizer) };
  },
  run: generate,
});

async function generate(gpu: GpuRuntime, { args, tokenizers }: Prepared, outputs: OutputFiles, log: CliLog): Promise<void> {
  const files = { transformer: nodeFileRef(args.transformer), t5: nodeFileRef(args.t5), clip: nodeFileRef(args.clip), vae: nodeFileRef(args.vae) };
  let shown = '';
  const started = performance.now();
  const { prompt, width, height, steps, seed, guidance, maxSequenceLength, precision } = args;
  const result = await txt2img(gpu, files, tokenizers, new ConditioningCache(), { prompt, width, height, steps, seed, guidance, maxSequenceLength, precision }, ({ stage, done, total }) => {
    const line = `${stage}: ${Math.floor((100 * done) / Math.max(1, total))}%`;
    if (line !== shown && (done === total || stage === 'sampling' || Math.floor((10 * done) / total) !== Math.floor((10 * (done - 1)) / total))) log.out((shown = line));
  });
  log.out(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await outputs.write(args.out, [encodePng(result.rgba, result.width, result.height)]);
  const { conditioning, latents } = result;
  if (args.dumpEmbeddings) {
    await outputs.write(args.dumpEmbeddings, encodeOutputs({
      txt: { shape: [1, conditioning.textTokens, conditioning.text.length / conditioning.textTokens], values: conditioning.text },
      y: { shape: [1, conditioning.pooled.length], values: conditioning.pooled },
    }));
  }
  if (args.dumpLatents) {
    const size = latents[0].length;
    const all = new Float32Array(latents.length * size);
    latents.forEach((latent, i) => all.set(latent, i * size));
    await outputs.write(args.dumpLatents, encodeOutputs({ latents: { shape: [latents.length, 1, size / 64, 64], values: all } }));
  }
}
