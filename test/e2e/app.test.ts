import { describe, expect, inject, it } from 'vitest';
import { relativeError } from '../../src/engine/reference/compare';
import { appSession, launch } from './browser';

const baseUrl = inject('baseUrl');

describe('the app in headless Chromium (WebGPU on SwiftShader)', () => {
  const app = appSession(baseUrl);

  it("shows the SwiftShader adapter's report in the GPU panel", async () => {
    const panel = app.page.getByTestId('gpu-panel');
    await expect.poll(() => panel.getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    await expect.poll(() => app.page.getByTestId('gpu-adapter').textContent()).toMatch(/google.*swiftshader/i);
    expect(await app.page.locator('.limits').textContent()).toMatch(/maxStorageBufferBindingSize/);
  });

  it('runs a kernel inside the worker and returns correct numbers', async () => {
    const length = 77_777;
    const seed = Math.floor(Math.random() * 2 ** 32);
    const result = await app.page.evaluate(
      async ({ length, seed }) => {
        const engine = (globalThis as unknown as { characonsistEngine: { selfCheck(r: object): Promise<Record<string, unknown>> } }).characonsistEngine;
        const r = await engine.selfCheck({ length, seed });
        const list = (v: unknown) => Array.from(v as Float32Array);
        return { a: r.a as number, x: list(r.x), y: list(r.y), axpy: list(r.axpy), sum: r.sum as number, isFloat32: r.axpy instanceof Float32Array };
      },
      { length, seed },
    );
    expect(result.isFloat32).toBe(true);
    expect(result.axpy).toHaveLength(length);
    // Independent float64 check here in Node, not the engine's own verdict.
    const expected = result.x.map((x, i) => result.a * x + result.y[i]);
    expect(relativeError(result.axpy, expected)).toBeLessThan(1e-6);
    const total = expected.reduce((acc, v) => acc + v, 0);
    expect(Math.abs(result.sum - total)).toBeLessThan(1e-5 * result.x.length);
  });

  it('reports a passing self-check through the GPU panel button', async () => {
    await app.page.getByRole('button', { name: 'Run GPU self-check' }).click();
    const check = app.page.getByTestId('self-check');
    await expect.poll(() => check.getAttribute('data-status'), { timeout: 120_000 }).toBe('done');
    expect(await check.getAttribute('data-passed')).toBe('true');
    expect(await check.textContent()).toMatch(/Passed: 1,000,003 elements/);
  });

  it('keeps the story across a reload', async () => {
    const character = `a tall knight in blue armour ${Date.now()}`;
    await app.page.getByLabel('Character', { exact: true }).fill(character);
    await app.page.reload();
    await expect.poll(() => app.page.getByLabel('Character', { exact: true }).inputValue()).toBe(character);
  });

  it('is an installable PWA whose shell works offline', async () => {
    const manifest = await app.page.evaluate(async () => {
      const link = document.querySelector('link[rel="manifest"]') as HTMLLinkElement | null;
      return link ? ((await (await fetch(link.href)).json()) as { name: string; icons: { sizes: string }[]; display: string }) : null;
    });
    expect(manifest?.display).toBe('standalone');
    expect(manifest?.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    await app.page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // The service worker controls the page after a reload; then the shell must load with no network.
    await app.page.reload();
    await expect.poll(() => app.page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 30_000 }).toBe(true);
    await app.context.setOffline(true);
    await app.page.reload();
    await expect.poll(() => app.page.getByRole('heading', { name: 'CharaConsist' }).count()).toBe(1);
    await app.context.setOffline(false);
  });
});

describe('a browser whose WebGPU has no adapter (--disable-webgpu)', () => {
  it('shows an error card telling the user what to do', async () => {
    const context = await launch({ webgpu: false });
    try {
      const page = await context.newPage();
      await page.goto(baseUrl);
      const card = page.getByTestId('gpu-panel').getByTestId('error-card');
      await expect.poll(() => card.getAttribute('data-code'), { timeout: 60_000 }).toBe('no-adapter');
      expect(await card.textContent()).toMatch(/No GPU available.*Update the GPU driver/);
    } finally {
      await context.close();
    }
  });
});

describe('a lost GPU device', () => {
  it('keeps the story, reports the loss and recovers with Continue', async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      await page.goto(baseUrl);
      const panel = page.getByTestId('gpu-panel');
      await expect.poll(() => panel.getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
      const character = await page.getByLabel('Character', { exact: true }).inputValue();
      // Crashing Chromium's GPU process loses every device, as a driver reset would.
      const cdp = await context.newCDPSession(page);
      await cdp.send('Browser.crashGpuProcess');
      await expect.poll(() => panel.getAttribute('data-status'), { timeout: 60_000 }).toBe('lost');
      expect(await panel.getByTestId('error-card').getAttribute('data-code')).toBe('device-lost');
      expect(await page.getByLabel('Character', { exact: true }).inputValue()).toBe(character);
      await panel.getByRole('button', { name: 'Continue' }).click();
      await expect.poll(() => panel.getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    } finally {
      await context.close();
    }
  });
});
