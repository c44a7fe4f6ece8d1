import { describe, expect, it } from 'vitest';
import { forwardPasses, lastIdentityRead, officialForwardPasses, planPasses, type Pass, type PictureRequest } from '../../src/engine/characonsist/plan';
import { DEV_50, SCHNELL_4 } from '../../src/engine/characonsist/schedule';
import type { StoryFrame, TransformerStory } from '../../src/engine/characonsist/story';

const image = (rows = 8, cols = 8) => ({ text: new Float32Array(), textTokens: 4, pooled: new Float32Array(), noise: new Float32Array(), bgLen: 2, realLen: 4, rows, cols });
const frame = (updateBg = false, rows = 8, cols = 8): StoryFrame => ({ ...image(rows, cols), updateBg });
const story = (frames: StoryFrame[], shareBg: boolean): TransformerStory => ({ identity: image(), frames, shareBg, useInterpolate: true, schedule: DEV_50 });
/** "id:49 pre0:10 …": each track and its last step */
const tracks = (pass: Pass) => pass.tracks.map(({ track, lastStep }) => `${track.kind === 'identity' ? 'id' : `${track.run}${track.frame}`}:${lastStep}`).join(' ');
const plan = (passes: Pass[]) => passes.map((pass) => `${pass.stage} [${pass.frames.join(',')}] ${tracks(pass)}`);
const pictures = (frames: number[], framesPerBatch = frames.length, identity = true): PictureRequest => ({ identity, frames, framesPerBatch });
const scenes = () => story([frame(true), frame(), frame(true, 6, 10), frame(false, 6, 10)], true);

describe('lockstep pass plan', () => {
  it('background maintaining: the identity alone first, then pre-runs, then full runs; the identity only to step 40 of 50 beside the frames', () => {
    const passes = planPasses(story([frame(), frame(), frame()], true));
    expect(plan(passes)).toEqual([
      'identity [] id:49',
      'pre-run [0,1,2] id:10 pre0:10 pre1:10 pre2:10',
      'full run [0,1,2] id:40 full0:49 full1:49 full2:49',
    ]);
    expect(forwardPasses(passes)).toBe(50 + 4 * 11 + 41 + 3 * 50);
    expect(officialForwardPasses(story([frame(), frame(), frame()], true), passes)).toBe(50 + 3 * 61);
  });

  it('reads the identity until the last step of sharing, matching or merging', () => {
    expect(lastIdentityRead(story([frame()], true))).toBe(40);
    expect(lastIdentityRead({ ...story([frame()], true), schedule: { ...DEV_50, attention: [1, 21] } })).toBe(30);
    expect(lastIdentityRead({ ...story([frame()], true), schedule: { ...DEV_50, attention: [1, 21] }, useInterpolate: false })).toBe(20);
    expect(lastIdentityRead({ ...story([frame()], true), schedule: SCHNELL_4 })).toBe(2);
  });

  it('batches of one frame: the identity mask comes from the identity’s own run, so no identity-only pass', () => {
    const passes = planPasses(story([frame(), frame()], true), pictures([0, 1], 1));
    expect(plan(passes)).toEqual([
      'identity [] id:49',
      'pre-run [0] id:10 pre0:10',
      'full run [0] id:40 full0:49',
      'pre-run [1] id:10 pre1:10',
      'full run [1] id:40 full1:49',
    ]);
  });

  it('a frame alone without the identity’s picture: an identity-only pass to its mask step first, when it shares its background', () => {
    expect(plan(planPasses(story([frame(), frame()], true), pictures([1], 1, false)))).toEqual([
      'pre-run [1] id:10',
      'pre-run [1] id:10 pre1:10',
      'full run [1] id:40 full1:49',
    ]);
    expect(plan(planPasses(story([frame(), frame()], false), pictures([1], 1, false)))).toEqual(['pre-run [1] id:10 pre1:10', 'full run [1] id:40 full1:49']);
  });

  it('the identity alone', () => {
    expect(plan(planPasses(story([frame()], true), pictures([])))).toEqual(['identity [] id:49']);
  });

  it('background switching: no identity-only pass', () => {
    const passes = planPasses(story([frame(), frame()], false));
    expect(plan(passes)).toEqual(['identity [] id:49', 'pre-run [0,1] id:10 pre0:10 pre1:10', 'full run [0,1] id:40 full0:49 full1:49']);
  });

  it('scenes: a source runs its full run to the mask step before the frames that share its background start', () => {
    expect(plan(planPasses(scenes()))).toEqual([
      'identity [] id:49',
      'pre-run [0,1,2,3] id:10 pre0:10 pre2:10',
      'pre-run [0,1,2,3] id:10 full0:10 full2:10',
      'pre-run [0,1,2,3] id:10 full0:10 full2:10 pre1:10 pre3:10',
      'full run [0,1,2,3] id:40 full0:49 full2:49 full1:49 full3:49',
    ]);
  });

  it('scenes: a frame brings its background source into its batch, run only as far as the frame reads it', () => {
    const passes = planPasses(scenes(), pictures([3], 1, false));
    expect(plan(passes)).toEqual([
      'pre-run [3] id:10 pre2:10',
      'pre-run [3] id:10 full2:10',
      'pre-run [3] id:10 full2:10 pre3:10',
      'full run [3] id:40 full2:40 full3:49',
    ]);
    expect(officialForwardPasses(scenes(), passes)).toBe(50 + 2 * 61);
  });

  it('scenes in batches of two: each batch recomputes the sources its frames read', () => {
    expect(plan(planPasses(scenes(), pictures([0, 1, 2, 3], 2)))).toEqual([
      'identity [] id:49',
      'pre-run [0,1] id:10 pre0:10',
      'pre-run [0,1] id:10 full0:10',
      'pre-run [0,1] id:10 full0:10 pre1:10',
      'full run [0,1] id:40 full0:49 full1:49',
      'pre-run [2,3] id:10 pre2:10',
      'pre-run [2,3] id:10 full2:10',
      'pre-run [2,3] id:10 full2:10 pre3:10',
      'full run [2,3] id:40 full2:49 full3:49',
    ]);
  });

  it('a frame of another size does not share the identity background, so needs no identity-only pass', () => {
    const passes = planPasses(story([frame(false, 6, 10)], true), pictures([0], 1, false));
    expect(plan(passes)).toEqual(['pre-run [0] id:10 pre0:10', 'full run [0] id:40 full0:49']);
  });
});
