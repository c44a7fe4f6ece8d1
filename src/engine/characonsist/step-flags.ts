// What a track does at a step: the official pipeline's per-step flags (get_consist_kwargs),
// for the identity, a frame's pre-run and a frame's full run. Block-level conditions (foreground
// sharing and merging in even single blocks only) are applied by the runner.

import type { Track } from './plan';
import { sharesBackground } from './plan';
import { mergeWeight } from './schedule';
import type { TransformerStory } from './story';

export interface StepFlags {
  /** accumulate text-attention statistics; the mask is updated after the forward pass */
  maskStats: boolean;
  /** accumulate frame/identity attention-output similarity; matches are updated after the pass */
  matching: boolean;
  /** background extras in every single block */
  shareBackground: boolean;
  /** foreground extras in even single blocks */
  shareForeground: boolean;
  /** merge weight w(step) in even single blocks; 0 = no merge */
  merge: number;
  /** a producer keeps this step's keys/values for the frames (identity, or a scene source's full run) */
  produceKeys: boolean;
  /** the identity keeps its attention outputs: all blocks at the mask step, even blocks at merge steps */
  produceAttention: boolean;
}

export function stepFlags(story: TransformerStory, track: Track, step: number): StepFlags {
  const { schedule, useInterpolate } = story;
  const attending = step >= schedule.attention[0] && step < schedule.attention[1];
  const mergeStep = useInterpolate ? mergeWeight(schedule, step) : 0;
  if (track.kind === 'identity') {
    return {
      maskStats: step === schedule.maskStep,
      matching: false,
      shareBackground: false,
      shareForeground: false,
      merge: 0,
      produceKeys: attending,
      produceAttention: step === schedule.maskStep || mergeStep > 0,
    };
  }
  const frame = story.frames[track.frame];
  const full = track.run === 'full';
  return {
    maskStats: step <= schedule.maskStep,
    matching: step === schedule.maskStep,
    shareBackground: attending && sharesBackground(story, track.frame),
    shareForeground: full && attending,
    merge: full ? mergeStep : 0,
    produceKeys: full && frame.updateBg && attending,
    produceAttention: false,
  };
}
