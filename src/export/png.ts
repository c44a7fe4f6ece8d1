// PNG files with text chunks, written and read without a canvas, so the bytes are the same in
// every browser and in Node. Writing: 8-bit RGBA (pictures) or grey (masks), every row Paeth-
// filtered, deflated by fflate; text goes in tEXt when it is printable ASCII, else in iTXt
// (UTF-8). Reading walks the chunks for their text only, checking the signature, every length
// and every CRC, so a file that is not a PNG, or a damaged one, is refused with a message.

import { strFromU8, strToU8, zlibSync } from 'fflate';
import { crc32 } from './checksums';
import { ImportError, type ImportSource } from './import-error';
import { concat, formatKiB, inflateZlibBounded } from './inflate';

export interface PngText {
  /** 1-79 Latin-1 characters (PNG's rule) */
  keyword: string;
  text: string;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
/** longest text we read from one chunk, compressed or not */
export const MAX_PNG_TEXT_BYTES = 1024 * 1024;
const TEXT_CHUNKS = new Set(['tEXt', 'zTXt', 'iTXt']);
// tEXt is Latin-1 by the standard, but many readers (libvips among them) take it as UTF-8:
// only ASCII means the same to both, so anything else goes in iTXt.
const PRINTABLE_ASCII = /^[\n\x20-\x7e]*$/;

export interface PngOptions {
  /** 4: RGBA8 [height, width, 4]; 1: grey8 [height, width] */
  channels?: 1 | 4;
  texts?: readonly PngText[];
}

/** PNG bytes of 8-bit pixels [height, width, channels]. */
export function encodePng(pixels: Uint8Array, width: number, height: number, options: PngOptions = {}): Uint8Array<ArrayBuffer> {
  const channels = options.channels ?? 4;
  if (!(width >= 1 && height >= 1 && pixels.length === width * height * channels)) {
    throw new RangeError(`encodePng: ${pixels.length} bytes do not make a ${width}x${height} image of ${channels} channels`);
  }
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, channels === 4 ? 6 : 0, 0, 0, 0], 8); // 8 bits, RGBA or grey, deflate, adaptive filters, no interlace
  return concat([
    SIGNATURE,
    chunk('IHDR', header),
    ...(options.texts ?? []).map(textChunk),
    chunk('IDAT', zlibSync(paethFiltered(pixels, width, height, channels), { level: 6 })),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** The same PNG with text chunks added right after its header (pixels untouched). */
export function withTexts(png: Uint8Array, texts: readonly PngText[]): Uint8Array<ArrayBuffer> {
  const afterHeader = SIGNATURE.length + 12 + 13;
  if (strFromU8(png.subarray(12, 16), true) !== 'IHDR') throw new RangeError('withTexts: not a PNG that starts with its header chunk');
  return concat([png.subarray(0, afterHeader), ...texts.map(textChunk), png.subarray(afterHeader)]);
}

/**
 * Every text chunk of a PNG (tEXt, zTXt, iTXt), in file order.
 * Throws ImportError: 'not-recognised' (not a PNG), 'damaged' (bad CRC, cut short, bad encoding),
 * 'too-large' (a text over MAX_PNG_TEXT_BYTES).
 */
export function readPngTexts(png: Uint8Array): PngText[] {
  if (png.length < SIGNATURE.length || SIGNATURE.some((byte, i) => png[i] !== byte)) {
    throw new ImportError('not-recognised', 'This file is not a PNG picture.', 'Drop a PNG saved by this app (Download PNG), or a story link or story.json.');
  }
  const texts: PngText[] = [];
  const view = new DataView(png.buffer, png.byteOffset, png.length);
  for (let offset = SIGNATURE.length; ; ) {
    if (offset + 12 > png.length) throw damagedPng('it ends before its last chunk');
    const length = view.getUint32(offset);
    const type = strFromU8(png.subarray(offset + 4, offset + 8), true);
    if (!/^[A-Za-z]{4}$/.test(type)) throw damagedPng(`a chunk has no valid type at byte ${offset + 4}`);
    if (offset === SIGNATURE.length && type !== 'IHDR') throw damagedPng('it does not start with a header chunk');
    const end = offset + 12 + length;
    if (length > 0x7fffffff || end > png.length) throw damagedPng(`its ${type} chunk runs past the end of the file`);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (view.getUint32(end - 4) !== crc32(png.subarray(offset + 4, offset + 8), data)) throw damagedPng(`its ${type} chunk fails its checksum`);
    if (type === 'IEND') return texts;
    if (TEXT_CHUNKS.has(type)) texts.push(parseText(type, data));
    offset = end;
  }
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(strToU8(type, true), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function textChunk({ keyword, text }: PngText): Uint8Array {
  if (!/^[\x21-\x7e\xa1-\xff][\x20-\x7e\xa1-\xff]{0,78}$/.test(keyword) || keyword.endsWith(' ')) {
    throw new RangeError(`PNG text keyword ${JSON.stringify(keyword)} must be 1-79 printable Latin-1 characters without outer spaces`);
  }
  const key = strToU8(keyword, true);
  if (PRINTABLE_ASCII.test(text)) return chunk('tEXt', concat([key, Uint8Array.of(0), strToU8(text, true)]));
  // iTXt: keyword, 0, uncompressed (0), method 0, empty language tag, 0, empty translated keyword, 0, UTF-8 text
  return chunk('iTXt', concat([key, Uint8Array.of(0, 0, 0, 0, 0), strToU8(text)]));
}

function parseText(type: string, data: Uint8Array): PngText {
  const keywordEnd = data.indexOf(0);
  if (keywordEnd < 1 || keywordEnd > 79) throw damagedPng(`a ${type} chunk has no valid keyword`);
  const keyword = strFromU8(data.subarray(0, keywordEnd), true);
  const rest = data.subarray(keywordEnd + 1);
  if (type === 'tEXt') return { keyword, text: boundedText(rest, false, false) };
  if (type === 'zTXt') return { keyword, text: boundedText(rest.subarray(1), true, false) };
  // iTXt: compression flag, method, language tag\0, translated keyword\0, text
  const languageEnd = rest.indexOf(0, 2);
  const translatedEnd = languageEnd < 0 ? -1 : rest.indexOf(0, languageEnd + 1);
  if (rest.length < 2 || translatedEnd < 0) throw damagedPng(`the iTXt chunk "${keyword}" is cut short`);
  return { keyword, text: boundedText(rest.subarray(translatedEnd + 1), rest[0] === 1, true) };
}

function boundedText(bytes: Uint8Array, compressed: boolean, utf8: boolean): string {
  if (bytes.length > MAX_PNG_TEXT_BYTES) {
    throw new ImportError('too-large', `A text chunk of this PNG holds more than ${formatKiB(MAX_PNG_TEXT_BYTES)}.`, 'Drop a PNG saved by this app: its texts are far smaller.');
  }
  const raw = compressed ? inflateZlibBounded(bytes, MAX_PNG_TEXT_BYTES, { ...PNG_SOURCE, what: "This PNG's text" }) : bytes;
  if (!utf8) return strFromU8(raw, true);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw damagedPng('a text chunk is not valid UTF-8');
  }
}

export const PNG_SOURCE: ImportSource = { what: 'This PNG', askAgain: 'Download the picture again from where it was shared, then drop the new file.' };

const damagedPng = (detail: string) => new ImportError('damaged', `${PNG_SOURCE.what} is damaged: ${detail}.`, PNG_SOURCE.askAgain);

/** Filter type 4 (Paeth) on every row: the usual best choice for photographs. */
function paethFiltered(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const target = y * (stride + 1);
    out[target] = 4;
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[row + x - channels] : 0;
      const up = y > 0 ? pixels[row - stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[row - stride + x - channels] : 0;
      out[target + 1 + x] = (pixels[row + x] - paethPredictor(left, up, upLeft)) & 0xff;
    }
  }
  return out;
}

function paethPredictor(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}
