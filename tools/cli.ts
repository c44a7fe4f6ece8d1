// `npm run cli -- <command> [options]` (Node + Dawn; --software runs on SwiftShader).
//   flux-forward  --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C]
//   flux-sample   --weights W --inputs IN.safetensors --out OUT.safetensors [--grid R,C] [--steps N] [--shift|--no-shift]
//   txt2img       --transformer F --t5 F --clip F --vae F --prompt P --out IMAGE.png [--width --height --steps --seed --guidance --max-sequence-length]
//                 [--dump-embeddings E.safetensors] [--dump-latents L.safetensors] [--t5-tokenizer DIR] [--clip-tokenizer DIR]
//   story STORY.json --transformer F --t5 F --clip F --vae F --out DIR          (prompts -> pictures)
//   story STORY.json --weights W --inputs IN.safetensors --out OUT.safetensors  (tensors -> tensors, for comparisons)
// README.md documents the tensors each command reads and writes; src/schema/cli.ts the arguments.

import { runCli } from './cli/main';
import { openNodeGpu } from './node-gpu';

const status = await runCli(process.argv.slice(2), {
  openGpu: async (software) => {
    const gpu = await openNodeGpu({ software });
    return { gpu, close: () => gpu.destroy() };
  },
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
process.exit(status);
