// The studio's jobs store without a page or an engine: a job hears engine updates and keeps what
// they say (stage times, previews, masks, finished pictures with the settings they were made
// from), tells listeners (the history) every picture as it arrives, and knows what is unfinished.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoryFramePictureResult, StoryPictureResult, StoryRunResult, StoryUpdate } from '../../src/engine-api';
import {
  applyUpdate, finishJob, jobEta, onStudioEvent, reorderFrames, startJob, stopJob, unfinished, useJobs, type JobInfo, type StudioEvent,
} from '../../src/ui/studio/jobs-store';
import { frameKey, identityKey, setFrame } from '../../src/ui/studio/story-edits';
import { STORY } from './studio-story';

const job = (id: string, frames = [0, 1, 2]): JobInfo => ({
  id, story: STORY, pictures: { identity: true, frames }, startedAt: 0,
  bundle: { id: 'b', name: 'B', schedule: 'schnell-4', files: [] },
});

const picture = (tag: number): StoryPictureResult => ({
  rgba: new Uint8Array(32 * 32 * 4).fill(tag), width: 32, height: 32, latents: new Float32Array(4), prompt: `p${tag}`, seed: 1,
  mask: new Uint8Array(4), maskPixels: new Uint8Array(32 * 32),
});
const framePicture = (tag: number): StoryFramePictureResult => ({
  ...picture(tag), preMask: new Uint8Array(4), points: [{ frameToken: 0, identityToken: 1, similarity: 0.7 }],
  flags: { emptyMask: false, fewMatches: false, foregroundFallback: false, backgroundNotShared: false },
});
const progress = (stage: Extract<StoryUpdate, { kind: 'progress' }>['stage'], frames: number[], done: number): StoryUpdate => ({
  kind: 'progress', stage, frames, done, total: 4, work: { done, total: 100 },
});

