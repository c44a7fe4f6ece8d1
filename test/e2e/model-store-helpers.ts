// For e2e suites that need the tiny models stored in the browser (the studio's, the history's):
// open the app with the tiny catalog, store the bundle through the engine (no clicks), and wait
// until the models store says a generation can use it.

import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { CatalogFile } from '../../src/schema/catalog';
import { TINY_CATALOG } from './model-server-plugin';
import { E2E_MODELS_DIR } from './models';

/** The app's address with the tiny models' catalog in use. */
export function tinyCatalogPage(baseUrl: string): string {
  const origin = new URL(baseUrl).origin;
  return `${baseUrl}?catalog=${encodeURIComponent(`${origin}/${E2E_MODELS_DIR}/${TINY_CATALOG}`)}`;
}

/** Stores the tiny bundle in `page`'s browser storage and leaves the page open on the tiny catalog, models ready. */
export async function storeTinyBundle(page: Page, baseUrl: string): Promise<void> {
  await page.goto(tinyCatalogPage(baseUrl));
  const catalogUrl = new URL(`/${E2E_MODELS_DIR}/${TINY_CATALOG}`, baseUrl).href;
  await page.evaluate(async (catalogUrl) => {
    const catalog = (await (await fetch(catalogUrl)).json()) as { files: CatalogFile[] };
    const engine = (globalThis as unknown as { characonsistEngine: { downloadModel(file: CatalogFile): Promise<unknown> } }).characonsistEngine;
    for (const file of catalog.files) await engine.downloadModel({ ...file, url: new URL(file.url, catalogUrl).href });
  }, catalogUrl);
  await page.reload();
  const ready = () => page.evaluate(() => (globalThis as unknown as { characonsistModels: { generationModels(): { ready: boolean } } }).characonsistModels.generationModels().ready);
  await expect.poll(ready, { timeout: 60_000 }).toBe(true);
}
