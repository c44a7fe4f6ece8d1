// The history recorder on an in-memory storage: every picture stored as soon as it arrives, as
// lossless PNGs another decoder (sharp) reads back to the engine's exact pixels; runs that
// continue a story add to its record; writes stay in order however fast events come; a failed
// write is reported and the next ones still happen. (The IndexedDB storage itself runs in the
// browser tests.)

import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { StoryFramePictureResult, StoryPictureResult } from '../../src/engine-api';
import { SharedStorySchema } from '../../src/schema/share-link';
import type { StoryDocument } from '../../src/schema/story';
import { check } from '../../src/schema/validate';
import type { PictureRecord, StoryRecord } from '../../src/ui/history/history-db';
import { HistoryRecorder, type HistoryWrites, type RecordedJob } from '../../src/ui/history/recorder';
import { freshSeed, randomArray, randomInt } from '../helpers/random';
import { SCENES_STORY } from './input-examples';

/** Small pictures, so PNG round trips stay quick. */
const STORY: StoryDocument = { ...SCENES_STORY, width: 32, height: 48, frames: SCENES_STORY.frames.slice(0, 2).map(({ width: _w, height: _h, ...frame }) => frame) };

const BUNDLE = {
  files: [
    { component: 'transformer' as const, id: 'flux1-schnell-q4_0', sha256: 'a'.repeat(64) },
    { component: 'vae' as const, id: 'local:my <ae> file?.safetensors' },
  ],
};

class MemoryHistory implements HistoryWrites {
  readonly stories = new Map<string, StoryRecord>();
  readonly pictures = new Map<string, PictureRecord>();
  failNext = false;

  async latest() {
    return [...this.stories.values()].sort((a, b) => b.updatedAt - a.updatedAt)[0];
  }
  async get(id: string) {
    return this.stories.get(id);
  }
  async putStory(story: StoryRecord) {
    // A tick of latency, as IndexedDB has: later events must still wait their turn.
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.stories.set(story.id, structuredClone(story));
  }
  async putPicture(story: StoryRecord, picture: PictureRecord) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('QuotaExceededError');
    }
    this.stories.set(story.id, structuredClone(story));
    this.pictures.set(`${picture.storyId}/${picture.name}`, picture);
  }
}

function recorder(storage: MemoryHistory) {
  const errors: unknown[] = [];
  let changes = 0;
  const names: Record<string, string> = { 'flux1-schnell-q4_0': 'flux1-schnell-Q4_0.gguf (Q4_0)' };
  const history = new HistoryRecorder(storage, { appVersion: '0.1.0', modelName: (id) => names[id], onChange: () => changes++, onError: (error) => errors.push(error) });
  return { history, errors, changes: () => changes };
}

function picture(seed: number, width: number, height: number): StoryPictureResult {
  const tokens = (width / 16) * (height / 16);
  const mask = Uint8Array.from({ length: tokens }, () => randomInt(seed, 0, 1));
  return {
    rgba: Uint8Array.from(randomArray(seed, width * height * 4, 0, 256), Math.floor),
    width,
    height,
    latents: new Float32Array(tokens * 64),
    prompt: `prompt ${seed}`,
    seed: randomInt(seed, 0, 1000),
    mask,
    maskPixels: Uint8Array.from({ length: width * height }, (_, i) => mask[Math.floor(Math.floor(i / width) / 16) * (width / 16) + Math.floor((i % width) / 16)]),
  };
}

function frame(seed: number, width: number, height: number): StoryFramePictureResult {
  const base = picture(seed, width, height);
  return { ...base, preMask: base.mask.slice(), points: [{ frameToken: 1, identityToken: 2, similarity: 0.75 }], flags: { emptyMask: false, fewMatches: true, foregroundFallback: false, backgroundNotShared: false } };
}

const job = (id: string, story = STORY): RecordedJob => ({ id, story, startedAt: 1000, bundle: BUNDLE });

async function pixels(blob: Blob, channels: 1 | 4): Promise<Uint8Array> {
  const bytes = Buffer.from(await blob.arrayBuffer());
  const image = channels === 1 ? sharp(bytes).extractChannel(0) : sharp(bytes);
  return new Uint8Array(await image.raw().toBuffer());
}

