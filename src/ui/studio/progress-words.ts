// A running story's progress in words, for the status panel, the Generate bar and the tab title.

import type { StoryStage } from '../../engine-api';
import { jobRunning, type Job, type ProgressUpdate, type StageTime } from './jobs-store';

export const STAGE_NAMES: Record<StoryStage, string> = {
  'text encoders': 'Encoding the prompts',
  transformer: 'Loading the transformer',
  identity: 'Drawing the identity',
  'pre-run': 'Pre-run (finding the character)',
  'full run': 'Drawing the frames',
  decoding: 'Decoding',
};

const SAMPLING: ReadonlySet<StoryStage> = new Set(['identity', 'pre-run', 'full run']);

/** "frame 2 of 4", "frames 1–3 of 4", "the identity" */
export function framesInWords(frames: readonly number[], total: number): string {
  if (frames.length === 0) return 'the identity';
  if (frames.length === 1) return `frame ${frames[0] + 1} of ${total}`;
  const consecutive = frames.every((frame, i) => i === 0 || frame === frames[i - 1] + 1);
  const list = consecutive ? `${frames[0] + 1}–${frames.at(-1)! + 1}` : frames.map((frame) => frame + 1).join(', ');
  return `frames ${list} of ${total}`;
}

const LOADING: ReadonlySet<StoryStage> = new Set(['text encoders', 'transformer']);

/** "Drawing the frames · frame 2 of 4" */
export function stageInWords(progress: Pick<ProgressUpdate, 'stage' | 'frames'>, frameCount: number): string {
  const alone = LOADING.has(progress.stage) || progress.stage === 'identity';
  return alone ? STAGE_NAMES[progress.stage] : `${STAGE_NAMES[progress.stage]} · ${framesInWords(progress.frames, frameCount)}`;
}

/** "Drawing the frames · frame 2 of 4 · step 3 of 4" */
export function progressInWords(progress: ProgressUpdate, frameCount: number): string {
  const stage = stageInWords(progress, frameCount);
  if (SAMPLING.has(progress.stage)) return `${stage} · step ${progress.done} of ${progress.total}`;
  if (LOADING.has(progress.stage) && progress.total > 0) return `${stage} · ${Math.floor((100 * progress.done) / progress.total)}%`;
  return stage;
}

/** Whole-story share of the work done, 0..1 (token-steps). */
export function workShare(job: Job): number {
  const work = job.progress?.work;
  return work && work.total > 0 ? Math.min(1, work.done / work.total) : 0;
}

/** "3.2 s", "1 min 12 s" */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** Stage times summed per stage, in the order stages first ran. */
export function stageTotals(stages: readonly StageTime[]): { stage: StoryStage; ms: number }[] {
  const totals = new Map<StoryStage, number>();
  for (const { stage, ms } of stages) totals.set(stage, (totals.get(stage) ?? 0) + ms);
  return [...totals].map(([stage, ms]) => ({ stage, ms }));
}

/** The tab title while a story runs: "42% · frame 2 of 4 — CharaConsist". */
export function progressTitle(job: Job | undefined, base: string): string {
  if (!job || !jobRunning(job)) return base;
  if (job.status === 'cancelling') return `Cancelling… — ${base}`;
  const where = job.progress ? (job.progress.frames.length ? framesInWords(job.progress.frames, job.story.frames.length) : STAGE_NAMES[job.progress.stage].toLowerCase()) : 'starting';
  return `${Math.floor(100 * workShare(job))}% · ${where} — ${base}`;
}
