// Stories coming into the built app: share links (a good one in a fresh browser profile fills the
// editor and names its models; twenty bad ones each give their message and change nothing, and
// none of their HTML runs), and PNGs or story.json dropped on the page or picked with the button.

import { deflateRawSync, deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { pictureTexts } from '../../src/export/picture-metadata';
import { encodePng } from '../../src/export/png';
import { encodeShareFragment } from '../../src/export/share-link';
import { sharedStory } from '../../src/export/shared-story';
import type { SharedStory } from '../../src/schema/share-link';
import type { StoryDocument } from '../../src/schema/story';
import { HTML_PAYLOADS } from '../unit/share-arbitraries';
import { appSession, launch } from './browser';
import { characterField, dropFile, editorStory, importNotice } from './share-page';

const baseUrl = inject('baseUrl');

const STORY: StoryDocument = {
  mode: 'scenes',
  character: 'an old lighthouse keeper with a white beard and a yellow oilskin coat',
  identity: { environment: 'On a rocky island at dusk,', action: 'is standing by the lighthouse door.' },
  frames: [
    { environment: 'On a rocky island at dusk,', action: 'is climbing the spiral stairs.', seed: 77 },
    { environment: 'In a small harbour pub,', action: 'is telling a story to sailors.', width: 1280, height: 720, newScene: true },
  ],
  width: 1024,
  height: 1024,
  seed: 4242,
  schedule: 'dev-50',
  maxSequenceLength: 256,
};
const MODELS = [{ component: 'transformer' as const, id: 'flux1-dev-q4_0', name: 'FLUX.1-dev Q4_0', sha256: '2867e9575640d80ccbcbf65010659a4d09e676a034637bc37eac7f2531c46e90' }];
const SHARED = sharedStory(STORY, MODELS, '0.1.0');

/** Every text field of the story holds HTML that sets window.__pwned if it ever runs. */
const HOSTILE: StoryDocument = {
  ...STORY,
  character: HTML_PAYLOADS[0],
  identity: { environment: HTML_PAYLOADS[1], action: HTML_PAYLOADS[2] },
  frames: [{ environment: HTML_PAYLOADS[3], action: HTML_PAYLOADS[0] }],
};

const payload = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
/** A v1 link around any JSON value or text, made with Node's zlib (not the code under test). */
const linkOf = (value: unknown, version = 'v1') => `#story=${version}.${payload(deflateSync(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))))}`;
const valid = encodeShareFragment(SHARED);
const validPayload = valid.slice('#story=v1.'.length);
const hostile = (patch: object) => linkOf({ ...sharedStory(HOSTILE, MODELS), ...patch });

const BAD_LINKS: [string, string, string][] = [
  ['no version', '#story=', 'not-recognised'],
  ['empty payload', '#story=v1.', 'damaged'],
  ['cut short', valid.slice(0, valid.length - 9), 'damaged'],
  ['one character changed', `${valid.slice(0, 20)}${valid[20] === 'A' ? 'B' : 'A'}${valid.slice(21)}`, 'damaged'],
  ['a newer link version', `#story=v9.${validPayload}`, 'too-new'],
  ['a newer story format', linkOf({ ...SHARED, version: 2, story: { character: HTML_PAYLOADS[0] } }), 'too-new'],
  ['another random-number generator', linkOf({ ...SHARED, rng: '<img src=x onerror="window.__pwned=1">' }), 'too-new'],
  ['a zip bomb', linkOf(`{"story":"${' '.repeat(8 * 1024 * 1024)}"}`), 'too-large'],
  ['far too long', `#story=v1.${'A'.repeat(40_000)}`, 'too-large'],
  ['HTML instead of JSON', linkOf('<script>window.__pwned=1</script>'), 'damaged'],
  ['a JSON list of HTML', linkOf(HTML_PAYLOADS), 'invalid'],
  ['HTML everywhere and a bad width', hostile({ story: { ...HOSTILE, width: 40 } }), 'invalid'],
  ['HTML everywhere and an unknown field', hostile({ onload: HTML_PAYLOADS[2] }), 'invalid'],
  ['HTML everywhere and no frames', hostile({ story: { ...HOSTILE, frames: [] } }), 'invalid'],
  ['HTML as a model id', hostile({ models: [{ component: 'transformer', id: HTML_PAYLOADS[0] }] }), 'invalid'],
  ['HTML as the mode', hostile({ story: { ...HOSTILE, mode: HTML_PAYLOADS[0] } }), 'invalid'],
  ['percent-encoded HTML', `#story=v1.${encodeURIComponent(HTML_PAYLOADS[0])}`, 'damaged'],
  ['raw deflate without zlib framing', `#story=v1.${payload(deflateRawSync(Buffer.from(JSON.stringify(SHARED))))}`, 'damaged'],
  ['standard base64', `#story=v1.${Buffer.from(deflateSync(Buffer.from(JSON.stringify(SHARED)))).toString('base64').replace(/[A-Za-z0-9]/, '+')}`, 'damaged'],
  ['JSON null', linkOf(null), 'invalid'],
];

/** Whether any hostile HTML got into the page as markup or ran. */
const pwned = (page: Page) =>
  page.evaluate(() => ({
    ran: (window as { __pwned?: unknown }).__pwned !== undefined,
    markup: document.querySelectorAll('img[src="x"], svg[onload], script:not([src])').length,
  }));

describe('share links', () => {
  it('a link opened in a fresh browser profile fills the editor with exactly its story and names its models', async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      await page.goto(`${baseUrl}${valid}`);
      await expect.poll(() => importNotice(page).getAttribute('data-kind'), { timeout: 30_000 }).toBe('opened');
      expect(await editorStory(page)).toEqual(STORY);
      expect(await characterField(page).inputValue()).toBe(STORY.character);
      const models = page.getByRole('list', { name: 'Models this story needs' });
      expect(await models.textContent()).toMatch(/transformer: FLUX\.1-dev Q4_0 \(sha256 2867e9575640…\)/);
      // The link leaves the address once opened, so a reload keeps later edits.
      expect(new URL(page.url()).hash).toBe('');
    } finally {
      await context.close();
    }
  });

  it('a story whose every text is HTML opens as plain text; none of it runs', async () => {
    const context = await launch();
    try {
      const page = await context.newPage();
      await page.goto(`${baseUrl}${encodeShareFragment(sharedStory(HOSTILE, MODELS))}`);
      await expect.poll(() => importNotice(page).getAttribute('data-kind'), { timeout: 30_000 }).toBe('opened');
      expect(await characterField(page).inputValue()).toBe(HOSTILE.character);
      expect(await pwned(page)).toEqual({ ran: false, markup: 0 });
    } finally {
      await context.close();
    }
  });

  describe('twenty malformed links', () => {
    const app = appSession(baseUrl);

    it.each(BAD_LINKS)('%s: says why, changes nothing, runs nothing', async (what, link, code) => {
      const { page } = app;
      // An edit first, so the editor holds (and has saved) a story of this test's own.
      await characterField(page).fill(`a lighthouse keeper before "${what}"`);
      const before = (await editorStory(page)) as StoryDocument;
      expect(before.character).toBe(`a lighthouse keeper before "${what}"`);
      await page.evaluate(() => document.querySelector<HTMLButtonElement>('[data-testid="import-notice"] button')?.click());
      await page.evaluate((hash) => {
        location.hash = hash;
      }, link);
      await expect.poll(() => importNotice(page).getAttribute('data-code'), { timeout: 10_000 }).toBe(code);
      expect(await importNotice(page).getAttribute('role')).toBe('alert');
      expect(await importNotice(page).textContent()).toMatch(/Could not open a share link.*Nothing was changed/);
      expect(await editorStory(page)).toEqual(before);
      expect(await characterField(page).inputValue()).toBe(before.character);
      expect(await pwned(page)).toEqual({ ran: false, markup: 0 });
    });

    it('a malformed link the page is opened with is refused too', async () => {
      const context = await launch();
      try {
        const page = await context.newPage();
        await page.goto(`${baseUrl}${BAD_LINKS[11][1]}`);
        await expect.poll(() => importNotice(page).getAttribute('data-code'), { timeout: 30_000 }).toBe('invalid');
        expect(await importNotice(page).textContent()).toMatch(/story\.width: must be a multiple of 16/);
        expect(await pwned(page)).toEqual({ ran: false, markup: 0 });
      } finally {
        await context.close();
      }
    });
  });
});

