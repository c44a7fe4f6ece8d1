// Opening a story that comes from outside: a share link in the address, a dropped or picked PNG
// or story.json. Each is validated in full before anything changes; a good one fills the editor
// (Undo there brings the old story back) and says which models it needs, a bad one leaves
// everything as it was and says why.

import { create } from 'zustand';
import { importProblem, ImportError, type ImportProblem } from '../../export/import-error';
import { formatKiB } from '../../export/inflate';
import { storyFromPng } from '../../export/picture-metadata';
import { decodeShareFragment, isShareFragment } from '../../export/share-link';
import { parseSharedStory } from '../../export/shared-story';
import type { SharedStory } from '../../schema/share-link';
import { useStory } from '../studio/story-store';

export type ImportNotice =
  | { kind: 'opened'; source: string; shared: SharedStory }
  | { kind: 'problem'; source: string; problem: ImportProblem };

export const useImportNotice = create<{ notice?: ImportNotice }>()(() => ({}));

export const dismissImportNotice = () => useImportNotice.setState({ notice: undefined });

/** bytes; far above any picture this app makes (a 2048x2048 PNG is at most ~17 MB) */
export const MAX_IMPORT_FILE_BYTES = 64 * 1024 * 1024;
const MAX_STORY_JSON_BYTES = 1024 * 1024;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** Puts a validated story in the editor and says so. */
export function openSharedStory(shared: SharedStory, source: string): void {
  useStory.getState().replace(shared.story, source);
  useImportNotice.setState({ notice: { kind: 'opened', source, shared } });
}

function refuse(error: unknown, source: string): void {
  useImportNotice.setState({ notice: { kind: 'problem', source, problem: importProblem(error) } });
}

/**
 * Opens the story in a `#story=…` address fragment; returns whether the fragment was a share
 * link at all. A good link is taken out of the address afterwards, so a reload does not undo
 * later edits; a bad one stays, for the person to look at.
 */
export function openShareFragment(hash: string): boolean {
  if (!isShareFragment(hash)) return false;
  try {
    openSharedStory(decodeShareFragment(hash), 'a share link');
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  } catch (error) {
    refuse(error, 'a share link');
  }
  return true;
}

/** Opens a dropped or picked file: a PNG exported with its story, or a story.json. */
export async function openStoryFile(file: File): Promise<void> {
  const source = `the file ${JSON.stringify(file.name.slice(0, 80))}`;
  try {
    if (file.size > MAX_IMPORT_FILE_BYTES) {
      throw new ImportError('too-large', `This file is ${formatKiB(file.size)}; a story file is at most ${formatKiB(MAX_IMPORT_FILE_BYTES)}.`, 'Drop a PNG exported by this app, or a story.json.');
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    openSharedStory(isPng(bytes) ? storyFromPng(bytes) : storyFromJson(bytes, file.name), source);
  } catch (error) {
    refuse(error, source);
  }
}

const isPng = (bytes: Uint8Array) => PNG_SIGNATURE.every((byte, i) => bytes[i] === byte);

function storyFromJson(bytes: Uint8Array, name: string): SharedStory {
  const looksLikeJson = /\.json$/i.test(name) || bytes[0] === 0x7b;
  if (!looksLikeJson) throw new ImportError('not-recognised', 'This file is neither a PNG nor a story.json.', 'Drop a PNG exported by this app, or the story.json of an exported ZIP.');
  if (bytes.length > MAX_STORY_JSON_BYTES) {
    throw new ImportError('too-large', `This story file is ${formatKiB(bytes.length)}; a story is at most ${formatKiB(MAX_STORY_JSON_BYTES)}.`, 'Drop the story.json of a ZIP exported by this app.');
  }
  const source = { what: 'This story file', askAgain: 'Export the story again from the app and drop the new file.' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportError('damaged', `${source.what} is not UTF-8 text.`, source.askAgain);
  }
  return parseSharedStory(text, source);
}