describe('the jobs store', () => {
  let events: StudioEvent[];
  let stopListening: () => void;
  beforeEach(() => {
    useJobs.setState({ job: undefined, identity: undefined, frames: {}, live: {} });
    events = [];
    stopListening = onStudioEvent((event) => events.push(event));
  });
  afterEach(() => stopListening());

  it('keeps stage times, previews, masks and pictures, and tells listeners each picture as it arrives', () => {
    startJob(job('a'), 4 * 4);
    applyUpdate('a', progress('identity', [], 0), 0);
    applyUpdate('a', progress('identity', [], 4), 400);
    applyUpdate('a', progress('decoding', [], 0), 500);
    applyUpdate('a', { kind: 'picture', picture: 'identity', result: picture(1) }, 600);
    applyUpdate('a', progress('pre-run', [0], 1), 700);
    applyUpdate('a', { kind: 'mask', picture: { frame: 0 }, run: 'pre', mask: new Uint8Array([1, 0, 0, 1]), rows: 2, cols: 2 }, 750);
    applyUpdate('a', { kind: 'preview', picture: { frame: 0 }, step: 2, steps: 4, rgba: new Uint8Array(16), width: 2, height: 2 }, 760);
    expect(useJobs.getState().live['frame 0']).toMatchObject({ mask: { run: 'pre', rows: 2 }, preview: { step: 2 } });
    applyUpdate('a', progress('full run', [0], 1), 900);
    applyUpdate('a', progress('decoding', [0], 0), 1000);
    applyUpdate('a', { kind: 'picture', picture: { frame: 0 }, result: framePicture(2) }, 1250);

    const state = useJobs.getState();
    expect(state.job!.stages.map((s) => [s.stage, s.frames, s.ms])).toEqual([
      ['identity', [], 500], ['decoding', [], 200], ['pre-run', [0], 200], ['full run', [0], 100],
    ]);
    expect(state.identity).toMatchObject({ key: identityKey(STORY), jobId: 'a' });
    expect(state.identity!.stages.map((s) => s.stage)).toEqual(['identity', 'decoding']);
    expect(state.frames[0]).toMatchObject({ key: frameKey(STORY, 0), jobId: 'a' });
    // a frame's timings: its batch's stages, the decode up to its picture included
    expect(state.frames[0].stages.map((s) => [s.stage, s.ms])).toEqual([['pre-run', 200], ['full run', 100], ['decoding', 250]]);
    expect(state.live['frame 0']).toBeUndefined();
    expect(events.map((e) => (e.kind === 'picture' ? JSON.stringify(e.picture) : e.kind))).toEqual(['job-started', '"identity"', '{"frame":0}']);
    expect(unfinished(state.job!)).toEqual({ identity: false, frames: [1, 2] });
  });

  it('after a cancel keeps what was finished, ignores anything later and knows what is left', () => {
    startJob(job('a'), 64);
    applyUpdate('a', { kind: 'picture', picture: 'identity', result: picture(1) });
    applyUpdate('a', { kind: 'picture', picture: { frame: 1 }, result: framePicture(2) });
    stopJob('a', { code: 'cancelled', message: 'stopped', action: '' });
    applyUpdate('a', { kind: 'picture', picture: { frame: 2 }, result: framePicture(3) });
    applyUpdate('a', progress('full run', [2], 3));
    const state = useJobs.getState();
    expect(state.job!.status).toBe('cancelled');
    expect(state.job!.error).toBeUndefined();
    expect(state.job!.progress).toBeUndefined();
    expect(Object.keys(state.frames)).toEqual(['1']);
    expect(unfinished(state.job!)).toEqual({ identity: false, frames: [0, 2] });
    expect(events.at(-1)).toMatchObject({ kind: 'job-ended', status: 'cancelled' });
  });

  it('keeps the error of a failed job and the pictures of earlier jobs', () => {
    startJob(job('a'), 64);
    applyUpdate('a', { kind: 'picture', picture: { frame: 0 }, result: framePicture(1) });
    finishJob('a', { frames: [], events: [], forwardPasses: 1, officialForwardPasses: 1, timings: { encode: 0, transformer: 0, decode: 0 }, peakBytes: 0 });
    startJob(job('b', [2]), 16);
    // an update of the earlier job after the new one started is not the new job's
    applyUpdate('a', { kind: 'picture', picture: { frame: 1 }, result: framePicture(9) });
    stopJob('b', { code: 'device-lost', message: 'lost', action: 'Continue' });
    const state = useJobs.getState();
    expect(state.job).toMatchObject({ id: 'b', status: 'failed', error: { code: 'device-lost' } });
    expect(Object.keys(state.frames)).toEqual(['0']);
    expect(unfinished(state.job!)).toEqual({ identity: true, frames: [2] });
    expect(jobEta('b', 0)).toEqual({ kind: 'estimating' });
  });

  it('takes pictures the engine returned without sending them from the result', () => {
    startJob(job('a', [0]), 32);
    const result: StoryRunResult = {
      identity: picture(1), frames: [{ ...framePicture(2), frame: 0 }], events: [], forwardPasses: 3, officialForwardPasses: 4,
      timings: { encode: 1, transformer: 2, decode: 3 }, peakBytes: 5,
    };
    finishJob('a', result);
    const state = useJobs.getState();
    expect(state.identity!.result.prompt).toBe('p1');
    expect(state.frames[0].result.prompt).toBe('p2');
    expect(state.job).toMatchObject({ status: 'done', summary: { forwardPasses: 3, peakBytes: 5 } });
    expect(events.filter((e) => e.kind === 'picture')).toHaveLength(2);
  });

  it('drops the pictures a new job remakes when their settings changed, and keeps the others', () => {
    startJob(job('a'), 64);
    applyUpdate('a', { kind: 'picture', picture: 'identity', result: picture(1) });
    [0, 1, 2].forEach((k) => applyUpdate('a', { kind: 'picture', picture: { frame: k }, result: framePicture(10 + k) }));
    finishJob('a', { frames: [], events: [], forwardPasses: 1, officialForwardPasses: 1, timings: { encode: 0, transformer: 0, decode: 0 }, peakBytes: 0 });
    // frame 1's action changed; the new job remakes the identity, frames 0 and 1, not frame 2
    const edited = setFrame(STORY, 1, { action: 'jumps.' });
    startJob({ ...job('b', [0, 1]), story: edited }, 64);
    const state = useJobs.getState();
    expect(state.identity?.result.prompt).toBe('p1');
    expect(Object.entries(state.frames).map(([k, f]) => [k, f.result.prompt])).toEqual([['0', 'p10'], ['2', 'p12']]);
    // a new character outdates the identity and every frame remade
    startJob({ ...job('c', [2]), story: { ...edited, character: 'a monk' } }, 64);
    expect(useJobs.getState().identity).toBeUndefined();
    expect(Object.keys(useJobs.getState().frames)).toEqual(['0']);
  });

  it('moves finished frames and the last job’s lists with their frames', () => {
    startJob(job('a'), 64);
    applyUpdate('a', { kind: 'picture', picture: { frame: 0 }, result: framePicture(10) });
    applyUpdate('a', { kind: 'picture', picture: { frame: 2 }, result: framePicture(12) });
    stopJob('a', { code: 'cancelled', message: '', action: '' });
    // frame 0 removed: old frames 1, 2 are now 0, 1
    reorderFrames([1, 2]);
    const state = useJobs.getState();
    expect(Object.entries(state.frames).map(([k, f]) => [k, f.result.prompt])).toEqual([['1', 'p12']]);
    expect(unfinished(state.job!)).toEqual({ identity: true, frames: [0] });
    // the moved frame still matches its settings: its key does not depend on its place
    expect(state.frames[1].key).toBe(frameKey(setFrame(STORY, 2, {}), 2));
  });
});
