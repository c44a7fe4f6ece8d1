// A model catalog for the tiny test models (the dev server's and the e2e tests'): one bundle of
// the four files in a folder, with their real sizes and sha256, labelled as drawing noise.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
// Types only: the dev server's config loads this file and must not pull in the schemas' code.
import type { Catalog, CatalogFile, ModelComponent } from '../src/schema/catalog';

export const TINY_LICENCE = {
  id: 'tiny-test-models',
  name: 'Test models of this project (MIT)',
  url: 'https://opensource.org/license/mit',
  summary: 'Random weights made by npm run make-tiny-models to try the app: no restrictions, and no real pictures (they draw noise).',
  requiresAcceptance: false,
};

export interface TinyBundleOptions {
  /** the folder holding the files */
  dir: string;
  /** file name per component, in `dir` */
  files: Record<ModelComponent, string>;
  /** prefix of the catalog's (relative) file addresses */
  urlPrefix?: string;
  bundleId?: string;
}

/** The catalog entry of one file of `dir`: size and sha256 read from the file itself. */
export async function tinyCatalogFile(dir: string, name: string, component: ModelComponent, id: string, urlPrefix = ''): Promise<CatalogFile> {
  const bytes = await readFile(path.join(dir, name));
  return { id, component, name, url: `${urlPrefix}${name}`, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), licence: TINY_LICENCE.id };
}

export async function tinyCatalog(options: TinyBundleOptions): Promise<Catalog> {
  const bundleId = options.bundleId ?? 'tiny-test-models';
  const components = Object.keys(options.files) as ModelComponent[];
  const files = await Promise.all(components.map((component) => tinyCatalogFile(options.dir, options.files[component], component, `${bundleId}-${component}`, options.urlPrefix)));
  return {
    version: 1,
    name: 'Tiny test models',
    licences: [TINY_LICENCE],
    files,
    bundles: [{
      id: bundleId, name: 'Tiny test models (noise)', description: 'Random weights that exercise the whole flow in seconds: every picture is noise.',
      schedule: 'schnell-4', files: Object.fromEntries(files.map((file) => [file.component, file.id])) as Record<ModelComponent, string>, noise: true,
    }],
  };
}
