// PNG writing and text-chunk reading, judged by independent readers: sharp (libvips/libspng)
// decodes our pixels and reads our text chunks; Node's zlib gives CRC-32, Adler-32 and deflate.

import sharp from 'sharp';
import { crc32 as nodeCrc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, crc32 } from '../../src/export/checksums';
import { encodePng, MAX_PNG_TEXT_BYTES, readPngTexts, withTexts } from '../../src/export/png';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { importError } from './import-errors';

const randomBytes = (seed: number, count: number) => Uint8Array.from(randomArray(seed, count, 0, 256), Math.floor);

/** Pixels as stored: sharp would expand grey to RGB on output, so grey files are read as one channel. */
async function decodedBySharp(png: Uint8Array) {
  const { channels } = await sharp(png).metadata();
  const image = channels === 1 ? sharp(png).extractChannel(0) : sharp(png);
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data), width: info.width, height: info.height, channels };
}

/** A chunk built here, not by the code under test (CRC from Node's zlib). */
function rawChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(nodeCrc32(Buffer.concat([head.subarray(4), data])) >>> 0);
  return Buffer.concat([head, data, crc]);
}

/** Inserts raw chunks after IHDR of a PNG. */
const withRawChunks = (png: Uint8Array, ...chunks: Buffer[]) => Buffer.concat([png.subarray(0, 33), ...chunks, png.subarray(33)]);

describe('checksums', () => {
  it('CRC-32 and Adler-32 equal zlib on random data of awkward lengths', () => {
    const seed = freshSeed('checksums');
    for (const length of [0, 1, 5551, 5552, 5553, randomInt(seed, 1, 40_000)]) {
      const bytes = randomBytes(seed, length);
      expect(crc32(bytes)).toBe(nodeCrc32(bytes) >>> 0);
      const zlib = deflateSync(bytes);
      expect(adler32(bytes)).toBe(zlib.readUInt32BE(zlib.length - 4));
    }
  });

  it('Adler-32 of 100 kB of 0xff (sums that need reducing) equals zlib', () => {
    const bytes = new Uint8Array(100_000).fill(255);
    const zlib = deflateSync(bytes);
    expect(adler32(bytes)).toBe(zlib.readUInt32BE(zlib.length - 4));
  });
});

describe('encodePng', () => {
  it('writes RGBA pixels that another decoder reads back exactly', async () => {
    const seed = freshSeed('png rgba');
    const width = randomInt(seed, 1, 97);
    const height = randomInt(seed, 1, 61);
    // Smooth gradients plus noise exercise every Paeth branch.
    const rgba = randomBytes(seed, width * height * 4).map((value, i) => (i % 4 === 3 ? 255 : (value >> 2) + ((i >> 2) % width)));
    const decoded = await decodedBySharp(encodePng(rgba, width, height));
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([width, height, 4]);
    expect(Buffer.from(decoded.pixels).equals(Buffer.from(rgba))).toBe(true);
  });

  it('writes grey masks', async () => {
    const seed = freshSeed('png grey');
    const width = randomInt(seed, 1, 50);
    const height = randomInt(seed, 1, 50);
    const grey = randomBytes(seed, width * height).map((value) => (value > 128 ? 255 : 0));
    const decoded = await decodedBySharp(encodePng(grey, width, height, { channels: 1 }));
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([width, height, 1]);
    expect(Array.from(decoded.pixels)).toEqual(Array.from(grey));
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodePng(new Uint8Array(15), 2, 2)).toThrow(RangeError);
  });

  it('writes ASCII text as tEXt and other text as iTXt, both read by another decoder', async () => {
    const texts = [
      { keyword: 'parameters', text: 'a knight, red cloak\nSteps: 4, Seed: 5, Size: 32x32' },
      { keyword: 'Comment', text: 'café' },
      { keyword: 'characonsist', text: '{"character":"赤いマントの騎士 🛡️","note":"<img src=x onerror=alert(1)>"}' },
    ];
    const png = encodePng(new Uint8Array(4 * 3 * 2).fill(200), 3, 2, { texts });
    const types = chunkTypes(png);
    expect(types).toEqual(['IHDR', 'tEXt', 'iTXt', 'iTXt', 'IDAT', 'IEND']);
    expect(readPngTexts(png)).toEqual(texts);
    const { comments } = await sharp(png).metadata();
    expect(comments).toEqual(texts);
  });

  it('withTexts adds text to an existing PNG and leaves its pixels alone', async () => {
    const seed = freshSeed('png withTexts');
    const rgba = randomBytes(seed, 7 * 5 * 4);
    const plain = encodePng(rgba, 7, 5);
    expect(readPngTexts(plain)).toEqual([]);
    const texts = [{ keyword: 'Comment', text: 'hello' }];
    const tagged = withTexts(plain, texts);
    expect(readPngTexts(tagged)).toEqual(texts);
    expect(Buffer.from((await decodedBySharp(tagged)).pixels).equals(Buffer.from(rgba))).toBe(true);
  });

  it('refuses keywords PNG does not allow', () => {
    for (const keyword of ['', ' leading', 'trailing ', 'x'.repeat(80), 'ключ']) {
      expect(() => encodePng(new Uint8Array(4), 1, 1, { texts: [{ keyword, text: 't' }] })).toThrow(RangeError);
    }
  });
});

