// What CharaConsist does in one forward pass of one run (official get_consist_kwargs and the
// processors' per-block flags; spec/characonsist-official.md §2.1, §3, §7, §8).

import type { Track } from '../characonsist/plan';
import { attentionActive, type CharaConsistSchedule } from '../characonsist/schedule';
import type { TransformerStory } from '../characonsist/story';

export interface StepFlags {
  /** text-attention statistics in every single block; a new mask after the pass */
  maskStatistics: boolean;
  /** attention outputs of every single block feed the point matching after the pass */
  matching: boolean;
  /** producers keep their image keys and values (the identity bank; a scene source's "updated" keys) */
  keepKeysValues: boolean;
  /** producers keep the image attention outputs of this block */
  keepAttention(block: number): boolean;
  /** background extras in every single block */
  backgroundSharing: boolean;
  /** foreground extras in the foreground blocks */
  foregroundSharing: boolean;
  /** token merge in the foreground blocks */
  merge: boolean;
}

/** Official fg_share_flag: foreground sharing and token merge in the even single blocks only. */
export const isForegroundBlock = (block: number) => block % 2 === 0;

const mergeActive = (story: TransformerStory, step: number) => story.useInterpolate && step >= story.schedule.merge.start && step < story.schedule.merge.end;

export function stepFlags(story: TransformerStory, track: Track, step: number): StepFlags {
  const schedule: CharaConsistSchedule = story.schedule;
  const sharing = attentionActive(schedule, step);
  const atMaskStep = step === schedule.maskStep;
  if (track.kind === 'identity') {
    return {
      maskStatistics: atMaskStep,
      matching: false,
      keepKeysValues: sharing,
      // For the frames' matching (every block, mask step) and token merge (foreground blocks).
      keepAttention: (block) => atMaskStep || (mergeActive(story, step) && isForegroundBlock(block)),
      backgroundSharing: false,
      foregroundSharing: false,
      merge: false,
    };
  }
  const full = track.run === 'full';
  const { updateBg } = story.frames[track.frame];
  return {
    maskStatistics: step <= schedule.maskStep,
    matching: atMaskStep,
    keepKeysValues: full && updateBg && sharing,
    keepAttention: () => false,
    // A scene's first frame makes the background the later frames share; it shares none itself.
    backgroundSharing: sharing && story.shareBg && !updateBg,
    foregroundSharing: full && sharing,
    merge: full && mergeActive(story, step),
  };
}
