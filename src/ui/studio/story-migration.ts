// Editor states saved by earlier versions of the app, brought to the current shape so nobody
// loses a story to an update.

import type { StoryDocument } from '../../schema/story';
import { EXAMPLES } from './examples';
import { DEFAULT_RUN, type RunOptions } from './run-options';

/** the version of the editor state saved in this browser (localStorage, `characonsist.story`) */
export const STORY_VERSION = 2;

/** The first app's story: one place, one character, one action per frame. */
interface StoryV1 {
  environment: string;
  character: string;
  actions: string[];
}

/** What version 1 did not have: the identity's action, the size, the seed and the schedule. */
const V1_DEFAULTS = { identityAction: 'is standing, looking at the viewer.', width: 1024, height: 1024, seed: 2025, schedule: 'schnell-4' } as const;

/** Brings a saved editor state of an older version to the current shape. */
export function migrateStoryState(persisted: unknown, version: number): { story: StoryDocument; run: RunOptions } {
  const state = (persisted ?? {}) as { story?: unknown; run?: RunOptions };
  if (version >= STORY_VERSION) return state as { story: StoryDocument; run: RunOptions };
  const old = state.story as Partial<StoryV1> | undefined;
  if (!old) return { story: EXAMPLES[0].story, run: DEFAULT_RUN };
  const environment = old.environment ?? '';
  const actions = old.actions?.length ? old.actions : [''];
  return {
    story: {
      mode: 'maintain',
      character: old.character ?? '',
      identity: { environment, action: V1_DEFAULTS.identityAction },
      frames: actions.map((action) => ({ environment, action })),
      width: V1_DEFAULTS.width,
      height: V1_DEFAULTS.height,
      seed: V1_DEFAULTS.seed,
      schedule: V1_DEFAULTS.schedule,
    },
    run: DEFAULT_RUN,
  };
}
