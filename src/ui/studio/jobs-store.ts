// The running story and what it has made (zustand): stage, progress, ETA, live previews and
// masks, finished pictures, timings and errors. Finished pictures outlive their job (Resume and
// "Regenerate frame N" fill in single pictures); each remembers the settings it was made from.
//
// Other parts of the app (the history) listen with onStudioEvent: every job's start, every
// finished picture as it arrives, and every job's end.

import { create } from 'zustand';
import type {
  EngineErrorInfo, PictureKey, StoryFramePictureResult, StoryPictureResult, StoryRunResult, StoryStage, StoryUpdate,
} from '../../engine-api';
import type { StoryDocument } from '../../schema/story';
import type { GenerationModels } from '../models/models-store';
import { EtaEstimator, type EtaEstimate } from './eta';
import { frameKey, identityKey } from './story-edits';

export type ModelBundle = Extract<GenerationModels, { ready: true }>['bundle'];

/** A story run as it was asked for. */
export interface JobInfo {
  id: string;
  /** the document the engine got (runnable: see runnableStory) */
  story: StoryDocument;
  pictures: { identity: boolean; frames: number[] };
  bundle: ModelBundle;
  /** Date.now() */
  startedAt: number;
}

export type JobStatus = 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';

/** Wall time of one stage of one batch. */
export interface StageTime {
  stage: StoryStage;
  /** the batch's frames; empty for loading and the identity */
  frames: number[];
  ms: number;
}

export type ProgressUpdate = Extract<StoryUpdate, { kind: 'progress' }>;

export interface Job extends JobInfo {
  status: JobStatus;
  progress?: ProgressUpdate;
  /** finished stages, in order */
  stages: StageTime[];
  /** performance.now() when the current stage began */
  stageStartedAt: number;
  received: { identity: boolean; frames: number[] };
  error?: EngineErrorInfo;
  /** Date.now() */
  endedAt?: number;
  summary?: RunSummary;
}

export type RunSummary = Pick<StoryRunResult, 'events' | 'forwardPasses' | 'officialForwardPasses' | 'timings' | 'peakBytes'>;

export interface Finished<Result> {
  result: Result;
  /** identityKey / frameKey of the settings it was made from */
  key: string;
  jobId: string;
  /** the stages that made it (its batch's), ms */
  stages: StageTime[];
}

export type FinishedFrame = Finished<StoryFramePictureResult>;

/** What a picture in the making looks like so far. */
export interface LivePicture {
  preview?: { rgba: Uint8Array; width: number; height: number; step: number; steps: number };
  mask?: { mask: Uint8Array; rows: number; cols: number; run: 'pre' | 'full' };
}

interface JobsState {
  job?: Job;
  identity?: Finished<StoryPictureResult>;
  frames: Record<number, FinishedFrame>;
  /** previews and masks of the running job, by pictureName */
  live: Record<string, LivePicture>;
}

export const useJobs = create<JobsState>()(() => ({ frames: {}, live: {} }));

/** Whether a story is being made (or stopping). */
/** Whether `job` is being made (or stopping). */
export const jobRunning = (job: Job | undefined) => job?.status === 'running' || job?.status === 'cancelling';

export const selectRunning = (state: JobsState) => jobRunning(state.job);

export const pictureName = (picture: PictureKey) => (picture === 'identity' ? 'identity' : `frame ${picture.frame}`);

export type StudioEvent =
  | { kind: 'job-started'; job: JobInfo }
  | { kind: 'picture'; job: JobInfo; picture: 'identity'; result: StoryPictureResult }
  | { kind: 'picture'; job: JobInfo; picture: { frame: number }; result: StoryFramePictureResult }
  | { kind: 'job-ended'; job: JobInfo; status: 'done' | 'cancelled' | 'failed'; summary?: RunSummary; error?: EngineErrorInfo };

const listeners = new Set<(event: StudioEvent) => void>();