function chunkTypes(png: Uint8Array): string[] {
  const types: string[] = [];
  const buffer = Buffer.from(png);
  for (let offset = 8; offset < buffer.length; offset += 12 + buffer.readUInt32BE(offset)) types.push(buffer.toString('latin1', offset + 4, offset + 8));
  return types;
}

describe('readPngTexts', () => {
  const base = () => encodePng(new Uint8Array(4 * 4 * 4).fill(90), 4, 4, { texts: [{ keyword: 'parameters', text: 'prompt\nSeed: 1' }] });

  it('reads zTXt and compressed iTXt written by someone else', () => {
    const zText = Buffer.concat([Buffer.from('Title\0\0', 'latin1'), deflateSync(Buffer.from('A long title, compressed', 'latin1'))]);
    const iText = Buffer.concat([Buffer.from('characonsist\0\x01\x00en\0Geschichte\0', 'latin1'), deflateSync(Buffer.from('物語 {"a":1}', 'utf8'))]);
    const png = withRawChunks(encodePng(new Uint8Array(4), 1, 1), rawChunk('zTXt', zText), rawChunk('iTXt', iText));
    expect(readPngTexts(png)).toEqual([
      { keyword: 'Title', text: 'A long title, compressed' },
      { keyword: 'characonsist', text: '物語 {"a":1}' },
    ]);
  });

  it('refuses what is not a PNG', () => {
    for (const bytes of [new Uint8Array(), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16), new TextEncoder().encode('<svg onload=alert(1)>')]) {
      expect(importError(() => readPngTexts(bytes)).code).toBe('not-recognised');
    }
  });

  it('refuses a PNG with any byte of a chunk changed (CRC)', () => {
    const seed = freshSeed('png tamper');
    const png = base();
    const at = randomInt(seed, 12, png.length - 13);
    const tampered = png.slice();
    tampered[at] ^= 1 << randomInt(seed, 0, 7);
    const error = importError(() => readPngTexts(tampered));
    expect(error.code).toBe('damaged');
    expect(error.action).toMatch(/Download the picture again/);
  });

  it('refuses a PNG cut short anywhere', () => {
    const seed = freshSeed('png truncate');
    const png = base();
    for (const length of [8, 20, randomInt(seed, 9, png.length - 1), png.length - 1]) {
      expect(importError(() => readPngTexts(png.subarray(0, length))).code).toBe('damaged');
    }
  });

  it('refuses a chunk length running past the end without reading it', () => {
    const png = Buffer.from(base());
    png.writeUInt32BE(0xfffffff0, 33); // the tEXt chunk claims ~4 GB
    expect(importError(() => readPngTexts(png)).message).toMatch(/tEXt chunk runs past the end/);
  });

  it('refuses a PNG that does not start with IHDR', () => {
    const png = Buffer.concat([Buffer.from(base().subarray(0, 8)), rawChunk('tEXt', Buffer.from('a\0b')), Buffer.from(base().subarray(8))]);
    expect(importError(() => readPngTexts(png)).message).toMatch(/header chunk/);
  });

  it('refuses a compressed text that would inflate past the limit (zip bomb)', () => {
    const bomb = deflateSync(new Uint8Array(64 * 1024 * 1024)); // 64 MiB of zeros in ~64 KB
    const png = withRawChunks(encodePng(new Uint8Array(4), 1, 1), rawChunk('zTXt', Buffer.concat([Buffer.from('bomb\0\0', 'latin1'), bomb])));
    expect(bomb.length).toBeLessThan(MAX_PNG_TEXT_BYTES);
    expect(importError(() => readPngTexts(png)).code).toBe('too-large');
  });

  it('refuses an uncompressed text over the limit', () => {
    const big = Buffer.concat([Buffer.from('big\0', 'latin1'), Buffer.alloc(MAX_PNG_TEXT_BYTES + 1, 0x61)]);
    const png = withRawChunks(encodePng(new Uint8Array(4), 1, 1), rawChunk('tEXt', big));
    expect(importError(() => readPngTexts(png)).code).toBe('too-large');
  });

  it('refuses an iTXt that is not UTF-8, and compressed text with a wrong checksum', () => {
    const notUtf8 = rawChunk('iTXt', Buffer.concat([Buffer.from('k\0\0\0\0\0', 'latin1'), Buffer.from([0xc3, 0x28])]));
    expect(importError(() => readPngTexts(withRawChunks(encodePng(new Uint8Array(4), 1, 1), notUtf8))).message).toMatch(/UTF-8/);
    const zlib = deflateSync(Buffer.from('hello world'));
    zlib[zlib.length - 1] ^= 0xff;
    const badSum = rawChunk('zTXt', Buffer.concat([Buffer.from('k\0\0', 'latin1'), zlib]));
    expect(importError(() => readPngTexts(withRawChunks(encodePng(new Uint8Array(4), 1, 1), badSum))).code).toBe('damaged');
  });
});
