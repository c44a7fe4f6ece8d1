// Model delivery in the built app (headless Chromium, WebGPU on SwiftShader): the model panel
// shows the default bundle with sizes, licence and a capability verdict; FLUX.1 [dev] is offered
// only behind its licence screen; the tiny bundle downloads from the (same-origin, speed-limited)
// test server into OPFS, survives a reload mid-download by resuming at its stored offset, and
// generates the same picture as the Node pipeline from the stored files; a K-quant transformer is
// refused from its header before its data is downloaded.

import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { ModelSet } from '../../src/engine-api';
import { ConditioningCache } from '../../src/engine/pipeline/conditioning';
import { txt2img } from '../../src/engine/pipeline/txt2img';
import { relativeError } from '../../src/engine/reference/compare';
import { openNodeGpu } from '../../tools/node-gpu';
import { loadTokenizers, nodeFileRef } from '../../tools/node-models';
import { appSession } from './browser';
import { KQUANT_CATALOG, KQUANT_FILE, modelServer, SERVED_MODELS_PATH, TINY_CATALOG } from './model-server-plugin';
import { storeTinyBundle } from './model-store-helpers';
import { E2E_MODELS_DIR, MODEL_FILES } from './models';

const baseUrl = inject('baseUrl');
const origin = new URL(baseUrl).origin;
const REQUEST = { prompt: 'a lighthouse at dusk', width: 32, height: 32, steps: 2, seed: 7, maxSequenceLength: 16 };
/** the downloader's chunk for files of this size (1/64 of the file within [64 KiB, 8 MiB]) */
const CHUNK = 64 * 1024;
/** a header read: one 64 KiB Range read-ahead covers a tiny model's header */
const HEADER_READ = 64 * 1024;
/**
 * Bytes the server had sent but the page had not stored when it went away: what its connection
 * still carried, at most two of the speed-limited server's 16 KiB pieces.
 */
const IN_FLIGHT = 2 * 16 * 1024;

const withCatalog = (catalog: string) => `${baseUrl}?catalog=${encodeURIComponent(`${origin}/${E2E_MODELS_DIR}/${catalog}`)}`;
const distFile = (name: string) => path.join('dist', E2E_MODELS_DIR, name);

describe('the model panel with the default catalog', () => {
  const app = appSession(baseUrl);

  it('shows the default bundle with its size, licences and a capability verdict', async () => {
    const panel = app.page.getByRole('region', { name: 'Models' });
    const schnell = panel.getByRole('radio', { name: /FLUX\.1 \[schnell\] Q4_0/ });
    await expect.poll(() => schnell.isChecked(), { timeout: 60_000 }).toBe(true);
    const option = panel.locator('label', { has: app.page.getByRole('radio', { name: /FLUX\.1 \[schnell\] Q4_0/ }) });
    expect(await option.textContent()).toMatch(/12\.4 GB · Apache License 2\.0, MIT License/);
    const verdict = panel.getByTestId('capability-verdict');
    await expect.poll(() => verdict.textContent(), { timeout: 120_000 }).toMatch(/^Yes, up to \d+×\d+ pixels/);
    const capability = panel.getByTestId('capability');
    expect(await capability.textContent()).toMatch(/software GPU/);
    expect(await capability.getByRole('table').textContent()).toMatch(/1024×1024\d+\.\d GiB\d+\.\d GiB/);
    expect(await panel.getByRole('button', { name: /^Download FLUX\.1 \[schnell\] Q4_0 \(12\.4 GB\)$/ }).count()).toBe(1);
  });

  it('offers FLUX.1 [dev] files only after its licence screen is accepted, from the keyboard', async () => {
    const panel = app.page.getByRole('region', { name: 'Models' });
    await panel.getByRole('radio', { name: /FLUX\.1 \[dev\] Q4_0/ }).check();
    const screen = panel.getByTestId('licence-screen');
    expect(await screen.getByRole('heading').textContent()).toBe('Licence: FLUX.1 [dev] Non-Commercial License v1.1.1');
    expect(await panel.getByRole('button', { name: /^Download FLUX\.1 \[dev\]/ }).count()).toBe(0);
    const accept = screen.getByRole('button', { name: 'Accept the licence' });
    expect(await accept.isDisabled()).toBe(true);
    await screen.getByRole('checkbox', { name: /I have read the FLUX\.1 \[dev\] Non-Commercial License v1\.1\.1 and accept it/ }).focus();
    await app.page.keyboard.press('Space');
    await accept.focus();
    await app.page.keyboard.press('Enter');
    await expect.poll(() => panel.getByRole('button', { name: /^Download FLUX\.1 \[dev\] Q4_0/ }).count()).toBe(1);
    await panel.getByRole('radio', { name: /FLUX\.1 \[schnell\] Q4_0/ }).check();
  });
});

