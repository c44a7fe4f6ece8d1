// Writes every story into the history as it is made: a record when a job starts, each picture
// the moment it is finished (so a crash or reload loses at most the picture in progress), and
// the run's summary when it ends. Jobs that continue the same story (Resume, the same document
// again) add to its record instead of starting a new one. Writes happen one at a time, in order.

import type { EngineErrorInfo, PictureKey, StoryFramePictureResult, StoryPictureResult, StoryRunResult } from '../../engine-api';
import { sharedStory } from '../../export/shared-story';
import { toModelId, type ModelRef } from '../../schema/share-link';
import type { StoryDocument } from '../../schema/story';
import type { PictureRecord, StoryRecord, StoryStatus } from './history-db';
import { encodePicture, pictureOrder } from './picture-files';

/** A job as the history needs it (the studio's JobInfo has this shape). */
export interface RecordedJob {
  id: string;
  story: StoryDocument;
  /** Date.now() */
  startedAt: number;
  bundle: { files: readonly { component: ModelRef['component']; id: string; sha256?: string }[] };
}

/** What the studio reports (its onStudioEvent events have this shape). */
export type RecorderEvent =
  | { kind: 'job-started'; job: RecordedJob }
  | { kind: 'picture'; job: RecordedJob; picture: PictureKey; result: StoryPictureResult | StoryFramePictureResult }
  | {
      kind: 'job-ended';
      job: RecordedJob;
      status: Exclude<StoryStatus, 'running' | 'interrupted'>;
      summary?: Pick<StoryRunResult, 'events' | 'timings' | 'forwardPasses' | 'officialForwardPasses' | 'peakBytes'>;
      error?: EngineErrorInfo;
    };

/** The storage the recorder writes to (IndexedDB in the app: see historyWrites in history-db.ts). */
export interface HistoryWrites {
  /** the story changed last */
  latest(): Promise<StoryRecord | undefined>;
  get(id: string): Promise<StoryRecord | undefined>;
  putStory(story: StoryRecord): Promise<void>;
  /** the picture and its story's updated record, together */
  putPicture(story: StoryRecord, picture: PictureRecord): Promise<void>;
}

export interface RecorderOptions {
  /** readable model names for the record (the catalog's), by model id */
  modelName(id: string): string | undefined;
  appVersion: string;
  /** after every write (the gallery refreshes) */
  onChange(): void;
  /** a write failed (storage full, IndexedDB refused…) */
  onError(error: unknown): void;
}

export class HistoryRecorder {
  private queue: Promise<void> = Promise.resolve();
  /** job id -> story record id */
  private readonly stories = new Map<string, string>();

  constructor(
    private readonly storage: HistoryWrites,
    private readonly options: RecorderOptions,
  ) {}

  handle(event: RecorderEvent): void {
    this.queue = this.queue
      .then(() => this.apply(event))
      .then(() => this.options.onChange(), (error: unknown) => this.options.onError(error));
  }

  /** Resolves when every event handled so far is written. */
  settled(): Promise<void> {
    return this.queue;
  }

  private async apply(event: RecorderEvent): Promise<void> {
    if (event.kind === 'job-started') return this.start(event.job);
    const id = this.stories.get(event.job.id);
    const record = id && (await this.storage.get(id));
    if (!record) return;
    if (event.kind === 'picture') return this.addPicture(record, event.picture, event.result);
    this.stories.delete(event.job.id);
    const { status, summary, error } = event;
    await this.storage.putStory({ ...record, status, updatedAt: Date.now(), ...(summary && { summary }), error });
  }

  private async start(job: RecordedJob): Promise<void> {
    const models: ModelRef[] = job.bundle.files.map(({ component, id, sha256 }) => {
      const name = this.options.modelName(id);
      return { component, id: toModelId(id), ...(name && { name }), ...(sha256 && { sha256 }) };
    });
    const shared = sharedStory(job.story, models, this.options.appVersion);
    const latest = await this.storage.latest();
    const continued = latest && JSON.stringify(latest.shared) === JSON.stringify(shared) ? latest : undefined;
    const now = Date.now();
    const record: StoryRecord = continued
      ? { ...continued, status: 'running', updatedAt: now, error: undefined }
      : { id: job.id, createdAt: job.startedAt, updatedAt: now, status: 'running', shared, pictures: [], bytes: 0 };
    this.stories.set(job.id, record.id);
    await this.storage.putStory(record);
  }

  private async addPicture(record: StoryRecord, picture: PictureKey, result: StoryPictureResult | StoryFramePictureResult): Promise<void> {
    const encoded = encodePicture(picture, result);
    const others = record.pictures.filter((facts) => facts.name !== encoded.facts.name);
    const pictures = [...others, encoded.facts].sort(pictureOrder);
    const thumbnail = picture === 'identity' || !record.thumbnail ? encoded.thumbnail : record.thumbnail;
    const bytes = pictures.reduce((sum, facts) => sum + facts.bytes, 0) + thumbnail.size;
    await this.storage.putPicture({ ...record, pictures, thumbnail, bytes, updatedAt: Date.now() }, { ...encoded.record, storyId: record.id });
  }
}
