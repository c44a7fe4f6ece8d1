// Files made from a story of the history: each picture as PNG (with or without its story), the
// story as a ZIP, comic pages and a contact sheet (drawn on an OffscreenCanvas), and the share
// link. Everything is made in the page; nothing is uploaded.

import { strToU8, zipSync } from 'fflate';
import { captionFont, comicCaptions, comicOptions, contactLabel, contactSheetOptions, drawSheetPage, layoutSheet, type SheetLayout, type SheetOptions, type SheetPanel } from '../../export/comic';
import { pictureTexts } from '../../export/picture-metadata';
import { withTexts } from '../../export/png';
import { storyZip } from '../../export/zip';
import type { PictureFacts, PictureRecord, StoryRecord } from '../history/history-db';

const PNG = 'image/png';

/** The pictures of a story with their stored files, in story order. */
export interface StoryFiles {
  record: StoryRecord;
  /** by PictureFacts.name */
  files: ReadonlyMap<string, PictureRecord>;
}

/** characonsist-20260131-0915: when the story was made, in local time */
export function storyFileStem(record: StoryRecord): string {
  const date = new Date(record.createdAt);
  const two = (n: number) => String(n).padStart(2, '0');
  return `characonsist-${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}`;
}

async function pngBytes(facts: PictureFacts, { record, files }: StoryFiles, includeStory: boolean): Promise<Uint8Array<ArrayBuffer>> {
  const plain = new Uint8Array(await files.get(facts.name)!.png.arrayBuffer());
  return includeStory ? withTexts(plain, pictureTexts(record.shared, facts)) : plain;
}

export async function picturePng(facts: PictureFacts, story: StoryFiles, includeStory: boolean): Promise<Blob> {
  return new Blob([await pngBytes(facts, story, includeStory)], { type: PNG });
}

export async function storyZipBlob(story: StoryFiles, includeStory: boolean, appUrl: string): Promise<Blob> {
  const { record, files } = story;
  const pictures = await Promise.all(
    record.pictures.map(async (facts) => ({
      picture: facts.picture,
      png: await pngBytes(facts, story, includeStory),
      maskPng: new Uint8Array(await files.get(facts.name)!.maskPng.arrayBuffer()),
    })),
  );
  return new Blob([storyZip({ shared: record.shared, pictures, details: storyDetails(story), appUrl })], { type: 'application/zip' });
}

/** What the run produced beyond the pictures, for details.json. */
function storyDetails({ record, files }: StoryFiles) {
  return {
    status: record.status,
    createdAt: new Date(record.createdAt).toISOString(),
    app: record.shared.app,
    ...(record.summary && { run: record.summary }),
    ...(record.error && { error: record.error }),
    pictures: record.pictures.map(({ bytes: _bytes, ...facts }) => {
      const file = files.get(facts.name)!;
      return { ...facts, mask: Array.from(file.mask), ...(file.preMask && { preMask: Array.from(file.preMask) }), ...(file.points && { points: file.points }) };
    }),
  };
}

/** Comic pages in the chosen layout: one PNG, or a ZIP of pages when the story needs several. */
export async function comicBlob(story: StoryFiles, layout: SheetLayout): Promise<{ blob: Blob; pages: number }> {
  const captions = comicCaptions(story.record.shared.story);
  const shotIndex = (facts: PictureFacts) => (facts.picture === 'identity' ? 0 : facts.picture.frame + 1);
  const panels = story.record.pictures.map((facts) => ({ width: facts.width, height: facts.height, caption: captions[shotIndex(facts)] }));
  const pages = await renderSheets(story, panels, comicOptions(layout, panels));
  if (pages.length === 1) return { blob: pages[0], pages: 1 };
  const entries = await Promise.all(pages.map(async (page, i) => [`${storyFileStem(story.record)}-comic-${i + 1}.png`, new Uint8Array(await page.arrayBuffer())] as const));
  const readme = strToU8(`Comic pages of one story, in reading order (${layout}).\n`);
  return { blob: new Blob([zipSync({ 'README.txt': readme, ...Object.fromEntries(entries) }, { level: 0 })], { type: 'application/zip' }), pages: pages.length };
}

/** Every picture small on one page, labelled with its seed, size and flags. */
export async function contactSheetBlob(story: StoryFiles): Promise<Blob> {
  const panels = story.record.pictures.map((facts) => ({ width: facts.width, height: facts.height, caption: contactLabel(facts, facts.flags) }));
  const [page] = await renderSheets(story, panels, contactSheetOptions(panels.length));
  return page;
}

async function renderSheets({ record, files }: StoryFiles, panels: SheetPanel[], options: SheetOptions): Promise<Blob[]> {
  const images = await Promise.all(record.pictures.map((facts) => createImageBitmap(files.get(facts.name)!.png)));
  try {
    const measuring = new OffscreenCanvas(1, 1).getContext('2d')!;
    const measure = (text: string, fontPx: number) => {
      measuring.font = captionFont(fontPx);
      return measuring.measureText(text).width;
    };
    return await Promise.all(
      layoutSheet(panels, options, measure).map((page) => {
        const canvas = new OffscreenCanvas(page.width, page.height);
        const context = canvas.getContext('2d')!;
        context.imageSmoothingQuality = 'high';
        drawSheetPage(context, page, images);
        return canvas.convertToBlob({ type: PNG });
      }),
    );
  } finally {
    images.forEach((image) => image.close());
  }
}

/** Saves a blob as a file through the browser's download. */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  // The download has taken its copy once the click's task is over.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
