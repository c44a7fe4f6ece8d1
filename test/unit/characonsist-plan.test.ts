import { describe, expect, it } from 'vitest';
import { forwardPasses, planPasses, type Track } from '../../src/engine/characonsist/plan';
import { DEV_50 } from '../../src/engine/characonsist/schedule';
import type { StoryFrame, TransformerStory } from '../../src/engine/characonsist/story';

const image = (rows = 8, cols = 8) => ({ text: new Float32Array(), textTokens: 4, pooled: new Float32Array(), noise: new Float32Array(), bgLen: 2, realLen: 4, rows, cols });
const frame = (updateBg = false, rows = 8, cols = 8): StoryFrame => ({ ...image(rows, cols), updateBg });
const story = (frames: StoryFrame[], shareBg: boolean): TransformerStory => ({ identity: image(), frames, shareBg, useInterpolate: true, schedule: DEV_50 });
const name = (track: Track) => (track.kind === 'identity' ? 'id' : `${track.run}${track.frame}`);

describe('lockstep pass plan', () => {
  it('background maintaining: identity mask first, then pre-runs, then full runs; 22 identity passes more than the official 50', () => {
    const passes = planPasses(story([frame(), frame(), frame()], true));
    expect(passes.map((p) => [p.tracks.map(name).join(' '), p.lastStep])).toEqual([
      ['id', 10],
      ['id pre0 pre1 pre2', 10],
      ['id full0 full1 full2', 49],
    ]);
    expect(forwardPasses(passes)).toBe(50 + 22 + 3 * 61);
  });

  it('background switching: no identity-only pass', () => {
    const passes = planPasses(story([frame(), frame()], false));
    expect(passes.map((p) => p.tracks.map(name).join(' '))).toEqual(['id pre0 pre1', 'id full0 full1']);
  });

  it('scenes: a source runs its full run to the mask step before the frames that share its background start', () => {
    const passes = planPasses(story([frame(true), frame(), frame(true, 6, 10), frame(false, 6, 10)], true));
    expect(passes.map((p) => p.tracks.map(name).join(' '))).toEqual([
      'id pre0 pre2',
      'id full0 full2',
      'id full0 full2 pre1 pre3',
      'id full0 full2 full1 full3',
    ]);
  });

  it('a frame of another size does not share the identity background, so needs no identity-only pass', () => {
    const passes = planPasses(story([frame(false, 6, 10)], true));
    expect(passes.map((p) => p.tracks.map(name).join(' '))).toEqual(['id pre0', 'id full0']);
  });
});
