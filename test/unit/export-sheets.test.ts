// Comic pages, contact sheets, story ZIPs, PNG metadata and thumbnails: layouts checked for
// geometry (inside the page, no overlaps, captions whole), drawing through a recording canvas,
// ZIPs read back by fflate's reader, PNG texts read by sharp, thumbnails against a float64 average.

import sharp from 'sharp';
import { strFromU8, unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { comicCaptions, comicOptions, contactLabel, contactSheetOptions, drawSheetPage, layoutSheet, MAX_SHEET_SIDE, SHEET_LAYOUTS, type Canvas2D, type Rect, type SheetPanel } from '../../src/export/comic';
import { a1111Parameters, pictureTexts, storyFromPng } from '../../src/export/picture-metadata';
import { encodePng } from '../../src/export/png';
import { sharedStory } from '../../src/export/shared-story';
import { thumbnail } from '../../src/export/thumbnail';
import { DETAILS_JSON, README_TXT, STORY_JSON, storyZip } from '../../src/export/zip';
import type { SharedStory } from '../../src/schema/share-link';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { importError } from './import-errors';

const measure = (text: string, fontPx: number) => Array.from(text).reduce((sum, char) => sum + (char.charCodeAt(0) > 0x2e80 ? 1 : 0.55) * fontPx, 0);

const SHARED: SharedStory = sharedStory(
  {
    mode: 'switch',
    character: 'a knight with a red cloak',
    identity: { environment: 'In a misty forest,', action: 'stands still.' },
    frames: [
      { environment: 'In a misty forest,', action: 'draws a sword.' },
      { environment: '雨の夜の港で、', action: '地図を読んでいる。', width: 48 },
    ],
    width: 32,
    height: 32,
    seed: 5,
    schedule: 'dev-50',
  },
  [
    { component: 'transformer', id: 'flux1-dev-q4_0', name: 'FLUX.1-dev Q4_0', sha256: '2867e9575640d80ccbcbf65010659a4d09e676a034637bc37eac7f2531c46e90' },
    { component: 'vae', id: 'ae' },
  ],
  '0.1.0',
);

const inside = (inner: Rect, outer: { width: number; height: number }) => inner.x >= 0 && inner.y >= 0 && inner.x + inner.width <= outer.width && inner.y + inner.height <= outer.height;
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

function randomPanels(seed: number, count: number): SheetPanel[] {
  const captions = ['stands still.', '雨の夜の港で地図を読んでいる。', 'rides a horse across a very long stone bridge over a river at dusk, looking back '.repeat(4), ''];
  return Array.from({ length: count }, () => ({ width: 16 * randomInt(seed, 1, 64), height: 16 * randomInt(seed, 1, 64), caption: captions[randomInt(seed, 0, captions.length - 1)] }));
}

describe('comic pages and contact sheets', () => {
  it.each(SHEET_LAYOUTS)('layout %s: every panel once, inside its page, no overlaps, captions whole', (layout) => {
    const seed = freshSeed(`comic ${layout}`);
    const panels = randomPanels(seed, randomInt(seed, 1, 9));
    const pages = layoutSheet(panels, comicOptions(layout, panels), measure);
    expect(pages.flatMap((page) => page.panels.map((panel) => panel.index))).toEqual(panels.map((_, i) => i));
    const perPage = { '2x2': 4, '3x2': 6, strip: Infinity, vertical: Infinity }[layout];
    expect(pages.length).toBe(Number.isFinite(perPage) ? Math.ceil(panels.length / perPage) : 1);
    for (const page of pages) {
      expect(Math.max(page.width, page.height)).toBeLessThanOrEqual(MAX_SHEET_SIDE);
      const rects = page.panels.flatMap((panel) => [panel.image, panel.caption]);
      rects.forEach((rect, i) => {
        expect(inside(rect, page)).toBe(true);
        rects.slice(i + 1).forEach((other) => expect(overlap(rect, other)).toBe(false));
      });
      for (const { index, image, caption } of page.panels) {
        // the picture's own shape, to the nearest pixel (and never thinner than one)
        expect(Math.abs(image.height - Math.max(1, (image.width * panels[index].height) / panels[index].width))).toBeLessThanOrEqual(0.5);
        expect(caption.fit.lines.length * caption.fit.lineHeightPx).toBeLessThanOrEqual(caption.height);
        expect(caption.fit.lines.join('').replace(/\s/g, '')).toBe(panels[index].caption.replace(/\s/g, ''));
        for (const line of caption.fit.lines) expect(measure(line, caption.fit.fontPx)).toBeLessThanOrEqual(caption.width);
      }
    }
    for (const page of pages) expect(new Set(page.panels.map((panel) => panel.caption.fit.fontPx)).size, 'one caption size per page').toBe(1);
    if (layout === 'strip') expect(new Set(pages[0].panels.map((panel) => panel.image.y)).size).toBe(1);
    if (layout === 'vertical') expect(new Set(pages[0].panels.map((panel) => panel.image.x)).size).toBe(1);
  });

  it('shrinks a long strip of large pictures to fit the canvas limit', () => {
    const panels = Array.from({ length: 33 }, () => ({ width: 2048, height: 1024, caption: 'a long ride' }));
    const [page] = layoutSheet(panels, comicOptions('strip', panels), measure);
    expect(page.width).toBeLessThanOrEqual(MAX_SHEET_SIDE);
    expect(page.panels).toHaveLength(33);
  });

  it('a contact sheet puts every picture on one near-square page', () => {
    const panels = Array.from({ length: 10 }, (_, i) => ({ width: 64, height: 48, caption: `Frame ${i}` }));
    const pages = layoutSheet(panels, contactSheetOptions(panels.length), measure);
    expect(pages).toHaveLength(1);
    expect(new Set(pages[0].panels.map((panel) => panel.image.x)).size).toBe(4);
    expect(pages[0].panels.every((panel) => panel.image.width === 256)).toBe(true);
  });

  it('draws each picture at its place and every caption line', () => {
    const panels = [
      { width: 32, height: 32, caption: 'In a misty forest, stands still.' },
      { width: 48, height: 32, caption: '雨の夜の港で、地図を読んでいる。' },
    ];
    const [page] = layoutSheet(panels, comicOptions('2x2', panels), measure);
    const calls: unknown[][] = [];
    const context: Canvas2D<string> = {
      fillStyle: '',
      font: '',
      textAlign: 'left',
      textBaseline: 'alphabetic',
      fillRect: (...args) => calls.push(['fillRect', ...args]),
      drawImage: (...args) => calls.push(['drawImage', ...args]),
      fillText: (...args) => calls.push(['fillText', ...args]),
    };
    drawSheetPage(context, page, ['image-0', 'image-1']);
    expect(calls[0]).toEqual(['fillRect', 0, 0, page.width, page.height]);
    const images = calls.filter((call) => call[0] === 'drawImage');
    expect(images).toEqual(page.panels.map(({ index, image }) => ['drawImage', `image-${index}`, image.x, image.y, image.width, image.height]));
    const texts = calls.filter((call) => call[0] === 'fillText').map((call) => call[1]);
    expect(texts).toEqual(page.panels.flatMap((panel) => panel.caption.fit.lines));
  });

  it('captions tell the place when it changes; labels tell seed, size and flags', () => {
    expect(comicCaptions(SHARED.story)).toEqual(['In a misty forest, stands still.', 'draws a sword.', '雨の夜の港で、 地図を読んでいる。']);
    const flags = { emptyMask: false, fewMatches: true, foregroundFallback: false, backgroundNotShared: true };
    expect(contactLabel({ picture: { frame: 1 }, prompt: '', seed: 9, width: 48, height: 32 }, flags)).toBe('Frame 2 · seed 9 · 48×32 · few matches · background not shared');
  });
});

describe('PNG metadata', () => {
  const PICTURE = { picture: { frame: 1 } as const, prompt: '雨の夜の港で、 a knight with a red cloak 地図を読んでいる。', seed: 5, width: 48, height: 32 };

  it('writes an A1111 parameters text: prompt line, then quoted key-value pairs', () => {
    expect(a1111Parameters(SHARED, PICTURE)).toBe(
      `${PICTURE.prompt}\nSteps: 50, Sampler: Euler, Schedule: dev-50, Seed: 5, Size: 48x32, Model: FLUX.1-dev Q4_0, Model hash: 2867e95756, RNG: philox-box-muller/1, CharaConsist: "Frame 2 of 2 frames, switch", Version: characonsist-web 0.1.0`,
    );
  });

  it('a PNG with the story restores exactly that story; other readers see both texts', async () => {
    const png = encodePng(new Uint8Array(48 * 32 * 4).fill(128), 48, 32, { texts: pictureTexts(SHARED, PICTURE) });
    expect(storyFromPng(png)).toEqual(SHARED);
    const { comments } = await sharp(png).metadata();
    expect(comments?.map((comment) => comment.keyword)).toEqual(['parameters', 'characonsist']);
    expect(JSON.parse(comments![1].text)).toEqual(SHARED);
  });

  it('a PNG without a story, with two, or with a bad one is refused with the reason', () => {
    const plain = encodePng(new Uint8Array(4), 1, 1);
    const refused = (png: Uint8Array) => importError(() => storyFromPng(png));
    expect(refused(plain).code).toBe('no-story');
    const story = { keyword: 'characonsist', text: JSON.stringify(SHARED) };
    expect(refused(encodePng(new Uint8Array(4), 1, 1, { texts: [story, story] })).code).toBe('invalid');
    const bad = { keyword: 'characonsist', text: JSON.stringify({ ...SHARED, story: { ...SHARED.story, mode: '<b>x</b>' } }) };
    expect(refused(encodePng(new Uint8Array(4), 1, 1, { texts: [bad] })).message).toMatch(/story\.mode: must be one of/);
  });
});

describe('story ZIP', () => {
  it('holds README, story.json equal to the story, details, pictures and masks', () => {
    const seed = freshSeed('zip');
    const picture = (frame?: number) => ({
      picture: frame === undefined ? ('identity' as const) : { frame },
      png: encodePng(Uint8Array.from(randomArray(seed, 32 * 32 * 4, 0, 256), Math.floor), 32, 32),
      maskPng: encodePng(new Uint8Array(32 * 32).fill(255), 32, 32, { channels: 1 }),
    });
    const pictures = [picture(), picture(0), picture(1)];
    const details = { timings: { encode: 1, transformer: 2, decode: 3 }, pictures: [{ seed: 5 }] };
    const files = unzipSync(storyZip({ shared: SHARED, pictures, details, appUrl: 'https://example.org/app/' }));
    expect(Object.keys(files).sort()).toEqual(
      [README_TXT, STORY_JSON, DETAILS_JSON, 'pictures/identity.png', 'pictures/frame-01.png', 'pictures/frame-02.png', 'masks/identity-mask.png', 'masks/frame-01-mask.png', 'masks/frame-02-mask.png'].sort(),
    );
    expect(JSON.parse(strFromU8(files[STORY_JSON]))).toEqual(SHARED);
    expect(JSON.parse(strFromU8(files[DETAILS_JSON]))).toEqual(details);
    expect(Buffer.from(files['pictures/frame-01.png']).equals(Buffer.from(pictures[1].png))).toBe(true);
    const readme = strFromU8(files[README_TXT]);
    expect(readme).toMatch(/Character: a knight with a red cloak/);
    expect(readme).toMatch(/https:\/\/example\.org\/app\//);
    expect(readme).toMatch(/masks\/frame-02-mask\.png/);
  });
});

describe('thumbnails', () => {
  it('average the source pixels each thumbnail pixel covers', () => {
    const seed = freshSeed('thumbnail');
    const [width, height] = [randomInt(seed, 40, 90), randomInt(seed, 40, 90)];
    const rgba = Uint8Array.from(randomArray(seed, width * height * 4, 0, 256), Math.floor);
    const small = thumbnail({ rgba, width, height }, 16);
    expect(Math.max(small.width, small.height)).toBe(16);
    expect(Math.abs(small.width / small.height - width / height)).toBeLessThan(0.15);
    // float64 reference over the same integer footprints
    for (let ty = 0; ty < small.height; ty++) {
      for (let tx = 0; tx < small.width; tx++) {
        const [x0, x1] = [Math.floor((tx * width) / small.width), Math.floor(((tx + 1) * width) / small.width)];
        const [y0, y1] = [Math.floor((ty * height) / small.height), Math.floor(((ty + 1) * height) / small.height)];
        for (let c = 0; c < 4; c++) {
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += rgba[4 * (y * width + x) + c];
          expect(Math.abs(small.rgba[4 * (ty * small.width + tx) + c] - sum / ((x1 - x0) * (y1 - y0)))).toBeLessThanOrEqual(0.5);
        }
      }
    }
  });

  it('never enlarges', () => {
    const image = { rgba: new Uint8Array(8 * 4), width: 4, height: 2 };
    expect(thumbnail(image, 100)).toBe(image);
  });
});
