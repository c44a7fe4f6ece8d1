// The Content-Security-Policy of the built app: in index.html's <meta> and in the preview's
// headers (so it also governs the engine worker), inline script, eval and foreign hosts blocked,
// WebAssembly allowed (hash-wasm), and the app, generation in the worker included, running
// under it without a single violation. Also: the service worker precaches the shell and the
// tokenizers, and never a model file.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page, Worker } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { appSession } from './browser';
import { modelSet } from './models';

const baseUrl = inject('baseUrl');
const CSP = /Content-Security-Policy" content="([^"]+)"/;

/** The smallest valid WebAssembly module (magic and version). */
const EMPTY_WASM = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Every CSP violation the page reports from now on (the page's own securitypolicyviolation events). */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as { __violations?: string[] }).__violations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} ${event.blockedURI}`));
  });
  return () => page.evaluate(() => [...((window as { __violations?: string[] }).__violations ?? [])]);
}

const engineWorker = async (page: Page): Promise<Worker> => {
  await expect.poll(() => page.workers().some((worker) => /engine\.worker/.test(worker.url())), { timeout: 30_000 }).toBe(true);
  return page.workers().find((worker) => /engine\.worker/.test(worker.url()))!;
};

describe('Content-Security-Policy', () => {
  const app = appSession(baseUrl);

  it('is in the built index.html, in the preview headers and in dist/_headers, the same policy', async () => {
    const meta = CSP.exec(readFileSync(path.join('dist', 'index.html'), 'utf8'))?.[1];
    expect(meta).toMatch(/script-src 'self' 'wasm-unsafe-eval';/);
    expect(meta).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    expect(meta).toMatch(/connect-src 'self' https:\/\/huggingface\.co https:\/\/\*\.huggingface\.co https:\/\/\*\.hf\.co;/);
    expect(meta).toMatch(/worker-src 'self';/);
    const page = await app.context.request.get(baseUrl);
    expect(page.headers()['content-security-policy']).toBe(`${meta}; frame-ancestors 'none'`);
    const worker = await engineWorker(app.page);
    expect((await app.context.request.get(worker.url())).headers()['content-security-policy']).toBe(`${meta}; frame-ancestors 'none'`);
    expect(readFileSync(path.join('dist', '_headers'), 'utf8')).toBe(`/*\n  Content-Security-Policy: ${meta}; frame-ancestors 'none'\n`);
  });

  it('blocks inline script, eval, blob workers and foreign hosts in the page, and allows WebAssembly', async () => {
    const violations = await watchViolations(app.page);
    const outcome = await app.page.evaluate(async (wasm) => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.head.append(script);
      const attempt = (run: () => unknown) => {
        try {
          run();
          return 'ran';
        } catch (error) {
          return (error as Error).name;
        }
      };
      // A worker the policy refuses fails with an error event, not an exception.
      const blobWorker = await new Promise<string>((resolve) => {
        const worker = new Worker(URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' })));
        worker.onmessage = () => resolve('ran');
        worker.onerror = () => resolve('blocked');
      });
      const foreign = await fetch('https://example.com/').then(() => 'fetched', (error: Error) => error.name);
      const wasmCompiled = await WebAssembly.compile(new Uint8Array(wasm)).then(() => true, () => false);
      return {
        inline: (window as { __inline?: number }).__inline ?? 'blocked',
        eval: attempt(() => eval('1')),
        newFunction: attempt(() => new Function('return 1')),
        blobWorker,
        foreign,
        wasmCompiled,
      };
    }, EMPTY_WASM);
    expect(outcome).toEqual({ inline: 'blocked', eval: 'EvalError', newFunction: 'EvalError', blobWorker: 'blocked', foreign: 'TypeError', wasmCompiled: true });
    await expect.poll(violations).toEqual(expect.arrayContaining(['script-src-elem inline', 'script-src eval', 'worker-src blob', 'connect-src https://example.com/']));
  });

  // eval cannot be tried here: code evaluated in a worker through the DevTools protocol may eval
  // whatever the policy says. A blocked fetch, reported by the worker itself, shows the policy.
  it('governs the engine worker too: foreign hosts blocked there, WebAssembly allowed', async () => {
    const worker = await engineWorker(app.page);
    const outcome = await worker.evaluate(async (wasm) => {
      const wasmCompiled = await WebAssembly.compile(new Uint8Array(wasm)).then(() => true, () => false);
      const violations: string[] = [];
      self.addEventListener('securitypolicyviolation', (event) => violations.push((event as SecurityPolicyViolationEvent).effectiveDirective));
      await fetch('https://example.com/').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { wasmCompiled, violations };
    }, EMPTY_WASM);
    expect(outcome).toEqual({ wasmCompiled: true, violations: ['connect-src'] });
  });

  it('lets the app run: a reload and a picture generated in the worker cause no violation', async () => {
    await app.page.reload();
    const violations = await watchViolations(app.page);
    await expect.poll(() => app.page.getByTestId('gpu-panel').getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    const picture = await app.page.evaluate(async (models) => {
      type Engine = { generateImage(request: object): Promise<{ width: number; height: number; rgba: Uint8Array }> };
      const engine = (globalThis as unknown as { characonsistEngine: Engine }).characonsistEngine;
      const result = await engine.generateImage({ models, prompt: 'a lighthouse', width: 32, height: 32, steps: 1, seed: 3, maxSequenceLength: 8 });
      return { width: result.width, height: result.height, distinct: new Set(result.rgba).size };
    }, modelSet(new URL(baseUrl).origin));
    expect(picture.width).toBe(32);
    expect(picture.distinct).toBeGreaterThan(1);
    expect(await violations()).toEqual([]);
  });
});

describe('service worker', () => {
  const app = appSession(baseUrl);

  it('precaches the shell and the tokenizers, never a model file', async () => {
    await app.page.evaluate(() => navigator.serviceWorker.ready);
    const cached = async () => app.page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) urls.push(...(await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname));
      return urls;
    });
    await expect.poll(async () => (await cached()).some((url) => url.endsWith('/tokenizers/t5-v1_1-xxl/tokenizer.json')), { timeout: 30_000 }).toBe(true);
    // Fetch a model file as the engine would; the service worker must not keep it.
    const modelUrl = (modelSet(new URL(baseUrl).origin).vae as { url: string }).url;
    await app.page.evaluate((url) => fetch(url, { headers: { Range: 'bytes=0-15' } }), modelUrl);
    const urls = await cached();
    expect(urls).toEqual(expect.arrayContaining(['/index.html', '/tokenizers/clip-vit-large-patch14/merges.txt', '/tokenizers/clip-vit-large-patch14/vocab.json']));
    expect(urls.some((url) => /\.js$/.test(url) && url.includes('engine.worker'))).toBe(true);
    expect(urls.filter((url) => /tiny-models|\.gguf|\.safetensors/.test(url))).toEqual([]);
  });
});
