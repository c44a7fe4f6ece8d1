// The model files of the e2e tests as the model store meets real hosts: a `vite preview`
// middleware serving the tiny models at /served-models/ (same origin as the app, so the CSP's
// connect-src holds) at a speed the test sets, logging each request's Range header and the bytes
// sent, plus the catalogs that point at them. Control and log: /__model-server/{config,log}.

import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';
import type { Catalog } from '../../src/schema/catalog';
import { ModelFileHandler, type ServedRequest } from '../../tools/model-server';
import { tinyCatalog, tinyCatalogFile } from '../../tools/tiny-catalog';
import { kQuantFluxGguf } from '../helpers/model-store-fixtures';
import { MODEL_FILES } from './models';

export const SERVED_MODELS_PATH = '/served-models/';
export const KQUANT_FILE = 'flux-kquant.gguf';
/** catalogs written next to the tiny models (dist/tiny-models/) */
export const TINY_CATALOG = 'catalog.json';
export const KQUANT_CATALOG = 'catalog-kquant.json';
export const TINY_BUNDLE_ID = 'tiny-e2e';
const CONTROL = '/__model-server/';

/** Writes the K-quant file and the catalogs into `dir` (the tiny models must be there). */
export async function writeE2eCatalogs(dir: string): Promise<void> {
  await writeFile(path.join(dir, KQUANT_FILE), kQuantFluxGguf());
  const tiny = await tinyCatalog({ dir, files: MODEL_FILES, urlPrefix: `${SERVED_MODELS_PATH}`, bundleId: TINY_BUNDLE_ID });
  await writeFile(path.join(dir, TINY_CATALOG), JSON.stringify(tiny, null, 2));
  const kQuant: Catalog = {
    ...tiny,
    files: [...tiny.files, await tinyCatalogFile(dir, KQUANT_FILE, 'transformer', 'kquant-transformer', SERVED_MODELS_PATH)],
    bundles: [{ ...tiny.bundles[0], id: 'kquant', name: 'K-quant transformer (refused)', files: { ...tiny.bundles[0].files, transformer: 'kquant-transformer' } }],
  };
  await writeFile(path.join(dir, KQUANT_CATALOG), JSON.stringify(kQuant, null, 2));
}

/** Serves the files of `dir` at SERVED_MODELS_PATH through one logging, speed-limited handler. */
export function modelServerPlugin(dir: string): Plugin {
  let handler: ModelFileHandler | undefined;
  const files = () => {
    handler ??= new ModelFileHandler({
      files: new Map([...Object.values(MODEL_FILES), KQUANT_FILE].map((name) => [`${SERVED_MODELS_PATH}${name}`, readFileSync(path.join(dir, name))])),
    });
    return handler;
  };
  return {
    name: 'e2e-model-server',
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        const url = new URL(request.url ?? '/', 'http://localhost');
        if (url.pathname === `${CONTROL}config`) {
          const bytesPerSecond = Number(url.searchParams.get('bytesPerSecond'));
          files().options.bytesPerSecond = bytesPerSecond > 0 ? bytesPerSecond : undefined;
          if (url.searchParams.has('reset')) files().log.length = 0;
          return void response.end('ok');
        }
        if (url.pathname === `${CONTROL}log`) {
          response.setHeader('Content-Type', 'application/json');
          return void response.end(JSON.stringify(files().log));
        }
        if (!files().handle(request, response)) next();
      });
    },
  };
}

/** The test's side of the control endpoints. */
export const modelServer = {
  async configure(baseUrl: string, options: { bytesPerSecond?: number; reset?: boolean }): Promise<void> {
    const query = new URLSearchParams({ bytesPerSecond: String(options.bytesPerSecond ?? 0), ...(options.reset ? { reset: '1' } : {}) });
    await fetch(new URL(`${CONTROL}config?${query}`, baseUrl));
  },
  async log(baseUrl: string): Promise<ServedRequest[]> {
    return (await fetch(new URL(`${CONTROL}log`, baseUrl))).json() as Promise<ServedRequest[]>;
  },
};