describe('the catalog address', () => {
  const app = appSession(withCatalog('no-such-catalog.json'));

  it('reports a catalog that cannot be loaded and keeps the built-in one', async () => {
    const panel = app.page.getByRole('region', { name: 'Models' });
    await expect.poll(() => panel.getByRole('alert').first().textContent(), { timeout: 60_000 }).toMatch(/no-such-catalog\.json cannot be used: the address answers with a web page, not a catalog file: check the address\. The built-in catalog is used instead\./);
    expect(await panel.getByRole('radio', { name: /FLUX\.1 \[schnell\] Q4_0/ }).isChecked()).toBe(true);
  });

  it('takes another catalog from the settings, and goes back to the built-in one', async () => {
    await app.page.goto(baseUrl);
    const panel = app.page.getByRole('region', { name: 'Models' });
    await panel.getByText('Catalog', { exact: true }).click();
    await panel.getByRole('textbox', { name: 'Catalog address' }).fill(`${origin}/${E2E_MODELS_DIR}/${TINY_CATALOG}`);
    await panel.getByRole('button', { name: 'Use this catalog' }).click();
    await expect.poll(() => panel.getByRole('radio', { name: /Tiny test models \(noise\)/ }).count(), { timeout: 30_000 }).toBe(1);
    expect(await panel.getByRole('radio', { name: /FLUX\.1 \[schnell\]/ }).count()).toBe(0);
    await app.page.reload();
    await expect.poll(() => panel.getByRole('radio', { name: /Tiny test models \(noise\)/ }).count(), { timeout: 30_000 }).toBe(1);
    await panel.getByText('Catalog', { exact: true }).click();
    await panel.getByRole('button', { name: 'Use the built-in catalog' }).click();
    await expect.poll(() => panel.getByRole('radio', { name: /FLUX\.1 \[schnell\] Q4_0/ }).count(), { timeout: 30_000 }).toBe(1);
  });
});

describe('downloading the tiny bundle into browser storage', () => {
  const app = appSession(withCatalog(TINY_CATALOG));
  const page = () => app.page;
  const row = (component: keyof typeof MODEL_FILES) => page().getByTestId(`model-file-${component}`);

  it('resumes at the stored offset after a reload mid-download, then generates from the stored files', async () => {
    await modelServer.configure(baseUrl, { bytesPerSecond: 150_000, reset: true });
    const download = page().getByRole('button', { name: /^Download Tiny test models \(noise\)/ });
    await expect.poll(() => download.count(), { timeout: 60_000 }).toBe(1);
    await download.click();
    const progress = page().getByRole('progressbar', { name: `${MODEL_FILES.transformer} downloaded` });
    await expect.poll(async () => Number(await progress.getAttribute('value')) / Number(await progress.getAttribute('max')), { timeout: 120_000 }).toBeGreaterThan(0.3);

    await page().reload();
    await modelServer.configure(baseUrl, {});
    for (const component of ['transformer', 't5', 'clip', 'vae'] as const) {
      await expect.poll(() => row(component).textContent(), { timeout: 180_000 }).toMatch(/stored and verified/);
    }

    // The download's requests are open-ended Range requests; header reads (the capability check
    // before and after the reload, the download's own check) and probes have an end.
    const served = (await modelServer.log(baseUrl)).filter((entry) => entry.path === `${SERVED_MODELS_PATH}${MODEL_FILES.transformer}`);
    const data = served.filter((entry) => /^bytes=\d+-$/.test(entry.range ?? ''));
    expect(data.map((entry) => entry.range)).toEqual(['bytes=0-', expect.stringMatching(/^bytes=[1-9]\d*-$/)]);
    const size = await fileSize(MODEL_FILES.transformer);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(data[1].range!)![1]);
    expect(resumedAt).toBeGreaterThan(0.3 * size - CHUNK);
    expect(data[0].bytes + data[1].bytes).toBeLessThan(size + CHUNK + IN_FLIGHT);
    const headers = served.filter((entry) => /^bytes=\d+-\d+$/.test(entry.range ?? ''));
    // three header reads (the capability check before and after the reload, the download's check) and four 1-byte probes
    expect(headers.reduce((sum, entry) => sum + entry.bytes, 0)).toBeLessThanOrEqual(3 * HEADER_READ + 4);

    const browser = await page().evaluate(async (request) => {
      type Handles = {
        characonsistModels: { generationModels(): { ready: boolean; models: ModelSet } };
        characonsistEngine: { generateImage(r: object): Promise<{ latents: Float32Array; rgba: Uint8Array }> };
      };
      const { characonsistModels, characonsistEngine } = globalThis as unknown as Handles;
      const chosen = characonsistModels.generationModels();
      const result = await characonsistEngine.generateImage({ models: chosen.models, ...request });
      return { ready: chosen.ready, sources: [chosen.models.transformer, chosen.models.vae], latents: Array.from(result.latents), rgba: Array.from(result.rgba) };
    }, REQUEST);
    expect(browser.ready).toBe(true);
    expect(browser.sources).toEqual([{ stored: 'tiny-e2e-transformer' }, { stored: 'tiny-e2e-vae' }]);
    const gpu = await openNodeGpu({ software: true });
    try {
      const file = (name: string) => nodeFileRef(distFile(name));
      const files = { transformer: file(MODEL_FILES.transformer), t5: file(MODEL_FILES.t5), clip: file(MODEL_FILES.clip), vae: file(MODEL_FILES.vae) };
      const node = await txt2img(gpu, files, await loadTokenizers(), new ConditioningCache(), REQUEST);
      expect(relativeError(browser.latents, node.latents[node.latents.length - 1])).toBeLessThan(1e-4);
    } finally {
      gpu.destroy();
    }
  });

  it('refuses a K-quant transformer from its header, before its data is downloaded', async () => {
    await modelServer.configure(baseUrl, { reset: true });
    await page().goto(withCatalog(KQUANT_CATALOG));
    const verdict = page().getByTestId('capability-verdict');
    await expect.poll(() => verdict.textContent(), { timeout: 120_000 }).toMatch(/^No: .*Q4_K, a K-quant/);
    await page().getByRole('button', { name: /^(Download|Resume downloading) K-quant transformer/ }).click();
    const alert = row('transformer').getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 60_000 }).toMatch(/A model file cannot be used.*Q4_K, a K-quant/);
    // The capability check and the download each read the header once (64 KiB) after a 1-byte probe; no data request.
    const served = (await modelServer.log(baseUrl)).filter((entry) => entry.path === `${SERVED_MODELS_PATH}${KQUANT_FILE}`);
    expect(served.every((entry) => /^bytes=\d+-\d+$/.test(entry.range ?? ''))).toBe(true);
    const bytes = served.reduce((sum, entry) => sum + entry.bytes, 0);
    expect(bytes).toBeLessThanOrEqual(2 * (HEADER_READ + 1));
    expect(await fileSize(KQUANT_FILE)).toBeGreaterThan(30 * HEADER_READ);
    const stored = await page().evaluate(async () => {
      const engine = (globalThis as unknown as { characonsistEngine: { listStoredModels(): Promise<{ fileId: string }[]> } }).characonsistEngine;
      return (await engine.listStoredModels()).map((file) => file.fileId);
    });
    expect(stored).not.toContain('kquant-transformer');
  });
});

