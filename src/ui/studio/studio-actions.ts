// What the studio's buttons do: Generate, Cancel, Resume, Regenerate frame N, Continue after a
// lost device or full GPU memory, and the frame edits that move finished pictures along.
// The stores hold the state; the engine client does the work.

import type { EngineErrorInfo } from '../../engine-api';
import type { StoryDocument } from '../../schema/story';
import type { FieldProblem } from '../../schema/validate';
import { cancelGeneration, errorInfo, generateStory, restartGpu } from '../engine-client';
import { generationModels, type GenerationModels } from '../models/models-store';
import { useEngineState, type GpuStatus } from '../store';
import { applyUpdate, finishJob, markCancelling, reorderFrames, selectRunning, startJob, stopJob, unfinished, useJobs } from './jobs-store';
import { frameOrigins, identityKey, moveFrame, pictureTokens, removeFrame, runnableStory, shrinkFrames, shrinkStory } from './story-edits';
import { useStory } from './story-store';
import { tokensOf } from './token-counts';
import { editorProblems } from './validation';

export interface PictureChoice {
  identity: boolean;
  frames: number[];
}

export const isRunning = () => selectRunning(useJobs.getState());

/** Why Generate cannot run here and now (no usable GPU, models not stored), in words; undefined when it can. */
export function generateBlocker(models: GenerationModels, gpu: GpuStatus): string | undefined {
  if (gpu.kind === 'failed') return `${gpu.error.message} ${gpu.error.action}`;
  return models.ready ? undefined : models.reason;
}

/** The editor's problems (story and run options), with the stored transformer's preset deciding the token limit. */
export function currentProblems(): FieldProblem[] {
  const { story, run } = useStory.getState();
  const models = generationModels();
  return editorProblems(story, run, tokensOf, models.ready ? models.bundle.schedule : undefined);
}

/** Makes the identity and every frame. Returns the problems that stop it (empty when it started). */
export function generate(): FieldProblem[] {
  const { story } = useStory.getState();
  return run({ identity: true, frames: story.frames.map((_, k) => k) });
}

/** Makes frame `index` again with its current settings (and the identity, if its settings changed since it was made). */
export function regenerateFrame(index: number): FieldProblem[] {
  return run({ identity: identityOutdated(), frames: [index] });
}

/**
 * Makes what the last job did not finish (after Cancel, a lost device or full memory). After a
 * failure the engine is re-created first. `smaller`: the unfinished pictures at three quarters of
 * their size per side (the whole story when even the identity is unfinished), one frame at a time.
 */
export function resume(options: { smaller?: boolean } = {}): FieldProblem[] {
  const job = useJobs.getState().job;
  if (!job || isRunning()) return [];
  const left = unfinished(job);
  if (options.smaller) useStory.getState().edit((story) => smallerStory(story, left));
  const oneAtATime = options.smaller || job.error?.code === 'out-of-memory';
  return run({ identity: left.identity || identityOutdated(), frames: left.frames }, { framesPerBatch: oneAtATime ? 1 : undefined, freshEngine: needsFreshEngine(job.error) });
}

export function cancel(): void {
  const job = useJobs.getState().job;
  if (!job || job.status !== 'running') return;
  markCancelling(job.id);
  void cancelGeneration();
}

/** Removes frame `index`; its finished picture goes with it, the others follow their frames. */
export function removeFrameAt(index: number): void {
  const count = useStory.getState().story.frames.length;
  useStory.getState().edit((story) => removeFrame(story, index));
  reorderFrames(frameOrigins(count, index));
}

export function moveFrameTo(index: number, to: number): void {
  const count = useStory.getState().story.frames.length;
  useStory.getState().edit((story) => moveFrame(story, index, to));
  reorderFrames(frameOrigins(count, index, to));
}

function identityOutdated(): boolean {
  const identity = useJobs.getState().identity;
  return !identity || identity.key !== identityKey(runnableStory(useStory.getState().story));
}

function needsFreshEngine(error: EngineErrorInfo | undefined): boolean {
  return error?.code === 'device-lost' || error?.code === 'out-of-memory';
}

/** Only the unfinished frames shrink, unless nothing is finished yet (then the whole story does). */
function smallerStory(story: StoryDocument, left: PictureChoice): StoryDocument {
  return left.identity ? shrinkStory(story) : shrinkFrames(story, left.frames);
}

/** Checks the editor and starts the job; the engine's work goes on in the background. */
function run(pictures: PictureChoice, how: { framesPerBatch?: number; freshEngine?: boolean } = {}): FieldProblem[] {
  const { story: typed, run: options, setShowProblems } = useStory.getState();
  const problems = currentProblems();
  if (problems.length > 0) {
    setShowProblems(true);
    return problems;
  }
  const models = generationModels();
  if (!models.ready || generateBlocker(models, useEngineState.getState().gpu) || isRunning() || (pictures.frames.length === 0 && !pictures.identity)) return [];
  const story = runnableStory(typed);
  const id = crypto.randomUUID();
  const decodeTokens = (pictures.identity ? pictureTokens(story, story.identity) : 0) + pictures.frames.reduce((sum, k) => sum + pictureTokens(story, story.frames[k]), 0);
  startJob({ id, story, pictures, bundle: models.bundle, startedAt: Date.now() }, decodeTokens);
  const request = { ...story, models: models.models, pictures, previewEvery: options.previewEvery, framesPerBatch: how.framesPerBatch ?? options.framesPerBatch };
  void (async () => {
    try {
      if (how.freshEngine || useEngineState.getState().gpu.kind === 'lost') await restartGpu();
      // Cancel pressed while the engine restarted: there is nothing to stop yet, so do not start.
      if (useJobs.getState().job?.status === 'cancelling') throw { code: 'cancelled', message: 'Cancelled before it started.' };
      finishJob(id, await generateStory(request, (update) => applyUpdate(id, update)));
    } catch (error) {
      stopJob(id, errorInfo(error));
    }
  })();
  return [];
}