describe('history recorder', () => {
  it('stores a story and every picture as it arrives, losslessly', async () => {
    const seed = freshSeed('recorder');
    const storage = new MemoryHistory();
    const { history, errors } = recorder(storage);
    const identity = picture(seed, 32, 48);
    const frames = [frame(seed, 32, 48), frame(seed, 48, 32)];
    history.handle({ kind: 'job-started', job: job('job-1') });
    history.handle({ kind: 'picture', job: job('job-1'), picture: { frame: 1 }, result: frames[1] });
    history.handle({ kind: 'picture', job: job('job-1'), picture: 'identity', result: identity });
    await history.settled();

    // Mid-run (as after a crash): the record and both pictures are there.
    const running = storage.stories.get('job-1')!;
    expect(running.status).toBe('running');
    expect(running.pictures.map((facts) => facts.name)).toEqual(['identity', 'frame-02']);
    expect(check(SharedStorySchema, running.shared)).toMatchObject({ ok: true });
    expect(running.shared.story).toEqual(STORY);
    expect(running.shared.models).toEqual([
      { component: 'transformer', id: 'flux1-schnell-q4_0', name: 'flux1-schnell-Q4_0.gguf (Q4_0)', sha256: 'a'.repeat(64) },
      { component: 'vae', id: 'local:my _ae_ file_.safetensors' },
    ]);

    history.handle({ kind: 'picture', job: job('job-1'), picture: { frame: 0 }, result: frames[0] });
    const summary = { events: [], timings: { encode: 1, transformer: 2, decode: 3 }, forwardPasses: 9, officialForwardPasses: 8, peakBytes: 1024 };
    history.handle({ kind: 'job-ended', job: job('job-1'), status: 'done', summary });
    await history.settled();
    expect(errors).toEqual([]);

    const done = storage.stories.get('job-1')!;
    expect(done.status).toBe('done');
    expect(done.summary).toEqual(summary);
    expect(done.pictures.map((facts) => [facts.name, facts.width, facts.height, facts.seed, facts.prompt])).toEqual([
      ['identity', 32, 48, identity.seed, identity.prompt],
      ['frame-01', 32, 48, frames[0].seed, frames[0].prompt],
      ['frame-02', 48, 32, frames[1].seed, frames[1].prompt],
    ]);
    expect(done.pictures[1].flags).toEqual(frames[0].flags);

    for (const [name, result] of [['identity', identity], ['frame-01', frames[0]], ['frame-02', frames[1]]] as const) {
      const stored = storage.pictures.get(`job-1/${name}`)!;
      expect(Buffer.from(await pixels(stored.png, 4)).equals(Buffer.from(result.rgba))).toBe(true);
      expect(Array.from(await pixels(stored.maskPng, 1))).toEqual(Array.from(result.maskPixels, (inside) => (inside ? 255 : 0)));
      expect(Array.from(stored.mask)).toEqual(Array.from(result.mask));
    }
    expect(storage.pictures.get('job-1/frame-02')!.points).toEqual(frames[1].points);
    const blobs = [...storage.pictures.values()].reduce((sum, stored) => sum + stored.png.size + stored.maskPng.size, 0);
    expect(done.bytes).toBe(blobs + done.thumbnail!.size);
    const { width, height } = await sharp(Buffer.from(await done.thumbnail!.arrayBuffer())).metadata();
    expect(Math.max(width!, height!)).toBeLessThanOrEqual(192);
  });

  it('adds a run of the same story (Resume, Regenerate) to its record; another story gets its own', async () => {
    const seed = freshSeed('recorder resume');
    const storage = new MemoryHistory();
    const { history } = recorder(storage);
    history.handle({ kind: 'job-started', job: job('job-1') });
    history.handle({ kind: 'picture', job: job('job-1'), picture: 'identity', result: picture(seed, 32, 48) });
    history.handle({ kind: 'job-ended', job: job('job-1'), status: 'cancelled' });
    history.handle({ kind: 'job-started', job: job('job-2') });
    const again = frame(seed, 32, 48);
    history.handle({ kind: 'picture', job: job('job-2'), picture: { frame: 0 }, result: again });
    history.handle({ kind: 'picture', job: job('job-2'), picture: { frame: 0 }, result: again });
    history.handle({ kind: 'job-ended', job: job('job-2'), status: 'done' });
    await history.settled();
    expect([...storage.stories.keys()]).toEqual(['job-1']);
    const record = storage.stories.get('job-1')!;
    expect(record.status).toBe('done');
    expect(record.pictures.map((facts) => facts.name)).toEqual(['identity', 'frame-01']);

    history.handle({ kind: 'job-started', job: job('job-3', { ...STORY, seed: 6 }) });
    await history.settled();
    expect([...storage.stories.keys()].sort()).toEqual(['job-1', 'job-3']);
  });

  it('reports a failed write and keeps recording', async () => {
    const seed = freshSeed('recorder failure');
    const storage = new MemoryHistory();
    const { history, errors } = recorder(storage);
    history.handle({ kind: 'job-started', job: job('job-1') });
    storage.failNext = true;
    history.handle({ kind: 'picture', job: job('job-1'), picture: 'identity', result: picture(seed, 32, 48) });
    history.handle({ kind: 'picture', job: job('job-1'), picture: { frame: 0 }, result: frame(seed, 32, 48) });
    await history.settled();
    expect(errors.map(String)).toEqual(['Error: QuotaExceededError']);
    expect(storage.stories.get('job-1')!.pictures.map((facts) => facts.name)).toEqual(['frame-01']);
  });

  it('ignores pictures of a job it never saw start', async () => {
    const seed = freshSeed('recorder unknown job');
    const storage = new MemoryHistory();
    const { history, errors } = recorder(storage);
    history.handle({ kind: 'picture', job: job('ghost'), picture: 'identity', result: picture(seed, 32, 48) });
    await history.settled();
    expect([storage.stories.size, storage.pictures.size, errors.length]).toEqual([0, 0, 0]);
  });
});
