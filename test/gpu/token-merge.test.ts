import { describe, expect, it } from 'vitest';
import { TokenMergeOp } from '../../src/engine/ops/token-merge';
import { relativeError } from '../../src/engine/reference/compare';
import { tokenMergeReference } from '../../src/engine/reference/token-merge';
import { freshSeed, randomArray } from '../helpers/random';
import { readF32, run, testGpu } from './harness';
import { changedOutside, distinctIndices, extractMatrix, randomIndices, uploadPlaced } from './token-fixtures';

interface Case {
  frameTokens: number;
  identityTokens: number;
  channels: number;
  entries: number;
}

// Entries from none to every frame token; channel counts around the 256-thread workgroup.
const CASES: Case[] = [
  { frameTokens: 77, identityTokens: 130, channels: 200, entries: 40 },
  { frameTokens: 1, identityTokens: 1, channels: 1, entries: 1 },
  { frameTokens: 300, identityTokens: 65, channels: 257, entries: 300 },
  { frameTokens: 50, identityTokens: 20, channels: 64, entries: 0 },
];

describe('token merge (shaders/token-merge.wgsl)', () => {
  it.each(CASES)('matches the float64 reference in place: %o', async (c) => {
    const gpu = await testGpu();
    const seed = freshSeed(`token merge ${JSON.stringify(c)}`);
    const frame = randomArray(seed, c.frameTokens * c.channels);
    const identity = randomArray(seed, c.identityTokens * c.channels);
    const entries = {
      frameTokens: distinctIndices(seed, c.entries, c.frameTokens),
      identityTokens: randomIndices(seed, c.entries, c.identityTokens),
      weights: randomArray(seed, c.entries, 0, 1),
    };
    const op = await TokenMergeOp.create(gpu);
    const placedFrame = await uploadPlaced(gpu, 'frame', seed, frame, c.frameTokens, c.channels);
    const placedIdentity = await uploadPlaced(gpu, 'identity', seed, identity, c.identityTokens, c.channels);
    const [mergedFrameTokens, matchedIdentityTokens, weights] = await Promise.all(
      [entries.frameTokens, entries.identityTokens, entries.weights].map((list) => gpu.memory.uploadNew('merge list', list.length ? list : new Uint32Array(1))),
    );
    await run(gpu, 'token merge', (rec) =>
      op.record(rec, { ...c, frame: placedFrame.view, identity: placedIdentity.view, mergedFrameTokens, matchedIdentityTokens, weights }),
    );
    const contents = await readF32(gpu, placedFrame.view.buffer);
    expect(changedOutside(contents, placedFrame.placement)).toBe(0);
    // (1 - a) x + a y in f32: three roundings per element.
    expect(relativeError(extractMatrix(contents, placedFrame.placement), tokenMergeReference(frame, identity, c.channels, entries))).toBeLessThan(1e-6);
  });

  it('skips entries that name a token outside either view', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('token merge out of range');
    const c = { frameTokens: 20, identityTokens: 9, channels: 33 };
    const frame = randomArray(seed, c.frameTokens * c.channels);
    const identity = randomArray(seed, c.identityTokens * c.channels);
    // Entry 1 names frame token 20 and entry 2 identity token 9: both one past their views.
    const lists = { frameTokens: Uint32Array.of(3, 20, 7, 0), identityTokens: Uint32Array.of(8, 1, 9, 0), weights: Float32Array.of(0.5, 0.5, 0.5, 0.25) };
    const op = await TokenMergeOp.create(gpu);
    const placedFrame = await uploadPlaced(gpu, 'frame', seed, frame, c.frameTokens, c.channels);
    const placedIdentity = await uploadPlaced(gpu, 'identity', seed, identity, c.identityTokens, c.channels);
    const [mergedFrameTokens, matchedIdentityTokens, weights] = await Promise.all([lists.frameTokens, lists.identityTokens, lists.weights].map((list) => gpu.memory.uploadNew('merge list', list)));
    await run(gpu, 'token merge', (rec) =>
      op.record(rec, { ...c, entries: 4, frame: placedFrame.view, identity: placedIdentity.view, mergedFrameTokens, matchedIdentityTokens, weights }),
    );
    const contents = await readF32(gpu, placedFrame.view.buffer);
    expect(changedOutside(contents, placedFrame.placement)).toBe(0);
    const kept = { frameTokens: [3, 0], identityTokens: [8, 0], weights: [0.5, 0.25] };
    expect(relativeError(extractMatrix(contents, placedFrame.placement), tokenMergeReference(frame, identity, c.channels, kept))).toBeLessThan(1e-6);
  });

  it('refuses a frame and identity in one buffer', async () => {
    const gpu = await testGpu();
    const op = await TokenMergeOp.create(gpu);
    const buffer = await gpu.memory.uploadNew('both', new Float32Array(64));
    const list = await gpu.memory.uploadNew('list', new Uint32Array(4));
    const rec = gpu.recorder('bad token merge');
    const args = { frame: { buffer, offset: 0, stride: 4 }, identity: { buffer, offset: 32, stride: 4 }, frameTokens: 8, identityTokens: 8, channels: 4 };
    expect(() => op.record(rec, { ...args, mergedFrameTokens: list, matchedIdentityTokens: list, weights: list, entries: 4 })).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });
});
