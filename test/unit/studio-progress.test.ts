// A running story's progress in words: the status line, the tab title and the time per stage.

import { describe, expect, it } from 'vitest';
import type { Job } from '../../src/ui/studio/jobs-store';
import { framesInWords, progressInWords, progressTitle, stageTotals } from '../../src/ui/studio/progress-words';

const job = (patch: Partial<Job>): Job => ({
  id: 'j', story: { frames: [{}, {}, {}, {}] } as Job['story'], pictures: { identity: true, frames: [0, 1, 2, 3] },
  bundle: { id: 'b', name: 'B', schedule: 'schnell-4', files: [] }, startedAt: 0, status: 'running', stages: [], stageStartedAt: 0,
  received: { identity: false, frames: [] }, ...patch,
});

describe('progress in words', () => {
  it('names the frames of a batch', () => {
    expect(framesInWords([], 4)).toBe('the identity');
    expect(framesInWords([1], 4)).toBe('frame 2 of 4');
    expect(framesInWords([0, 1, 2], 4)).toBe('frames 1–3 of 4');
    expect(framesInWords([0, 2], 4)).toBe('frames 1, 3 of 4');
  });

  it('says the stage, the frames and the step or the share loaded', () => {
    const work = { done: 10, total: 100 };
    expect(progressInWords({ kind: 'progress', stage: 'full run', frames: [1], done: 3, total: 4, work }, 4)).toBe('Drawing the frames · frame 2 of 4 · step 3 of 4');
    expect(progressInWords({ kind: 'progress', stage: 'identity', frames: [], done: 1, total: 4, work }, 4)).toBe('Drawing the identity · step 1 of 4');
    expect(progressInWords({ kind: 'progress', stage: 'transformer', frames: [], done: 250, total: 1000, work }, 4)).toBe('Loading the transformer · 25%');
    expect(progressInWords({ kind: 'progress', stage: 'decoding', frames: [0, 1], done: 0, total: 2, work }, 4)).toBe('Decoding · frames 1–2 of 4');
  });

  it('puts the whole story’s share and the frame in the tab title while it runs, and nothing after', () => {
    const progress = { kind: 'progress' as const, stage: 'full run' as const, frames: [1], done: 2, total: 4, work: { done: 425, total: 1000 } };
    expect(progressTitle(job({ progress }), 'App')).toBe('42% · frame 2 of 4 — App');
    expect(progressTitle(job({ progress: { ...progress, stage: 'text encoders', frames: [] } }), 'App')).toBe('42% · encoding the prompts — App');
    expect(progressTitle(job({ status: 'cancelling', progress }), 'App')).toBe('Cancelling… — App');
    expect(progressTitle(job({ status: 'done', progress }), 'App')).toBe('App');
    expect(progressTitle(undefined, 'App')).toBe('App');
  });

  it('sums the time of each stage over batches, in the order stages first ran', () => {
    expect(stageTotals([
      { stage: 'pre-run', frames: [0], ms: 10 }, { stage: 'full run', frames: [0], ms: 20 },
      { stage: 'pre-run', frames: [1], ms: 5 }, { stage: 'full run', frames: [1], ms: 7 },
    ])).toEqual([{ stage: 'pre-run', ms: 15 }, { stage: 'full run', ms: 27 }]);
  });
});
