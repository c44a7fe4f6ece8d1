// Keeping, exporting and sharing a story in the built app with the tiny models: generate, reload,
// find it in the history and restore it; export a ZIP and a PNG and read them back in Node
// (fflate's unzip, sharp's PNG decoder and text reader); drop the PNG back; open the share link
// in a fresh browser profile and generate the same pixels; go offline and generate again.

import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import type { Locator, Page } from 'playwright-core';
import sharp from 'sharp';
import { describe, expect, inject, it } from 'vitest';
import type { SharedStory } from '../../src/schema/share-link';
import type { StoryDocument } from '../../src/schema/story';
import { runnableStory } from '../../src/ui/studio/story-edits';
import { appSession, launch } from './browser';
import { characterField, dropFile, editorStory, importNotice } from './share-page';
import { storeTinyBundle, tinyCatalogPage } from './model-store-helpers';
import { TINY_CATALOG } from './model-server-plugin';
import { E2E_MODELS_DIR } from './models';
import { LEGIBLE_STORY } from './stories';
import { generateAndWait, picturePixels, STORY_TIMEOUT, writeStory } from './studio-page';

const baseUrl = inject('baseUrl');
const STORY: StoryDocument = { ...LEGIBLE_STORY, character: 'a lighthouse keeper with a yellow oilskin coat', seed: 31 };
const PICTURES = ['Identity', 'Frame 1', 'Frame 2'] as const;
const FILE_NAMES = ['identity', 'frame-01', 'frame-02'] as const;

type Pixels = { width: number; height: number; rgba: number[] };

const viewer = (page: Page) => page.getByTestId('story-viewer');

async function download(page: Page, control: Locator): Promise<{ name: string; bytes: Buffer }> {
  const started = page.waitForEvent('download');
  await control.click();
  const file = await started;
  return { name: file.suggestedFilename(), bytes: readFileSync((await file.path())!) };
}

/** RGBA pixels of a PNG, decoded by sharp (not by the browser or our code). */
async function decoded(png: Uint8Array): Promise<Pixels> {
  const { data, info } = await sharp(Buffer.from(png)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: Array.from(data) };
}

async function studioPictures(page: Page): Promise<Pixels[]> {
  return Promise.all(PICTURES.map((name) => picturePixels(page, name)));
}

