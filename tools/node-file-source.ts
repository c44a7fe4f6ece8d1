// Model files on a local disk, for the CLI and tests: random-access reads through a file handle
// (never the whole file in memory), and writing a file from the parts the format writers return.

import { open } from 'node:fs/promises';
import type { RandomAccessSource } from '../src/engine/formats/byte-source';

export async function nodeFileSource(path: string): Promise<RandomAccessSource> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    kind: 'random-access',
    name: path,
    size,
    read: async (offset, length) => {
      const bytes = new Uint8Array(length);
      let filled = 0;
      // read() may return fewer bytes than asked; 0 means end of file.
      while (filled < length) {
        const { bytesRead } = await handle.read(bytes, filled, length - filled, offset + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return bytes.subarray(0, filled);
    },
    close: () => handle.close(),
  };
}

/** Writes `parts` one after the other into a new file at `path`. */
export async function writeFileParts(path: string, parts: Iterable<Uint8Array>): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const part of parts) {
      // write() may write fewer bytes than given.
      for (let written = 0; written < part.length; ) written += (await handle.write(part, written)).bytesWritten;
    }
  } finally {
    await handle.close();
  }
}
