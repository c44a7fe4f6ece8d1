// `npm run cli -- <command> [options]` (Node + Dawn; --software runs on SwiftShader).
//   flux-forward  --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C]
//   flux-sample   --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C] [--steps N] [--shift|--no-shift]
//   txt2img       --transformer F --t5 F --clip F --vae F --prompt P --out IMAGE.png [--width --height --steps --seed --guidance --max-sequence-length]
//                 [--dump-embeddings E.safetensors] [--dump-latents L.safetensors] [--t5-tokenizer DIR] [--clip-tokenizer DIR]
//   story STORY.json --transformer F --t5 F --clip F --vae F --out DIR          (prompts -> pictures)
//   story STORY.json --weights W --inputs IN.safetensors --out OUT.safetensors  (tensors -> tensors, for comparisons)
// README.md documents the tensors each command reads and writes.

import { parseArgs } from 'node:util';
import type { GpuRuntime } from '../src/engine/gpu/runtime';
import { openNodeGpu } from './node-gpu';
import { fluxForward, fluxSample } from './cli/flux';
import { storyCommand } from './cli/story';
import { txt2imgCommand } from './cli/txt2img';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    weights: { type: 'string' },
    inputs: { type: 'string' },
    out: { type: 'string' },
    grid: { type: 'string' },
    steps: { type: 'string' },
    shift: { type: 'boolean' },
    'no-shift': { type: 'boolean' },
    variant: { type: 'string' },
    software: { type: 'boolean', default: false },
    transformer: { type: 'string' },
    t5: { type: 'string' },
    clip: { type: 'string' },
    vae: { type: 'string' },
    prompt: { type: 'string' },
    width: { type: 'string', default: '1024' },
    height: { type: 'string', default: '1024' },
    seed: { type: 'string', default: '0' },
    guidance: { type: 'string' },
    'max-sequence-length': { type: 'string' },
    'dump-embeddings': { type: 'string' },
    'dump-latents': { type: 'string' },
    't5-tokenizer': { type: 'string' },
    'clip-tokenizer': { type: 'string' },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== 'string') {
    console.error(`npm run cli -- ${positionals[0]}: --${name} is required (see tools/cli.ts or README.md)`);
    process.exit(2);
  }
  return value;
}

function storyFile(): string {
  if (!positionals[1]) {
    console.error('usage: npm run cli -- story STORY.json --out … (see README.md "The story JSON")');
    process.exit(2);
  }
  return positionals[1];
}

const optionalNumber = (value: string | undefined) => (value === undefined ? undefined : Number(value));

const COMMANDS: Record<string, (gpu: GpuRuntime) => Promise<void>> = {
  story: (gpu) =>
    storyCommand(gpu, {
      story: storyFile(), out: required('out'),
      weights: values.weights, inputs: values.inputs, transformer: values.transformer, t5: values.t5, clip: values.clip, vae: values.vae,
    }),
  'flux-forward': (gpu) => fluxForward(gpu, fluxOptions()),
  'flux-sample': (gpu) => fluxSample(gpu, fluxOptions()),
  txt2img: (gpu) =>
    txt2imgCommand(gpu, {
      transformer: required('transformer'), t5: required('t5'), clip: required('clip'), vae: required('vae'),
      prompt: required('prompt'), out: required('out'),
      width: Number(values.width), height: Number(values.height), steps: Number(values.steps ?? 4), seed: Number(values.seed),
      guidance: optionalNumber(values.guidance), maxSequenceLength: optionalNumber(values['max-sequence-length']),
      dumpEmbeddings: values['dump-embeddings'], dumpLatents: values['dump-latents'],
      t5Tokenizer: values['t5-tokenizer'], clipTokenizer: values['clip-tokenizer'],
    }),
};

function fluxOptions() {
  return {
    weights: required('weights'),
    inputs: required('inputs'),
    out: required('out'),
    grid: values.grid,
    steps: optionalNumber(values.steps),
    shift: values['no-shift'] ? false : values.shift,
    variant: values.variant as 'auto' | undefined,
  };
}

const command = COMMANDS[positionals[0]];
if (!command) {
  console.error(`usage: npm run cli -- <${Object.keys(COMMANDS).join('|')}> [options] (see tools/cli.ts or README.md)`);
  process.exit(2);
}

const gpu = await openNodeGpu({ software: values.software });
try {
  await command(gpu);
  console.log(`wrote ${values.out}`);
} catch (error) {
  console.error(error instanceof Error ? `${error.message}${'action' in error ? `\n${String(error.action)}` : ''}` : error);
  process.exitCode = 1;
} finally {
  gpu.destroy();
}
process.exit(process.exitCode ?? 0);
