// The history as the UI sees it (zustand): the stories kept in this browser, newest first, the
// one opened in the viewer, and the storage they use. startHistory() opens the database, marks
// stories a reload cut short, and records every story the studio makes from then on.

import { create } from 'zustand';
import { version as appVersion } from '../../../package.json';
import { catalogFile, useModels } from '../models/models-store';
import { onStudioEvent } from '../studio/jobs-store';
import { useStory } from '../studio/story-store';
import { deleteStory, getPictures, getStory, historyWrites, listStories, markInterrupted, openHistoryDb, type HistoryDb, type PictureRecord, type StoryRecord } from './history-db';
import { HistoryRecorder } from './recorder';

export interface StorageUse {
  /** bytes of the history's pictures */
  history: number;
  /** navigator.storage.estimate(): everything this site stores (models included), when the browser tells */
  site?: { usage: number; quota: number };
}

interface HistoryState {
  status: 'loading' | 'ready' | 'unavailable';
  /** why the history cannot be used or a save failed, in words */
  problem?: string;
  stories: StoryRecord[];
  /** the story open in the viewer */
  openId?: string;
  storage?: StorageUse;
}

export const useHistory = create<HistoryState>()(() => ({ status: 'loading', stories: [] }));

let database: Promise<HistoryDb> | undefined;
let started: Promise<void> | undefined;

/** Opens the history and starts recording the studio's stories (once; later calls share the first). */
export function startHistory(): Promise<void> {
  started ??= openAndRecord();
  return started;
}

async function openAndRecord(): Promise<void> {
  database = openHistoryDb();
  let db: HistoryDb;
  try {
    db = await database;
  } catch (error) {
    useHistory.setState({ status: 'unavailable', problem: `This browser does not let the app keep a history (${describe(error)}). Stories are not saved; export them to keep them.` });
    return;
  }
  await markInterrupted(db);
  const recorder = new HistoryRecorder(historyWrites(db), { appVersion, modelName, onChange: () => void refreshHistory(), onError: saveFailed });
  onStudioEvent((event) => recorder.handle(event));
  await refreshHistory();
}

export async function refreshHistory(): Promise<void> {
  const db = await database!;
  const stories = await listStories(db);
  useHistory.setState({ status: 'ready', stories, storage: await storageUse(stories) });
}

export function openStory(id: string | undefined): void {
  useHistory.setState({ openId: id });
}

/** The stored files of a story's pictures, by picture name. */
export async function storyPictures(id: string): Promise<Map<string, PictureRecord>> {
  const pictures = await getPictures(await database!, id);
  return new Map(pictures.map((picture) => [picture.name, picture]));
}

export async function removeStory(id: string): Promise<void> {
  await deleteStory(await database!, id);
  if (useHistory.getState().openId === id) openStory(undefined);
  await refreshHistory();
}

/** Puts a past story's settings back into the editor (Undo in the editor brings the old ones back). */
export async function restoreStory(id: string): Promise<StoryRecord | undefined> {
  const record = await getStory(await database!, id);
  if (record) useStory.getState().replace(record.shared.story, 'a story from the history');
  return record;
}

async function storageUse(stories: readonly StoryRecord[]): Promise<StorageUse> {
  const history = stories.reduce((sum, story) => sum + story.bytes, 0);
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  const site = estimate?.usage !== undefined && estimate.quota !== undefined ? { usage: estimate.usage, quota: estimate.quota } : undefined;
  return { history, ...(site && { site }) };
}

function modelName(id: string): string | undefined {
  const { catalog } = useModels.getState();
  if (catalog.kind !== 'ready' || !catalog.catalog.files.some((file) => file.id === id)) return undefined;
  const file = catalogFile(catalog.catalog, id);
  return file.quantization ? `${file.name} (${file.quantization})` : file.name;
}

function saveFailed(error: unknown): void {
  useHistory.setState({ problem: `The last picture could not be saved in the history (${describe(error)}). Free some space (delete old stories or unused models), then generate it again.` });
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
