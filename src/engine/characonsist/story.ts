// A story at the transformer level: the identity image and the frames, each with its text
// conditioning, initial noise, token grid and prompt token counts, plus the method's switches.
// This is what the CharaConsist engine, its float64 reference and the CLI's story JSON share.
//
// Semantics (spec/characonsist-official.md §2-§9, §17; the official pipeline and attention
// processor):
// - The identity is plain FLUX. Its mask is computed at `maskStep` only.
// - A frame runs twice: a pre-run (steps 0..maskStep, stopping after the forward pass of
//   maskStep) and a full run (all steps). Both start from the frame's noise.
// - Masks: at every step <= maskStep (pre-run and full run) a frame's foreground mask is computed
//   after the forward pass and used from the next step on; the identity's at maskStep.
// - Matching: after the forward pass of maskStep (pre-run and full run), with the mask just
//   computed. Pre-run matches serve full-run steps up to maskStep, full-run matches the rest.
// - Background source of a frame: the identity, or the latest earlier frame with `updateBg`
//   (a scene's first frame), whose own full-run keys/values ("updated" keys) and whose final
//   full-run mask (NOT of it = the background) replace the identity's for background sharing.
//   A frame with `updateBg` shares no background itself. Background sharing needs the frame and
//   its source to have the same token grid; otherwise it is skipped and reported.
// - Foreground extras and token merge always come from the identity.

import type { CharaConsistSchedule } from './schedule';

/** One image's inputs below the text encoders. */
export interface StoryImage {
  /** T5 embeddings [textTokens, contextDim] */
  text: Float32Array;
  textTokens: number;
  /** CLIP pooled [vecDim] */
  pooled: Float32Array;
  /** packed initial noise [rows * cols, 64] */
  noise: Float32Array;
  /** T5 tokens of the background part, without EOS: text tokens [0, bgLen) are the background */
  bgLen: number;
  /** T5 tokens of the whole prompt, without EOS: [bgLen, realLen) is the foreground */
  realLen: number;
  /** image token grid (latent / 2) */
  rows: number;
  cols: number;
}

export interface StoryFrame extends StoryImage {
  /** a scene's first frame: the background source of the frames after it (official update_bg) */
  updateBg: boolean;
}

export interface TransformerStory {
  identity: StoryImage;
  frames: StoryFrame[];
  /** background sharing (official share_bg): on for "background maintaining" and scenes */
  shareBg: boolean;
  /** adaptive token merge (official use_interpolate) */
  useInterpolate: boolean;
  schedule: CharaConsistSchedule;
}

/** Index of the frame whose background frame `frame` shares (-1: the identity). */
export function backgroundSource(story: TransformerStory, frame: number): number {
  for (let earlier = frame - 1; earlier >= 0; earlier--) if (story.frames[earlier].updateBg) return earlier;
  return -1;
}

/** What happened to a frame, for the user and for comparisons (defined with the engine API). */
export type { StoryEvent } from '../../engine-api';