/** Hears every job's start, each finished picture as soon as it exists, and every job's end. Returns the unsubscribe. */
export function onStudioEvent(listener: (event: StudioEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const emit = (event: StudioEvent) => listeners.forEach((listener) => listener(event));

const estimators = new Map<string, EtaEstimator>();

/** The running job's time left at `now` (performance.now()). */
export function jobEta(jobId: string, now: number): EtaEstimate {
  return estimators.get(jobId)?.estimate(now) ?? { kind: 'estimating' };
}

/**
 * `decodeTokens`: latent tokens of every picture the job decodes, for the ETA. Finished pictures
 * the job makes again are dropped when their settings changed since (they belong to another story
 * and would sit beside the new ones if the job stops early); unchanged ones stay until replaced.
 */
export function startJob(info: JobInfo, decodeTokens: number): void {
  estimators.clear();
  estimators.set(info.id, new EtaEstimator(decodeTokens));
  const { identity, frames } = useJobs.getState();
  const remade = (k: number) => info.pictures.frames.includes(k) && frames[k].key !== frameKey(info.story, k);
  useJobs.setState({
    job: { ...info, status: 'running', stages: [], stageStartedAt: performance.now(), received: { identity: false, frames: [] } },
    identity: info.pictures.identity && identity?.key !== identityKey(info.story) ? undefined : identity,
    frames: Object.fromEntries(Object.entries(frames).filter(([k]) => !remade(Number(k)))),
    live: {},
  });
  emit({ kind: 'job-started', job: info });
}

/**
 * Applies an engine update of job `jobId`. Updates of a job that ended are ignored: the engine
 * sends every update before it settles, so nothing valid comes after the end.
 */
export function applyUpdate(jobId: string, update: StoryUpdate, now = performance.now()): void {
  const state = useJobs.getState();
  const job = state.job;
  if (job?.id !== jobId || !selectRunning(state)) return;
  estimators.get(jobId)?.observe(update, now);
  switch (update.kind) {
    case 'progress':
      useJobs.setState({ job: { ...withStage(job, update, now), progress: update } });
      break;
    case 'preview':
      setLive(update.picture, { preview: { rgba: update.rgba, width: update.width, height: update.height, step: update.step, steps: update.steps } });
      break;
    case 'mask':
      setLive(update.picture, { mask: { mask: update.mask, rows: update.rows, cols: update.cols, run: update.run } });
      break;
    case 'picture':
      receivePicture(job, update, now);
      break;
  }
}

function setLive(picture: PictureKey, entry: LivePicture): void {
  const { live } = useJobs.getState();
  const name = pictureName(picture);
  useJobs.setState({ live: { ...live, [name]: { ...live[name], ...entry } } });
}

function receivePicture(job: Job, update: Extract<StoryUpdate, { kind: 'picture' }>, now: number): void {
  const { live, frames } = useJobs.getState();
  const { [pictureName(update.picture)]: _done, ...stillLive } = live;
  const ownFrames = (stage: StageTime) => (update.picture === 'identity' ? stage.frames.length === 0 : stage.frames.includes(update.picture.frame));
  const stages = [...job.stages, currentStage(job, now)].filter((stage) => stage && ownFrames(stage)) as StageTime[];
  if (update.picture === 'identity') {
    const identity = { result: update.result, key: identityKey(job.story), jobId: job.id, stages };
    useJobs.setState({ identity, live: stillLive, job: { ...job, received: { ...job.received, identity: true } } });
    emit({ kind: 'picture', job, picture: 'identity', result: update.result });
  } else {
    const { frame } = update.picture;
    const finished = { result: update.result, key: frameKey(job.story, frame), jobId: job.id, stages };
    useJobs.setState({
      frames: { ...frames, [frame]: finished },
      live: stillLive,
      job: { ...job, received: { ...job.received, frames: [...job.received.frames, frame] } },
    });
    emit({ kind: 'picture', job, picture: update.picture, result: update.result });
  }
}

export function markCancelling(jobId: string): void {
  const job = useJobs.getState().job;
  if (job?.id === jobId && job.status === 'running') useJobs.setState({ job: { ...job, status: 'cancelling' } });
}

export function finishJob(jobId: string, result: StoryRunResult): void {
  // Pictures the engine returned without sending them on the way (none, normally) are taken from the result.
  const received = () => useJobs.getState().job?.received;
  if (result.identity && !received()?.identity) applyUpdate(jobId, { kind: 'picture', picture: 'identity', result: result.identity });
  for (const { frame, ...picture } of result.frames) {
    if (!received()?.frames.includes(frame)) applyUpdate(jobId, { kind: 'picture', picture: { frame }, result: picture });
  }
  const { events, forwardPasses, officialForwardPasses, timings, peakBytes } = result;
  endJob(jobId, 'done', { summary: { events, forwardPasses, officialForwardPasses, timings, peakBytes } });
}

/** A job that stopped early: cancelled by the user, or failed (device lost, out of memory, ...). */
export function stopJob(jobId: string, error: EngineErrorInfo): void {
  endJob(jobId, error.code === 'cancelled' ? 'cancelled' : 'failed', error.code === 'cancelled' ? {} : { error });
}

function endJob(jobId: string, status: 'done' | 'cancelled' | 'failed', outcome: { summary?: RunSummary; error?: EngineErrorInfo }): void {
  const job = useJobs.getState().job;
  if (job?.id !== jobId) return;
  const now = performance.now();
  const stage = currentStage(job, now);
  estimators.delete(jobId);
  useJobs.setState({ job: { ...job, ...outcome, status, stages: stage ? [...job.stages, stage] : job.stages, endedAt: Date.now() }, live: {} });
  emit({ kind: 'job-ended', job, status, ...outcome });
}

/** The pictures a job asked for and did not get. */
export function unfinished(job: Job): { identity: boolean; frames: number[] } {
  return { identity: job.pictures.identity && !job.received.identity, frames: job.pictures.frames.filter((k) => !job.received.frames.includes(k)) };
}

/**
 * After frames were moved or removed in the editor (never while a job runs): `origins[k]` is the
 * old index of frame k. Finished frames and the last job's lists follow their frames.
 */
export function reorderFrames(origins: readonly number[]): void {
  const { frames, job } = useJobs.getState();
  const moved: Record<number, FinishedFrame> = {};
  origins.forEach((old, k) => {
    if (frames[old]) moved[k] = frames[old];
  });
  const remap = (list: number[]) => list.map((old) => origins.indexOf(old)).filter((k) => k >= 0);
  useJobs.setState({
    frames: moved,
    job: job && { ...job, pictures: { ...job.pictures, frames: remap(job.pictures.frames) }, received: { ...job.received, frames: remap(job.received.frames) } },
  });
}

function withStage(job: Job, update: ProgressUpdate, now: number): Job {
  const current = job.progress;
  if (current && current.stage === update.stage && sameFrames(current.frames, update.frames)) return job;
  const stage = currentStage(job, now);
  return { ...job, stages: stage ? [...job.stages, stage] : job.stages, stageStartedAt: now };
}

function currentStage(job: Job, now: number): StageTime | undefined {
  return job.progress && { stage: job.progress.stage, frames: job.progress.frames, ms: now - job.stageStartedAt };
}

const sameFrames = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((value, i) => value === b[i]);