describe('history, exports and share links (headless Chromium, tiny models)', () => {
  const app = appSession(tinyCatalogPage(baseUrl));
  /** the story as the engine got it (what the history keeps and a link carries) */
  let generated: StoryDocument;
  let originals: Pixels[];
  let shared: SharedStory;
  let link: string;

  it('keeps a generated story across a reload, with its pictures, and restores its settings', async () => {
    const { page } = app;
    await storeTinyBundle(page, baseUrl);
    await writeStory(page, STORY);
    generated = runnableStory((await editorStory(page))!);
    await generateAndWait(page);
    originals = await studioPictures(page);

    await page.reload();
    const card = page.getByRole('button', { name: new RegExp(`^${STORY.character}`) });
    await expect.poll(() => card.count(), { timeout: 30_000 }).toBe(1);
    expect(await card.textContent()).toMatch(/3 pictures · finished/);
    expect(await page.getByTestId('history-storage').textContent()).toMatch(/1 story, [\d.]+ (kB|MB) of pictures/);
    await card.click();
    const images = viewer(page).getByRole('list', { name: 'Pictures' }).getByRole('img');
    await expect.poll(() => images.count(), { timeout: 30_000 }).toBe(3);
    for (const [k, image] of (await images.all()).entries()) {
      expect(await image.getAttribute('alt')).toMatch(new RegExp(`^${PICTURES[k]}: `));
      expect(await image.evaluate((element) => (element as HTMLImageElement).decode().then(() => (element as HTMLImageElement).naturalWidth))).toBe(originals[k].width);
    }

    await characterField(page).fill('someone else entirely');
    await viewer(page).getByRole('button', { name: 'Restore into editor' }).click();
    await expect.poll(() => editorStory(page)).toEqual(generated);
    expect(await characterField(page).inputValue()).toBe(STORY.character);
  }, STORY_TIMEOUT + 120_000);

  it('exports a ZIP that holds the story and the very same pictures', async () => {
    const { page } = app;
    const { name, bytes } = await download(page, viewer(page).getByRole('button', { name: 'Export ZIP' }));
    expect(name).toMatch(/^characonsist-\d{8}-\d{4}\.zip$/);
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(['README.txt', 'details.json', 'story.json', ...FILE_NAMES.map((n) => `pictures/${n}.png`), ...FILE_NAMES.map((n) => `masks/${n}-mask.png`)].sort());
    shared = JSON.parse(strFromU8(files['story.json']));
    expect(shared.story).toEqual(generated);
    expect(shared.rng).toBe('philox-box-muller/1');
    const catalog = JSON.parse(readFileSync(`dist/${E2E_MODELS_DIR}/${TINY_CATALOG}`, 'utf8')) as { files: { id: string; component: string; sha256: string }[] };
    const byComponent = (a: { component: string }, b: { component: string }) => a.component.localeCompare(b.component);
    expect(shared.models.map(({ component, id, sha256 }) => ({ component, id, sha256 })).sort(byComponent)).toEqual(catalog.files.map(({ component, id, sha256 }) => ({ component, id, sha256 })).sort(byComponent));
    for (const [k, file] of FILE_NAMES.entries()) {
      expect(await decoded(files[`pictures/${file}.png`])).toEqual(originals[k]);
      const mask = await sharp(Buffer.from(files[`masks/${file}-mask.png`])).metadata();
      expect([mask.width, mask.height, mask.channels]).toEqual([originals[k].width, originals[k].height, 1]);
    }
    const details = JSON.parse(strFromU8(files['details.json']));
    expect(details.pictures.map((picture: { name: string }) => picture.name)).toEqual([...FILE_NAMES]);
    expect(details.run.timings.transformer).toBeGreaterThan(0);
  });

  it('exports a PNG whose text chunks hold the story, and dropping it back restores that story', async () => {
    const { page } = app;
    const { bytes } = await download(page, viewer(page).getByRole('button', { name: 'Download Frame 1 as PNG' }));
    expect(await decoded(bytes)).toEqual(originals[1]);
    const { comments } = await sharp(bytes).metadata();
    const texts = Object.fromEntries((comments ?? []).map(({ keyword, text }) => [keyword, text]));
    expect(texts.parameters).toMatch(new RegExp(`^In a misty forest at dawn, ${STORY.character} draws a sword\\.\\nSteps: 4, Sampler: Euler, Schedule: schnell-4, Seed: 31, Size: 64x64, Model: `));
    expect(JSON.parse(texts.characonsist)).toEqual(shared);

    await characterField(page).fill('someone else entirely');
    await dropFile(page, bytes, 'frame-01.png');
    await expect.poll(() => editorStory(page), { timeout: 10_000 }).toEqual(generated);

    // With "Include story in PNG" off, the picture carries pixels only.
    await viewer(page).getByRole('checkbox', { name: /Include story in PNG/ }).uncheck();
    const plain = await download(page, viewer(page).getByRole('button', { name: 'Download Frame 1 as PNG' }));
    expect((await sharp(plain.bytes).metadata()).comments ?? []).toEqual([]);
    expect(await decoded(plain.bytes)).toEqual(originals[1]);
    await viewer(page).getByRole('checkbox', { name: /Include story in PNG/ }).check();
  });

  it('exports a comic page and a contact sheet', async () => {
    const { page } = app;
    await viewer(page).getByRole('combobox', { name: 'Comic layout' }).selectOption('strip');
    const comic = await download(page, viewer(page).getByRole('button', { name: 'Export comic page' }));
    expect(comic.name).toMatch(/-comic\.png$/);
    const strip = await sharp(comic.bytes).metadata();
    expect(strip.width!).toBeGreaterThan(3 * 64);
    expect(strip.height!).toBeLessThan(strip.width!);
    const sheet = await download(page, viewer(page).getByRole('button', { name: 'Export contact sheet' }));
    const { width, height } = await sharp(sheet.bytes).metadata();
    expect([width! > 2 * 256, height! > 2 * 256]).toEqual([true, true]);
  });

  it('makes a share link that opens in a fresh browser profile as the same story and draws the same pixels', async () => {
    const { page } = app;
    await viewer(page).getByRole('button', { name: 'Copy share link' }).click();
    link = await viewer(page).getByRole('textbox', { name: 'Share link' }).inputValue();
    expect(link).toMatch(/#story=v1\.[A-Za-z0-9_-]+$/);

    const fresh = await launch();
    try {
      const other = await fresh.newPage();
      await storeTinyBundle(other, baseUrl);
      await other.goto(`${tinyCatalogPage(baseUrl)}${new URL(link).hash}`);
      const notice = importNotice(other);
      await expect.poll(() => notice.getAttribute('data-kind'), { timeout: 30_000 }).toBe('opened');
      expect(await editorStory(other)).toEqual(generated);
      const needs = other.getByRole('list', { name: 'Models this story needs' }).getByRole('listitem');
      const availability = () => needs.evaluateAll((items) => items.map((item) => item.getAttribute('data-availability')));
      await expect.poll(availability, { timeout: 30_000 }).toEqual(['stored', 'stored', 'stored', 'stored']);
      await generateAndWait(other);
      expect(await studioPictures(other)).toEqual(originals);
    } finally {
      await fresh.close();
    }
  }, STORY_TIMEOUT + 120_000);

  it('deletes a story', async () => {
    const { page } = app;
    await viewer(page).getByRole('button', { name: 'Delete story' }).click();
    await viewer(page).getByRole('button', { name: 'Delete for good' }).click();
    await expect.poll(() => page.getByRole('button', { name: new RegExp(`^${STORY.character}`) }).count()).toBe(0);
    expect(await page.getByTestId('history-storage').textContent()).toMatch(/^0 stories/);
  });

  it('opens and generates with the network off once the models are stored', async () => {
    const { page, context } = app;
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 30_000 }).toBe(true);
    // The page's catalog (the tiny test catalog, given by address) comes from the copy the app
    // kept when it last loaded it; the model files come from the browser's storage.
    await context.setOffline(true);
    try {
      await page.reload();
      const ready = () => page.evaluate(() => (globalThis as unknown as { characonsistModels: { generationModels(): { ready: boolean } } }).characonsistModels.generationModels().ready);
      await expect.poll(ready, { timeout: 60_000 }).toBe(true);
      await writeStory(page, { ...STORY, seed: 32, frames: STORY.frames.slice(0, 1) });
      await generateAndWait(page);
      expect((await picturePixels(page, 'Frame 1')).width).toBe(STORY.width);
    } finally {
      await context.setOffline(false);
    }
  }, STORY_TIMEOUT + 120_000);
});
