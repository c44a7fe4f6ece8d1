// Builds the app, serves it with `vite preview` on 127.0.0.1, and hands the URL to the tests.
// Fails with the fix when Chromium or SwiftShader is missing: these tests never skip silently.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { build, preview, type PreviewServer } from 'vite';
import { CHROMIUM, SWIFTSHADER_ICD } from './browser';
import { modelServerPlugin, writeE2eCatalogs } from './model-server-plugin';
import { E2E_MODELS_DIR, writeTinyModels } from './models';

let server: PreviewServer | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  for (const [path, what] of [[CHROMIUM, 'Chromium'], [SWIFTSHADER_ICD, "Chromium's SwiftShader Vulkan driver"]] as const) {
    if (!existsSync(path)) throw new Error(`${what} is missing (${path}). Fix: apt-get update && apt-get install -y chromium libvulkan1`);
  }
  await productionBuild();
  await writeTinyModels(path.join('dist', E2E_MODELS_DIR));
  await writeE2eCatalogs(path.join('dist', E2E_MODELS_DIR));
  server = await preview({ logLevel: 'warn', plugins: [modelServerPlugin(path.join('dist', E2E_MODELS_DIR))], preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  project.provide('baseUrl', url);
  return async () => {
    await server?.close();
  };
}

/**
 * The app as `npm run build` makes it. Vitest sets NODE_ENV=test, which would make Vite build the
 * development flavour (React's development build, the dev server's tiny-model catalog).
 */
async function productionBuild(): Promise<void> {
  const testEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ logLevel: 'warn', mode: 'production', build: { outDir: 'dist' } });
  } finally {
    process.env.NODE_ENV = testEnv;
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

