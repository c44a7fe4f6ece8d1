#!/usr/bin/env node
// Runs a TypeScript tool (tools/<name>.ts) in Node: bundles it with esbuild into dist-node/<name>.mjs
// (WGSL imported as text; only the `webgpu` package left external, so the bundle can be carried
// to a GPU machine without node_modules), then runs it with the remaining arguments.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bundleOnly = process.argv[2] === '--bundle';
const [name, ...args] = process.argv.slice(bundleOnly ? 3 : 2);
if (!name) {
  console.error('usage: node tools/run.mjs [--bundle] <tool> [args…]   (tools: bench, cli, make-tiny-models)');
  console.error('  --bundle: only write dist-node/<tool>.mjs (e.g. to carry it to a GPU machine)');
  process.exit(2);
}

async function bundleTool(tool) {
  const outfile = path.join(root, 'dist-node', `${tool}.mjs`);
  await build({
    entryPoints: [path.join(root, 'tools', `${tool}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    loader: { '.wgsl': 'text' },
    external: ['webgpu'],
    sourcemap: 'inline',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  });
  return outfile;
}

const outfile = await bundleTool(name);
if (bundleOnly) {
  console.log(outfile);
  process.exit(0);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit', cwd: process.cwd() });
process.exit(result.status ?? 1);
