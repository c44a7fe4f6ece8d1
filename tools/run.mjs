#!/usr/bin/env node
// Runs a TypeScript tool (tools/<name>.ts) in Node: bundles it with esbuild into dist-node/<name>.mjs
// (WGSL imported as text; only the `webgpu` package left external, so the bundle can be carried
// to a GPU machine without node_modules), then runs it with the remaining arguments.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [name, ...args] = process.argv.slice(2);
if (!name) {
  console.error('usage: node tools/run.mjs <tool> [args…]   (tools: bench, cli, make-tiny-models)');
  process.exit(2);
}

export async function bundleTool(tool) {
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
const result = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit', cwd: process.cwd() });
process.exit(result.status ?? 1);
