// Comic pages and contact sheets: pictures in a grid, each with its caption fitted below it
// (captions.ts: never clipped; a long one makes its row taller). Layout is pure arithmetic on
// sizes; drawing goes through a small Canvas2D-like interface (OffscreenCanvas in the browser,
// a recorder in tests), so the same code lays out and draws everywhere.

import type { FrameFlags } from '../engine-api';
import type { StoryDocument } from '../schema/story';
import { fitCaption, type CaptionFit, type MeasureText } from './captions';
import { pictureLabel, type PictureParameters } from './picture-metadata';

export const SHEET_LAYOUTS = ['2x2', '3x2', 'strip', 'vertical'] as const;
export type SheetLayout = (typeof SHEET_LAYOUTS)[number];

/** columns x rows per page; a strip is one row, vertical one column, of every picture */
const GRIDS: Record<SheetLayout, { columns: number; rows: number }> = {
  '2x2': { columns: 2, rows: 2 },
  '3x2': { columns: 3, rows: 2 },
  strip: { columns: Infinity, rows: 1 },
  vertical: { columns: 1, rows: Infinity },
};

/** Canvas side we stay under (browsers refuse canvases much above 16384 px or 268 M pixels). */
export const MAX_SHEET_SIDE = 8192;
export const CAPTION_FONT = 'system-ui, "Noto Sans", "Noto Sans CJK JP", "Hiragino Sans", "Microsoft YaHei", sans-serif';