async function fileSize(name: string): Promise<number> {
  const { stat } = await import('node:fs/promises');
  return (await stat(distFile(name))).size;
}

describe('files from this computer', () => {
  const app = appSession(withCatalog(TINY_CATALOG));

  it('checks a picked file as downloads are checked: a K-quant is refused, the catalog\'s own file is recognised by its sha256', async () => {
    const row = app.page.getByTestId('model-file-transformer');
    const pick = row.getByLabel('Use a transformer file from this computer');
    await expect.poll(() => pick.count(), { timeout: 60_000 }).toBe(1);
    await pick.setInputFiles(distFile(KQUANT_FILE));
    await expect.poll(() => row.getByRole('alert').textContent(), { timeout: 60_000 }).toMatch(/A model file cannot be used.*Q4_K, a K-quant/);
    await row.getByRole('button', { name: `Stop using ${KQUANT_FILE}` }).click();
    await row.getByLabel('Use a transformer file from this computer').setInputFiles(distFile(MODEL_FILES.transformer));
    await expect.poll(() => row.textContent(), { timeout: 60_000 }).toMatch(/using flux\.gguf from this computer \(identical to the catalog file\)/);
    expect(await row.textContent()).toMatch(/flux\.gguf: FLUX\.1 \[dev\] transformer: 1 double \+ 2 single blocks, hidden 256; /);
    const chosen = await app.page.evaluate(() => (globalThis as unknown as { characonsistModels: { generationModels(): { ready: boolean; reason?: string } } }).characonsistModels.generationModels());
    // the picked transformer stands in for the catalog's; the other parts are not stored in this profile
    expect(chosen).toMatchObject({ ready: false, reason: expect.stringMatching(/^t5\.gguf \(t5\) is not downloaded yet/) });
  });
});

describe('the helper other suites use to store the tiny bundle', () => {
  const app = appSession(baseUrl);

  it('stores it through the engine and leaves the models ready for a generation', async () => {
    await storeTinyBundle(app.page, baseUrl);
    const chosen = await app.page.evaluate(() => (globalThis as unknown as { characonsistModels: { generationModels(): { ready: true; bundle: { schedule: string; files: { id: string; sha256?: string }[] } } } }).characonsistModels.generationModels());
    expect(chosen.bundle.schedule).toBe('schnell-4');
    expect(chosen.bundle.files.map((file) => file.id)).toEqual(['tiny-e2e-transformer', 'tiny-e2e-t5', 'tiny-e2e-clip', 'tiny-e2e-vae']);
    for (const file of chosen.bundle.files) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
