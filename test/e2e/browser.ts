// Headless Chromium with WebGPU on SwiftShader (flags from ../shared/testing.md).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

const QUIET = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'];

/** A fresh persistent profile (service workers and storage work as for a real user). */
export async function launch(options: { webgpu?: boolean } = {}): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), 'characonsist-e2e-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...QUIET, ...(options.webgpu === false ? ['--disable-webgpu'] : WEBGPU)],
  });
}

export interface AppSession {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** The built app at `baseUrl`, opened in a fresh browser before a file's tests and closed after them. */
export function appSession(baseUrl: string): AppSession {
  const session = {} as { context: BrowserContext; page: Page };
  beforeAll(async () => {
    session.context = await launch();
    session.page = await session.context.newPage();
    await session.page.goto(baseUrl);
  });
  afterAll(async () => session.context?.close());
  return session;
}