export interface SheetPanel {
  /** the picture's own size, px */
  width: number;
  height: number;
  caption: string;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedPanel {
  /** index into the panels given to the layout */
  index: number;
  image: Rect;
  caption: Rect & { fit: CaptionFit };
}

export interface SheetPage {
  width: number;
  height: number;
  panels: PlacedPanel[];
}

export interface SheetOptions {
  columns: number;
  /** rows per page; Infinity: one page */
  rows: number;
  /** width each picture is drawn at, px (shrunk when the page would pass MAX_SHEET_SIDE) */
  cellWidth: number;
}

export function comicOptions(layout: SheetLayout, panels: readonly SheetPanel[]): SheetOptions {
  return { ...GRIDS[layout], cellWidth: Math.max(...panels.map((panel) => panel.width)) };
}

/** A contact sheet: every picture small, in a near-square grid, on one page. */
export function contactSheetOptions(count: number): SheetOptions {
  return { columns: Math.ceil(Math.sqrt(count)), rows: Infinity, cellWidth: 256 };
}

export function layoutSheet(panels: readonly SheetPanel[], options: SheetOptions, measure: MeasureText): SheetPage[] {
  const perPage = options.columns * options.rows;
  const pages: SheetPage[] = [];
  for (let start = 0; start < panels.length; start += perPage) {
    const indices = panels.slice(start, start + perPage).map((_, i) => start + i);
    pages.push(layoutPage(panels, indices, options, measure));
  }
  return pages;
}

function layoutPage(panels: readonly SheetPanel[], indices: number[], options: SheetOptions, measure: MeasureText): SheetPage {
  const columns = Math.min(options.columns, indices.length);
  let cellWidth = options.cellWidth;
  for (;;) {
    const page = placePanels(panels, indices, columns, cellWidth, measure);
    const largest = Math.max(page.width, page.height);
    if (largest <= MAX_SHEET_SIDE || cellWidth <= 16) return page;
    cellWidth = Math.floor(cellWidth * Math.min(0.9, MAX_SHEET_SIDE / largest));
  }
}

function placePanels(panels: readonly SheetPanel[], indices: number[], columns: number, cellWidth: number, measure: MeasureText): SheetPage {
  const gutter = Math.round(cellWidth / 24);
  const captionGap = Math.round(cellWidth / 48);
  const captionBox = { width: cellWidth, height: Math.round(cellWidth * 0.16) };
  const style = { maxFontPx: Math.max(12, Math.round(cellWidth / 18)), minFontPx: Math.max(11, Math.round(cellWidth / 48)), lineHeight: 1.3 };
  // One caption size per page (the size the longest caption needs), as a printed page would have.
  const fits = new Map(indices.map((index) => [index, fitCaption(panels[index].caption, captionBox, measure, style)]));
  const pageFontPx = Math.min(...[...fits.values()].map((fit) => fit.fontPx));
  const pageStyle = { ...style, maxFontPx: pageFontPx, minFontPx: pageFontPx };
  const placed: PlacedPanel[] = [];
  let y = gutter;
  for (let row = 0; row * columns < indices.length; row++) {
    let rowHeight = 0;
    indices.slice(row * columns, (row + 1) * columns).forEach((index, column) => {
      const panel = panels[index];
      const x = gutter + column * (cellWidth + gutter);
      const image = { x, y, width: cellWidth, height: Math.max(1, Math.round((cellWidth * panel.height) / panel.width)) };
      const fit = fits.get(index)!.fontPx === pageFontPx ? fits.get(index)! : fitCaption(panel.caption, captionBox, measure, pageStyle);
      const caption = { x, y: y + image.height + captionGap, width: cellWidth, height: Math.max(captionBox.height, fit.height), fit };
      placed.push({ index, image, caption });
      rowHeight = Math.max(rowHeight, caption.y + caption.height - y);
    });
    y += rowHeight + gutter;
  }
  return { width: gutter + columns * (cellWidth + gutter), height: y, panels: placed };
}

/** The part of CanvasRenderingContext2D that drawing a sheet uses. */
export interface Canvas2D<Image> {
  fillStyle: string | CanvasGradient | CanvasPattern;
  font: string;
  textAlign: CanvasTextAlign;
  textBaseline: CanvasTextBaseline;
  fillRect(x: number, y: number, width: number, height: number): void;
  drawImage(image: Image, x: number, y: number, width: number, height: number): void;
  fillText(text: string, x: number, y: number): void;
}

export const captionFont = (fontPx: number) => `${fontPx}px ${CAPTION_FONT}`;

/** Draws a laid-out page: white paper, pictures, captions centred under them. */
export function drawSheetPage<Image>(context: Canvas2D<Image>, page: SheetPage, images: readonly Image[]): void {
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, page.width, page.height);
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (const { index, image, caption } of page.panels) {
    context.drawImage(images[index], image.x, image.y, image.width, image.height);
    context.fillStyle = '#111111';
    context.font = captionFont(caption.fit.fontPx);
    caption.fit.lines.forEach((line, i) => context.fillText(line, caption.x + caption.width / 2, caption.y + i * caption.fit.lineHeightPx));
  }
}

/** Comic captions: each picture's action, with its environment where the place changes. */
export function comicCaptions(story: StoryDocument): string[] {
  const shots = [story.identity, ...story.frames];
  return shots.map((shot, i) => (i > 0 && shot.environment === shots[i - 1].environment ? shot.action : `${shot.environment} ${shot.action}`));
}

/** Contact-sheet labels: which picture, its seed and size, and what went wrong if anything did. */
export function contactLabel(picture: PictureParameters, flags?: FrameFlags): string {
  return [pictureLabel(picture.picture), `seed ${picture.seed}`, `${picture.width}×${picture.height}`, ...flagNotes(flags)].join(' · ');
}

/** What went wrong in a frame, in words (nothing for the identity or a clean frame). */
export function flagNotes(flags: FrameFlags | undefined): string[] {
  return flags ? FLAG_NOTES.filter(([key]) => flags[key]).map(([, note]) => note) : [];
}

const FLAG_NOTES: [keyof FrameFlags, string][] = [
  ['emptyMask', 'no character found'],
  ['fewMatches', 'few matches'],
  ['foregroundFallback', 'plain FLUX at some steps'],
  ['backgroundNotShared', 'background not shared'],
];
