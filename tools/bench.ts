// `npm run bench -- [--quick] [--json FILE] [--suite NAME …] [--model flux] [--characonsist] [--software]
//                   [--warmup N] [--repetitions N] [--profile] [--skip-baseline] [--dawn-toggle NAME …]`
// Node + Dawn: runs wherever Dawn finds a GPU (the software adapter with --software). Prints one
// table of medians after warm-up, with the baseline each kernel is compared against in the same
// run, and the adapter it ran on; --json writes every number.

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openNodeGpu } from './node-gpu';
import { DEFAULT_SUITES, SUITES } from './bench/suites';
import { gbps, printTable, tflops, type BenchRow } from './bench/table';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    suite: { type: 'string', multiple: true },
    software: { type: 'boolean', default: false },
    model: { type: 'string' },
    characonsist: { type: 'boolean', default: false },
    repetitions: { type: 'string' },
    warmup: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'skip-baseline': { type: 'boolean', default: false },
    // e.g. vulkan_enable_f16_on_nvidia: Dawn hides shader-f16 on NVIDIA's Vulkan driver without it
    'dawn-toggle': { type: 'string', multiple: true },
  },
});

const chosen = [...(values.suite ?? []), ...(values.model ? [values.model] : []), ...(values.characonsist ? ['characonsist'] : [])];
const suites = (chosen.length ? chosen : DEFAULT_SUITES).map((name) => SUITES.find((suite) => suite.name === name) ?? fail(`unknown suite "${name}"; suites: ${SUITES.map((s) => s.name).join(', ')}`));

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const gpu = await openNodeGpu({ software: values.software, profile: true, dawnToggles: values['dawn-toggle'] });
const { report } = gpu;
console.log(`adapter: ${report.vendor} ${report.architecture} (${report.description}); features: ${report.features.join(', ') || 'none'}`);
const repetitions = Number(values.repetitions ?? (values.quick ? 3 : 10));
const warmup = Number(values.warmup ?? (values.quick ? 1 : 3));
// --quick profiles too: the shrunk run exists to exercise everything the full one measures.
const options = { quick: values.quick, profile: values.profile || values.quick, skipBaseline: values['skip-baseline'], timing: { warmup, repetitions }, log: (line: string) => console.log(line) };
const rows: BenchRow[] = [];
for (const suite of suites) {
  console.log(`\n== ${suite.name}: ${suite.description}`);
  rows.push(...(await suite.run(gpu, options)));
}
console.log();
printTable(rows);
if (values.json) {
  const detail = rows.map((row) => ({ ...row, tflops: tflops(row), gbps: gbps(row) }));
  writeFileSync(values.json, JSON.stringify({ adapter: report, quick: values.quick, timing: options.timing, rows: detail }, null, 2));
  console.log(`\nwrote ${values.json}`);
}
gpu.destroy();
process.exit(0);
