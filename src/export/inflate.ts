// Inflating data from strangers (share links, PNG text chunks) without letting it inflate: the
// stream is fed in small slices and stopped as soon as the output passes the limit, so a
// "zip bomb" allocates at most about one slice's worth (deflate expands 1 byte to at most ~1032)
// beyond the limit. The zlib trailer (Adler-32) is verified, which fflate's inflater skips.

import { Unzlib, zlibSync } from 'fflate';
import { adler32 } from './checksums';
import { ImportError, type ImportSource } from './import-error';

/** compressed bytes fed per step; bounds the overshoot past the limit to ~1 MiB */
const SLICE_BYTES = 1024;

/** zlib (RFC 1950) stream of `bytes`, maximum compression (links should be short). */
export function deflateZlib(bytes: Uint8Array): Uint8Array {
  return zlibSync(bytes, { level: 9, mem: 8 });
}

/**
 * The inflated bytes of a zlib stream, at most `maxBytes` of them.
 * Throws ImportError 'too-large' past the limit and 'damaged' for a corrupt or cut stream.
 */
export function inflateZlibBounded(zlib: Uint8Array, maxBytes: number, { what, askAgain }: ImportSource): Uint8Array {
  const damaged = (detail: string) => new ImportError('damaged', `${what} is damaged (${detail}).`, askAgain);
  if (zlib.length < 6) throw damaged('too short to hold compressed data');
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Unzlib((chunk) => {
    total += chunk.length;
    if (total > maxBytes) {
      throw new ImportError('too-large', `${what} unpacks to more than ${formatKiB(maxBytes)}.`, 'Only stories made by this app can be opened, and this is far larger than any of them.');
    }
    parts.push(chunk);
  });
  try {
    for (let offset = 0; offset < zlib.length; offset += SLICE_BYTES) {
      inflater.push(zlib.subarray(offset, offset + SLICE_BYTES), offset + SLICE_BYTES >= zlib.length);
    }
  } catch (error) {
    if (error instanceof ImportError) throw error;
    throw damaged(error instanceof Error ? error.message : String(error));
  }
  const out = concat(parts, total);
  const stored = new DataView(zlib.buffer, zlib.byteOffset + zlib.length - 4, 4).getUint32(0);
  if (stored !== adler32(out)) throw damaged('checksum mismatch');
  return out;
}

export function concat(parts: readonly Uint8Array[], total = parts.reduce((n, part) => n + part.length, 0)): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const formatKiB = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en')} KiB`;
