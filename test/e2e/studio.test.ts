// The story studio in headless Chromium (WebGPU on SwiftShader) with the tiny models, used as a
// person would: model files picked in the Models panel, the story typed into the editor, Generate,
// Esc, Resume, "Regenerate frame N", "New seed", and a GPU crash in the middle of a story.
//
// The transformer is the legible tiny one (test/e2e/models.ts), on which the prompt-level story
// of test/e2e/stories.ts gets masks that are neither empty nor full, and matched points.

import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { appSession } from './browser';
import { E2E_MODELS_DIR, LEGIBLE_TRANSFORMER_FILE, MODEL_FILES } from './models';
import { LEGIBLE_STORY } from './stories';
import { generateAndWait, picturePixels, pickModelFiles, progressText, STORY_TIMEOUT, waitForRunEnd, writeStory, type TypedStory } from './studio-page';

const baseUrl = inject('baseUrl');

const story = (mode: TypedStory['mode'], frames: TypedStory['frames'], seed = LEGIBLE_STORY.seed): TypedStory => ({ ...LEGIBLE_STORY, mode, frames, seed, framesPerBatch: 1 });
const [DRAW, RIDE] = LEGIBLE_STORY.frames;

describe('the story studio (headless Chromium, tiny models)', () => {
  const app = appSession(baseUrl);

  it('tells a new user what Generate needs, and can generate once the model files are given', async () => {
    const { page } = app;
    const generate = (disabled: boolean) => page.getByRole('button', { name: 'Generate', exact: true, disabled });
    await generate(true).waitFor({ timeout: 60_000 });
    expect(await page.getByRole('region', { name: 'Generate', exact: true }).textContent()).toMatch(/open Models/);
    const file = (name: string) => path.resolve('dist', E2E_MODELS_DIR, name);
    await pickModelFiles(page, { transformer: file(LEGIBLE_TRANSFORMER_FILE), t5: file(MODEL_FILES.t5), clip: file(MODEL_FILES.clip), vae: file(MODEL_FILES.vae) });
    await generate(false).waitFor({ timeout: 60_000 });
  });

  it('makes a story with the same background; Esc during frame 2 keeps frame 1 and stops; Resume makes the rest; the frame shows its mask and matched points', async () => {
    const { page } = app;
    const typed = story('maintain', [DRAW, RIDE]);
    await writeStory(page, typed);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect.poll(() => progressText(page), { timeout: STORY_TIMEOUT, interval: 100 }).toMatch(/frame 2 of 2/);
    await page.keyboard.press('Escape');
    await waitForRunEnd(page, /^Cancelled$/);
    const results = page.getByRole('region', { name: 'Results', exact: true });
    expect(await results.textContent()).toMatch(/Kept: the identity, frame 1\. Not made: frame 2\./);
    const pictures = page.getByRole('region', { name: 'Pictures', exact: true });
    await expect.poll(() => pictures.getByRole('img', { name: /^Frame 1: / }).count()).toBe(1);
    expect(await pictures.getByRole('img', { name: /^Frame 2: / }).count()).toBe(0);
    const after = await results.textContent();
    await page.waitForTimeout(3000);
    expect(await results.textContent()).toBe(after);
    expect(await page.title()).toBe('CharaConsist');

    const frame1 = await picturePixels(page, 'Frame 1');
    await page.getByRole('button', { name: 'Resume', exact: true }).click();
    await waitForRunEnd(page, /^Finished in/);
    await checkPictures(page, typed);
    // Resume made only what was missing: frame 1 is the picture made before the cancel.
    expect(await picturePixels(page, 'Frame 1')).toEqual(frame1);
    await expectMaskAndPoints(page, 1);
  }, 2 * STORY_TIMEOUT);

  it('makes a story with a background per frame', async () => {
    const typed = story('switch', [{ ...RIDE, environment: 'On a stone bridge at dawn,' }]);
    await writeStory(app.page, typed);
    await generateAndWait(app.page);
    await checkPictures(app.page, typed);
  }, STORY_TIMEOUT);

  it("makes a story in scenes; frame 2 regenerated alone has the full run's pixels, and a new seed changes them", async () => {
    const { page } = app;
    // frame 2 opens a scene at its own size (marked, as its place is the same); frame 3 shares its background
    const typed = story('scenes', [DRAW, { ...RIDE, width: 48, newScene: true }, { ...DRAW, width: 48 }]);
    await writeStory(page, typed);
    await generateAndWait(page);
    await checkPictures(page, typed);
    const full = await Promise.all(['Identity', 'Frame 1', 'Frame 2', 'Frame 3'].map((name) => picturePixels(page, name)));
    await regenerate(page, 2);
    expect(await picturePixels(page, 'Frame 2')).toEqual(full[2]);
    expect(await picturePixels(page, 'Identity')).toEqual(full[0]);
    expect(await picturePixels(page, 'Frame 1')).toEqual(full[1]);
    expect(await picturePixels(page, 'Frame 3')).toEqual(full[3]);

    await page.getByRole('button', { name: 'New seed for frame 2', exact: true }).click();
    // frame 2 and frame 3 (whose background comes from frame 2) are marked as no longer matching the editor
    const pictures = page.getByRole('region', { name: 'Pictures', exact: true });
    const marked = async () => Promise.all([1, 2, 3].map((n) => pictures.getByRole('listitem').filter({ hasText: `Frame ${n}` }).getByText('changed since made').count()));
    await expect.poll(marked).toEqual([0, 1, 1]);
    await regenerate(page, 2);
    expect((await picturePixels(page, 'Frame 2')).rgba).not.toEqual(full[2].rgba);
  }, 3 * STORY_TIMEOUT);

  it('keeps the story and its pictures when the GPU is lost mid-story, and continues', async () => {
    const { page, context } = app;
    await writeStory(page, story('maintain', [DRAW], 12));
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const pictures = page.getByRole('region', { name: 'Pictures', exact: true });
    await expect.poll(() => pictures.getByRole('img', { name: /^Identity: / }).count(), { timeout: STORY_TIMEOUT }).toBe(1);
    const identity = await picturePixels(page, 'Identity');
    // Crashing Chromium's GPU process loses every device, as a driver reset would.
    await (await context.newCDPSession(page)).send('Browser.crashGpuProcess');
    const recovery = page.getByRole('region', { name: 'Results', exact: true }).getByRole('alert');
    await expect.poll(() => recovery.textContent(), { timeout: 60_000 }).toMatch(/story and the finished pictures are kept/);
    expect(await page.getByLabel('Character', { exact: true }).inputValue()).toBe(LEGIBLE_STORY.character);
    expect(await picturePixels(page, 'Identity')).toEqual(identity);
    await recovery.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitForRunEnd(page, /^Finished in/);
    // The picture shows once its PNG is encoded, a moment after the run ends.
    await expect.poll(() => pictures.getByRole('img', { name: /^Frame 1: / }).count()).toBe(1);
    expect(await picturePixels(page, 'Identity')).toEqual(identity);
  }, 2 * STORY_TIMEOUT);
});

