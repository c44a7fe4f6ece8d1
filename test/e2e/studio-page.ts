// Driving the studio as a person would: by the controls' roles and accessible names. Used by the
// studio's end-to-end tests.

import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import type { StoryDocument } from '../../src/schema/story';

/** A story as the tests type it, plus how it is run (More settings). */
export interface TypedStory extends StoryDocument {
  framesPerBatch?: number;
}

const MODE_NAMES: Record<StoryDocument['mode'], string> = { maintain: 'Same background', switch: 'Background per frame', scenes: 'Scenes' };

const COMPONENT_WORDS = { transformer: 'transformer', t5: 'T5 text encoder', clip: 'CLIP text encoder', vae: 'VAE' } as const;

/** Gives the Models panel a file of this computer for every part, as a person without downloads would. */
export async function pickModelFiles(page: Page, files: Record<keyof typeof COMPONENT_WORDS, string>): Promise<void> {
  for (const [component, words] of Object.entries(COMPONENT_WORDS)) {
    await page.getByLabel(`Use a ${words} file from this computer`).setInputFiles(files[component as keyof typeof COMPONENT_WORDS]);
  }
}

/** SwiftShader runs the tiny models slowly: a tiny story takes a minute or two. */
export const STORY_TIMEOUT = 240_000;

/** Types `story` into the editor field by field, adding or removing frames to match. */
export async function writeStory(page: Page, story: TypedStory): Promise<void> {
  await page.getByLabel('Character', { exact: true }).fill(story.character);
  await page.getByRole('radio', { name: new RegExp(`^${MODE_NAMES[story.mode]}`) }).check();
  await page.getByLabel('Place of the identity').fill(story.identity.environment);
  await page.getByLabel('Action of the identity', { exact: true }).fill(story.identity.action);
  await setFrameCount(page, story.frames.length);
  for (const [k, frame] of story.frames.entries()) {
    const n = k + 1;
    if (story.mode !== 'maintain') await page.getByLabel(`Place of frame ${n}`, { exact: true }).fill(frame.environment);
    await page.getByLabel(`Action of frame ${n}`, { exact: true }).fill(frame.action);
    if (story.mode === 'scenes') await page.getByRole('checkbox', { name: `New scene at frame ${n}` }).setChecked(Boolean(frame.newScene ?? frame.environment !== (k === 0 ? story.identity : story.frames[k - 1]).environment));
    await openDetails(page, `Own size or seed of frame ${n}`);
    await fillNumber(page.getByLabel(`Width of frame ${n}`, { exact: true }), frame.width);
    await fillNumber(page.getByLabel(`Height of frame ${n}`, { exact: true }), frame.height);
    await fillNumber(page.getByLabel(`Seed of frame ${n}`, { exact: true }), frame.seed);
  }
  await fillNumber(page.getByLabel('Width', { exact: true }), story.width);
  await fillNumber(page.getByLabel('Height', { exact: true }), story.height);
  await fillNumber(page.getByLabel('Story seed', { exact: true }), story.seed);
  await page.getByRole('radio', { name: new RegExp(`^${story.schedule}`) }).check();
  await openDetails(page, 'More settings');
  await fillNumber(page.getByLabel('Token limit (T5)'), story.maxSequenceLength);
  await fillNumber(page.getByLabel('Frames per batch'), story.framesPerBatch);
}

async function setFrameCount(page: Page, count: number): Promise<void> {
  const frames = () => page.getByRole('textbox', { name: /^Action of frame \d+$/ }).count();
  while ((await frames()) < count) await page.getByRole('button', { name: 'Add frame' }).click();
  while ((await frames()) > count) await page.getByRole('button', { name: `Remove frame ${await frames()}` }).click();
}

/** Opens the disclosure whose summary reads `summary` (clicking it again would close it). */
async function openDetails(page: Page, summary: string): Promise<void> {
  const toggle = page.getByText(summary, { exact: true });
  if (!(await toggle.evaluate((element) => (element.closest('details') as HTMLDetailsElement).open))) await toggle.click();
}

async function fillNumber(field: Locator, value: number | undefined): Promise<void> {
  await field.fill(value === undefined ? '' : String(value));
}

/** Presses Generate and waits until the whole story is made. */
export async function generateAndWait(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await waitForRunEnd(page, /^Finished in/);
}

/** Waits until the run status says the story ended as `heading` says; fails early when it stopped with an error. */
export async function waitForRunEnd(page: Page, heading: RegExp): Promise<void> {
  const results = page.getByRole('region', { name: 'Results', exact: true });
  await expect
    .poll(async () => {
      const alert = results.getByRole('alert');
      if ((await alert.count()) > 0) throw new Error(`the story stopped: ${await alert.first().textContent()}`);
      return results.getByRole('heading', { name: heading }).count();
    }, { timeout: STORY_TIMEOUT, interval: 500 })
    .toBe(1);
}

/** The picture the gallery shows for `name` ('Identity', 'Frame 2'), as RGBA bytes read back from its <img>. */
export async function picturePixels(page: Page, name: string): Promise<{ width: number; height: number; rgba: number[] }> {
  const image = page.getByRole('region', { name: 'Pictures', exact: true }).getByRole('img', { name: new RegExp(`^${name}: `) });
  await image.waitFor({ timeout: 10_000 });
  return image.evaluate(async (element) => {
    const img = element as HTMLImageElement;
    await img.decode();
    const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
    const context = canvas.getContext('2d')!;
    context.drawImage(img, 0, 0);
    return { width: img.naturalWidth, height: img.naturalHeight, rgba: Array.from(context.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data) };
  });
}

/** What the story's progress bar says ("42%: Drawing the frames · frame 2 of 3 · step 1 of 4"), or '' when nothing runs. */
export async function progressText(page: Page): Promise<string> {
  const bar = page.getByRole('progressbar', { name: 'Story progress' });
  return (await bar.count()) ? ((await bar.getAttribute('aria-valuetext')) ?? '') : '';
}
