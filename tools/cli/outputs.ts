// Nothing partial: every output file of a command is written under a temporary name in its own
// folder and renamed to its real name only when the whole command succeeded. A refused, failed or
// interrupted run leaves no new file behind and does not change an existing one.

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeFileParts } from '../node-file-source';

interface Staged {
  temporary: string;
  final: string;
}

export class OutputFiles {
  private readonly staged: Staged[] = [];
  /** folders this run created, deepest last: removed again if the run fails */
  private readonly createdFolders: string[] = [];
  private readonly tag = `${process.pid}-${randomBytes(4).toString('hex')}`;

  /** Writes `parts` under a temporary name beside `file`; `commit` gives it its name. */
  async write(file: string, parts: Iterable<Uint8Array>): Promise<void> {
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${this.tag}.partial`);
    this.staged.push({ temporary, final: file });
    await writeFileParts(temporary, parts);
  }

  /** Creates `folder` (its parent must exist) unless it is there; removed again by `abort` if it was created. */
  folder(folder: string): void {
    if (statSync(folder, { throwIfNoEntry: false })?.isDirectory()) return;
    mkdirSync(folder);
    this.createdFolders.push(folder);
  }

  /** Gives every written file its real name; returns the names. */
  async commit(): Promise<string[]> {
    const written = this.staged.splice(0);
    for (const { temporary, final } of written) await rename(temporary, final);
    this.createdFolders.length = 0;
    return written.map(({ final }) => final);
  }

  /** Deletes every temporary file and every folder this run created. */
  async abort(): Promise<void> {
    const staged = this.staged.splice(0);
    await Promise.all(staged.map(({ temporary }) => unlink(temporary).catch(() => undefined)));
    for (const folder of this.createdFolders.splice(0).reverse()) {
      try {
        rmdirSync(folder);
      } catch {
        // Someone put a file there meanwhile: keep the folder and their file.
      }
    }
  }
}