/** Checks every picture of `typed` in the gallery: its alt text (the prompt) and its width. */
async function checkPictures(page: Page, typed: TypedStory): Promise<void> {
  const pictures = page.getByRole('region', { name: 'Pictures', exact: true });
  const identity = `Identity: ${typed.identity.environment} ${typed.character} ${typed.identity.action}`;
  await pictures.getByRole('img', { name: identity, exact: true }).waitFor({ timeout: 10_000 });
  for (const [k, frame] of typed.frames.entries()) {
    const place = typed.mode === 'maintain' ? typed.identity.environment : frame.environment;
    await pictures.getByRole('img', { name: `Frame ${k + 1}: ${place} ${typed.character} ${frame.action}`, exact: true }).waitFor({ timeout: 10_000 });
    expect((await picturePixels(page, `Frame ${k + 1}`)).width).toBe(frame.width ?? typed.width);
  }
}

async function regenerate(page: Page, frame: number): Promise<void> {
  await page.getByRole('button', { name: `Regenerate frame ${frame}`, exact: true }).click();
  await waitForRunEnd(page, /^Finished in/);
}

/** Frame `n` up close: its mask as an overlay with some character in it, and a matched point that lights its identity point. */
async function expectMaskAndPoints(page: Page, n: number): Promise<void> {
  await page.getByRole('button', { name: `Inspect frame ${n}` }).click();
  const closeUp = page.getByRole('region', { name: `Frame ${n}, up close`, exact: true });
  await closeUp.getByRole('checkbox', { name: 'Show mask' }).check();
  expect(await closeUp.getByTestId('mask-overlay').count()).toBeGreaterThan(0);
  // Neither empty nor full: the story of stories.ts was chosen for that on this model.
  const [, character, tokens] = /Frame \d+ · mask: (\d+) of (\d+) tokens are the character/.exec((await closeUp.textContent()) ?? '') ?? [];
  expect(Number(character)).toBeGreaterThan(0);
  expect(Number(character)).toBeLessThan(Number(tokens));
  const points = closeUp.getByRole('slider', { name: `Matched points of frame ${n}` });
  expect(Number(await points.getAttribute('aria-valuemax'))).toBeGreaterThan(0);
  // Pointing at the last point on the frame lights its partner on the identity, with the similarity.
  const last = points.locator('circle').last();
  await last.hover();
  const identityToken = await last.getAttribute('data-identity-token');
  await expect.poll(() => closeUp.locator('svg[data-active-identity-token]').getAttribute('data-active-identity-token')).toBe(identityToken);
  expect(await points.getAttribute('aria-valuetext')).toMatch(/similarity \d\.\d\d/);
  // The same from the keyboard: focus the frame's points and step with the arrow keys.
  await points.focus();
  await page.keyboard.press('Home');
  expect(await points.getAttribute('aria-valuenow')).toBe('1');
}