describe('story files', () => {
  const app = appSession(baseUrl);
  const pngWithStory = (shared: SharedStory) => encodePng(new Uint8Array(8 * 8 * 4).fill(120), 8, 8, { texts: pictureTexts(shared, { picture: 'identity', prompt: 'p', seed: 1, width: 8, height: 8 }) });

  it('a PNG with its story dropped on the page restores that story', async () => {
    const shared = sharedStory({ ...STORY, seed: 99, character: 'a knight dropped in as a PNG' }, MODELS);
    await dropFile(app.page, pngWithStory(shared), 'frame-01.png', 'image/png');
    await expect.poll(() => importNotice(app.page).getAttribute('data-kind'), { timeout: 10_000 }).toBe('opened');
    expect(await editorStory(app.page)).toEqual(shared.story);
  });

  it('a story.json picked with "Open story file…" restores that story', async () => {
    const shared = sharedStory({ ...STORY, seed: 123, character: 'a knight from a story.json' }, []);
    const chooser = app.page.waitForEvent('filechooser');
    await app.page.getByRole('button', { name: 'Open story file…' }).click();
    await (await chooser).setFiles({ name: 'story.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(shared, null, 2)) });
    await expect.poll(() => editorStory(app.page), { timeout: 10_000 }).toEqual(shared.story);
    expect(await importNotice(app.page).textContent()).toMatch(/does not say which models made it/);
  });

  it('a PNG without a story, a damaged one and a hostile one are refused and change nothing', async () => {
    const before = await editorStory(app.page);
    const damaged = pngWithStory(SHARED);
    damaged[60] ^= 0xff;
    const hostileStory = pngWithStory({ ...sharedStory(HOSTILE, MODELS), story: { ...HOSTILE, seed: -1 } });
    for (const [bytes, code] of [[encodePng(new Uint8Array(4), 1, 1), 'no-story'], [damaged, 'damaged'], [hostileStory, 'invalid'], [new TextEncoder().encode(HTML_PAYLOADS[1]), 'not-recognised']] as const) {
      await dropFile(app.page, bytes, 'picture.png', 'image/png');
      await expect.poll(() => importNotice(app.page).getAttribute('data-code'), { timeout: 10_000 }).toBe(code);
      expect(await editorStory(app.page)).toEqual(before);
      await app.page.getByTestId('import-notice').getByRole('button', { name: 'Dismiss' }).click();
    }
    expect(await pwned(app.page)).toEqual({ ran: false, markup: 0 });
  });
});
