// Stories for the e2e tests of the studio. LEGIBLE_STORY, on the legible tiny transformer
// (models.ts LEGIBLE_TRANSFORMER_FILE), is a prompt-level story whose masks are neither empty nor
// full and whose frames have valid point matches, so the studio's mask overlay and matched points
// have something to show (test/e2e/studio.test.ts checks it where it shows them).

import type { StoryDocument } from '../../src/schema/story';

/** Identity + 2 frames, 64x64 (4x4 tokens: the smallest grid on which the 3x3 erosion keeps regions), schnell-4. */
export const LEGIBLE_STORY: StoryDocument = {
  mode: 'maintain',
  character: 'a knight with a red cloak and a silver helmet',
  identity: { environment: 'In a misty forest at dawn,', action: 'stands still.' },
  frames: [
    { environment: 'In a misty forest at dawn,', action: 'draws a sword.' },
    { environment: 'In a misty forest at dawn,', action: 'rides a white horse.' },
  ],
  width: 64,
  height: 64,
  seed: 7,
  schedule: 'schnell-4',
  maxSequenceLength: 32,
};
