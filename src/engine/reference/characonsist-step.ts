// One forward pass (and Euler step) of one CharaConsist run, with the official processor's work in
// each single block (spec/characonsist-official.md §5-§8, §17), in float64:
//   after QK norm  producers keep their image keys and values (before RoPE);
//   after RoPE     mask statistics from image queries and text keys;
//   attention      one joint softmax over the own keys and the visible extras: background extras
//                  (every block) and foreground extras (foreground blocks), rotated to frame positions;
//   after it       producers keep their attention outputs; the frame's feed the matching; then
//                  the token merge (foreground blocks).
// After the pass: the new mask, then (at the mask step) the new matches.

import { mergeWeight } from '../characonsist/schedule';
import type { StoryImage } from '../characonsist/story';
import type { BankFeature, FeatureBank } from './characonsist-bank';
import type { EventLog } from './characonsist-events';
import { blockExtras, imagePositionIds, stepExtras } from './characonsist-extras';
import { isForegroundBlock, stepFlags, type StepFlags } from './characonsist-flags';
import { frameRun, requireComputed, type RunState, type StepSources, type StoryModel } from './characonsist-run';
import { MaskStatistics, pointMatches, type MatchingBlock, type PointMatches } from './characonsist-statistics';
import { fluxForwardReference, type FluxReferenceInputs, type SingleBlockHooks, type SingleBlockState } from './flux';
import { tokenMergeReference } from './token-merge';

/** What the single blocks of one pass hand to the work after it. */
interface PassCollection {
  mask?: MaskStatistics;
  matching?: MatchingBlock[];
}

/** Runs the forward pass of `step`, the mask and matching after it, then the Euler step (a pre-run ends without one). */
export function runStep(model: StoryModel, run: RunState, step: number, sources: StepSources, events: EventLog): void {
  const flags = stepFlags(model.story, run.track, step);
  const matches = flags.foregroundSharing || flags.merge ? matchesInEffect(model, run, step, sources) : undefined;
  const extras = stepExtras(run, step, flags, matches, sources, events);
  const collection: PassCollection = {
    mask: flags.maskStatistics ? maskStatistics(model, run.image) : undefined,
    matching: flags.matching ? [] : undefined,
  };
  const hooks: SingleBlockHooks = {
    extras: (state) => blockExtras(model, run, step, state.block, extras),
    afterAttention: (state, attention) => afterAttention(model, run, step, flags, { state, attention, matches, sources, collection }),
  };
  const velocity = fluxForwardReference(model.config, model.weights, forwardInputs(model, run, step), hooks);
  if (collection.mask) updateMask(run, step, collection.mask, events);
  if (collection.matching) updateMatches(model, run, collection.matching, sources, events);
  const preRunEnd = run.track.kind === 'frame' && run.track.run === 'pre' && step === model.story.schedule.maskStep;
  if (!preRunEnd) eulerStep(run, step, velocity);
}

function maskStatistics(model: StoryModel, image: StoryImage): MaskStatistics {
  const { heads, headDim } = model.config;
  return new MaskStatistics({ imageTokens: image.rows * image.cols, heads, headDim, realLen: image.realLen, bgLen: image.bgLen });
}

/** Full runs use their pre-run's matches up to the mask step and their own after it (spec §9.1). */
function matchesInEffect(model: StoryModel, run: RunState, step: number, sources: StepSources): PointMatches {
  if (step <= model.story.schedule.maskStep) return sources.preRunMatches();
  return requireComputed(run.matches, 'the full run’s matches');
}

function forwardInputs(model: StoryModel, run: RunState, step: number): FluxReferenceInputs {
  const { image } = run;
  return {
    img: run.latents[step],
    imgIds: imagePositionIds(Array.from({ length: image.rows * image.cols }, (_, token) => token), image.cols),
    txt: image.text,
    txtIds: new Float64Array(3 * image.textTokens),
    y: image.pooled,
    timestep: run.timesteps[step],
    guidance: model.story.schedule.guidance,
  };
}

interface BlockOutputs {
  state: SingleBlockState;
  /** [tokens, hidden], text rows first; the merge changes it in place */
  attention: Float64Array;
  matches: PointMatches | undefined;
  sources: StepSources;
  collection: PassCollection;
}

function afterAttention(model: StoryModel, run: RunState, step: number, flags: StepFlags, outputs: BlockOutputs): void {
  const { state, matches, sources, collection } = outputs;
  const imageRows = (rows: Float64Array) => rows.subarray(run.image.textTokens * model.config.hidden);
  const attention = imageRows(outputs.attention);
  if (run.bank) keepProducerFeatures(run.bank, step, state.block, flags, { keys: imageRows(state.keysBeforeRope), values: imageRows(state.values), attention });
  collection.mask?.add(imageRows(state.queries), state.keys);
  // Matching reads the attention outputs before this step's merge.
  const maskStep = model.story.schedule.maskStep;
  collection.matching?.push({ frame: attention.slice(), identity: sources.identityBank().read(maskStep, state.block, 'attention') });
  if (flags.merge && isForegroundBlock(state.block) && matches && matches.frameTokens.length > 0) {
    mergeTokens(model, step, attention, sources.identityBank().read(step, state.block, 'attention'), matches);
  }
}

/** Copies of the block's image rows the flags ask a producer to keep. */
function keepProducerFeatures(bank: FeatureBank, step: number, block: number, flags: StepFlags, features: Record<BankFeature, Float64Array>): void {
  if (flags.keepKeysValues) {
    bank.keep(step, block, 'keys', features.keys.slice());
    bank.keep(step, block, 'values', features.values.slice());
  }
  if (flags.keepAttention(block)) bank.keep(step, block, 'attention', features.attention.slice());
}

/** ada_tome over the valid matches: out[t] = (1 - a_t) out[t] + a_t identity[m(t)], a_t = w(i) S_max[t]. */
function mergeTokens(model: StoryModel, step: number, frameAttention: Float64Array, identityAttention: Float64Array, matches: PointMatches): void {
  const weight = mergeWeight(model.story.schedule, step);
  const weights = Float64Array.from(matches.frameTokens, (token) => weight * matches.bestSimilarity[token]);
  const entries = { frameTokens: matches.frameTokens, identityTokens: matches.identityTokens, weights };
  frameAttention.set(tokenMergeReference(frameAttention, identityAttention, model.config.hidden, entries));
}

function updateMask(run: RunState, step: number, statistics: MaskStatistics, events: EventLog): void {
  const { mask, scores } = statistics.finish(run.image);
  run.mask = mask;
  run.maskScores = scores;
  if (mask.some((foreground) => foreground !== 0)) return;
  events.record(run.track.kind === 'identity' ? { kind: 'empty-identity-foreground' } : { kind: 'empty-foreground', ...frameRun(run.track), step });
}

function updateMatches(model: StoryModel, run: RunState, blocks: MatchingBlock[], sources: StepSources, events: EventLog): void {
  const frameMask = requireComputed(run.mask, 'the frame’s mask');
  run.matches = pointMatches(blocks, model.config.hidden, frameMask, sources.identityMask(), model.story.schedule.similarityThreshold);
  if (run.matches.frameTokens.length > 0) return;
  events.record({ kind: 'no-valid-match', ...frameRun(run.track) });
}

/** x_{i+1} = x_i + (t_{i+1} - t_i) v */
function eulerStep(run: RunState, step: number, velocity: Float64Array): void {
  const dt = run.timesteps[step + 1] - run.timesteps[step];
  run.latents.push(run.latents[step].map((value, j) => value + dt * velocity[j]));
}

