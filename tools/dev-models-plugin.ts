// `npm run dev` only: writes the tiny test models once (`npm run make-tiny-models -- .dev-models`,
// a git-ignored folder) and serves four of them with Range support at /dev-models/, with a
// catalog the app adds in development builds, so the whole download-and-generate flow can be
// tried without a real download (the pictures are noise). Never part of a production build or
// `vite preview`. Imports nothing of the engine: the config stays light.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'vite';
import { ModelFileHandler } from './model-server.ts';
import { tinyCatalog } from './tiny-catalog.ts';

const URL_PREFIX = '/dev-models/';
const FOLDER = '.dev-models';
/** the files of the dev bundle, as make-tiny-models names them */
const DEV_FILES = { transformer: 'flux-tiny-q4_0.gguf', t5: 't5-tiny-q8_0.gguf', clip: 'clip-l-tiny-f16.safetensors', vae: 'vae-tiny-f16.safetensors' };

export function devModels(): Plugin {
  return {
    name: 'characonsist-dev-models',
    apply: 'serve',
    async configureServer(server) {
      const root = server.config.root;
      const dir = path.join(root, FOLDER);
      if (!Object.values(DEV_FILES).every((name) => existsSync(path.join(dir, name)))) {
        server.config.logger.info('writing the tiny test models into .dev-models/ (once)…');
        const made = spawnSync(process.execPath, [path.join(root, 'tools', 'run.mjs'), 'make-tiny-models', dir], { cwd: root, stdio: 'inherit' });
        if (made.status !== 0) throw new Error('npm run make-tiny-models failed; the dev server cannot offer the tiny models.');
      }
      const catalog = await tinyCatalog({ dir, files: DEV_FILES, bundleId: 'dev-tiny' });
      await writeFile(path.join(dir, 'catalog.json'), JSON.stringify(catalog, null, 2));
      const files = new Map<string, Uint8Array>();
      for (const name of [...Object.values(DEV_FILES), 'catalog.json']) files.set(`${URL_PREFIX}${name}`, await readFile(path.join(dir, name)));
      const handler = new ModelFileHandler({ files });
      server.middlewares.use((request, response, next) => {
        if (!handler.handle(request, response)) next();
      });
    },
  };
}
