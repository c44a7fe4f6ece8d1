// The story the studio's unit tests edit, check and run: switch mode, three frames, two of them at
// one place (so scenes mode finds a scene in it).

import type { StoryDocument } from '../../src/schema/story';

export const STORY: StoryDocument = {
  mode: 'switch',
  character: 'a knight with a red cloak',
  identity: { environment: 'In a misty forest,', action: 'stands still.' },
  frames: [
    { environment: 'In a misty forest,', action: 'draws a sword.' },
    { environment: 'On a stone bridge,', action: 'rides a horse.' },
    { environment: 'On a stone bridge,', action: 'waves.' },
  ],
  width: 64,
  height: 48,
  seed: 5,
  schedule: 'schnell-4',
};
