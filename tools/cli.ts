// `npm run cli -- <command> [options]` (Node + Dawn; --software runs on SwiftShader).
//   flux-forward  --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C]
//   flux-sample   --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C] [--steps N] [--shift|--no-shift]
// README.md documents the tensors each command reads and writes.

import { parseArgs } from 'node:util';
import { openNodeGpu } from './node-gpu';
import { fluxForward, fluxSample } from './cli/flux';

const COMMANDS = { 'flux-forward': fluxForward, 'flux-sample': fluxSample } as const;

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
  },
});

const command = COMMANDS[positionals[0] as keyof typeof COMMANDS];
if (!command || !values.weights || !values.inputs || !values.out) {
  console.error(`usage: npm run cli -- <${Object.keys(COMMANDS).join('|')}> --weights W --inputs IN.safetensors --out OUT.safetensors [options]`);
  process.exit(2);
}

const gpu = await openNodeGpu({ software: values.software });
try {
  await command(gpu, {
    weights: values.weights,
    inputs: values.inputs,
    out: values.out,
    grid: values.grid,
    steps: values.steps === undefined ? undefined : Number(values.steps),
    shift: values['no-shift'] ? false : values.shift,
    variant: values.variant as 'auto' | undefined,
  });
  console.log(`wrote ${values.out}`);
} catch (error) {
  console.error(error instanceof Error ? `${error.message}${'action' in error ? `\n${String(error.action)}` : ''}` : error);
  process.exitCode = 1;
} finally {
  gpu.destroy();
}
process.exit(process.exitCode ?? 0);
