// The history's storage: IndexedDB (through idb). One record per story with what the gallery and
// the exports need (the shared story document, per-picture facts, run summary, thumbnail), and
// one record per picture with its PNG, mask PNG and CharaConsist outputs. A picture and its
// story's record are written in one transaction, so a crash never leaves one without the other.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { EngineErrorInfo, FrameFlags, PictureKey, StoryEvent, StoryFramePictureResult, StoryRunResult } from '../../engine-api';
import type { SharedStory } from '../../schema/share-link';
import type { HistoryWrites } from './recorder';

export type StoryStatus = 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';

/** What a story's pictures were made from and what happened to them (small; kept with the story). */
export interface PictureFacts {
  /** 'identity', 'frame-01', …: the key of its PictureRecord and its file name in exports */
  name: string;
  picture: PictureKey;
  prompt: string;
  seed: number;
  width: number;
  height: number;
  flags?: FrameFlags;
  /** bytes of its PNG and mask PNG */
  bytes: number;
}

export interface StoryRecord {
  id: string;
  /** Date.now() */
  createdAt: number;
  updatedAt: number;
  status: StoryStatus;
  /** story, models (ids and hashes), RNG version and app version */
  shared: SharedStory;
  /** in story order: identity first, then frames */
  pictures: PictureFacts[];
  summary?: Pick<StoryRunResult, 'timings' | 'forwardPasses' | 'officialForwardPasses' | 'peakBytes'> & { events: StoryEvent[] };
  error?: EngineErrorInfo;
  /** bytes of every blob of the story */
  bytes: number;
  /** small PNG for the gallery */
  thumbnail?: Blob;
}

export interface PictureRecord {
  storyId: string;
  name: string;
  /** PNG without metadata (exports add it) */
  png: Blob;
  /** grey PNG of the mask at pixel resolution, white = character */
  maskPng: Blob;
  /** token-grid mask [height/16 * width/16] */
  mask: Uint8Array;
  preMask?: Uint8Array;
  points?: StoryFramePictureResult['points'];
}

interface HistorySchema extends DBSchema {
  stories: { key: string; value: StoryRecord; indexes: { updatedAt: number } };
  pictures: { key: [string, string]; value: PictureRecord; indexes: { storyId: string } };
}

export const HISTORY_DB = 'characonsist-history';
const VERSION = 1;

export type HistoryDb = IDBPDatabase<HistorySchema>;

export function openHistoryDb(): Promise<HistoryDb> {
  return openDB<HistorySchema>(HISTORY_DB, VERSION, {
    upgrade(db) {
      db.createObjectStore('stories', { keyPath: 'id' }).createIndex('updatedAt', 'updatedAt');
      db.createObjectStore('pictures', { keyPath: ['storyId', 'name'] }).createIndex('storyId', 'storyId');
    },
  });
}

/** Newest first. */
export async function listStories(db: HistoryDb): Promise<StoryRecord[]> {
  return (await db.getAllFromIndex('stories', 'updatedAt')).reverse();
}

export const getStory = (db: HistoryDb, id: string) => db.get('stories', id);

export async function getPictures(db: HistoryDb, storyId: string): Promise<PictureRecord[]> {
  return db.getAllFromIndex('pictures', 'storyId', storyId);
}

/** The recorder's storage in IndexedDB. */
export function historyWrites(db: HistoryDb): HistoryWrites {
  return {
    async latest(): Promise<StoryRecord | undefined> {
      const cursor = await db.transaction('stories').store.index('updatedAt').openCursor(null, 'prev');
      return cursor?.value;
    },
    get: (id: string) => db.get('stories', id),
    async putStory(story: StoryRecord): Promise<void> {
      await db.put('stories', story);
    },
    async putPicture(story: StoryRecord, picture: PictureRecord): Promise<void> {
      const tx = db.transaction(['stories', 'pictures'], 'readwrite');
      await Promise.all([tx.objectStore('pictures').put(picture), tx.objectStore('stories').put(story), tx.done]);
    },
  };
}

export async function deleteStory(db: HistoryDb, id: string): Promise<void> {
  const tx = db.transaction(['stories', 'pictures'], 'readwrite');
  const pictures = tx.objectStore('pictures');
  const keys = await pictures.index('storyId').getAllKeys(id);
  await Promise.all([...keys.map((key) => pictures.delete(key)), tx.objectStore('stories').delete(id), tx.done]);
}

/** Stories still "running" when the app starts were cut short by a reload or a crash. */
export async function markInterrupted(db: HistoryDb): Promise<void> {
  const tx = db.transaction('stories', 'readwrite');
  for (let cursor = await tx.store.openCursor(); cursor; cursor = await cursor.continue()) {
    if (cursor.value.status === 'running') await cursor.update({ ...cursor.value, status: 'interrupted' });
  }
  await tx.done;
}
