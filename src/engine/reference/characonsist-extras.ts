// CharaConsist's extra keys and values (spec/characonsist-official.md §7, §17.1): background
// extras (source background AND NOT the frame's current foreground, at the same positions, every
// single block) then foreground extras (the identity's keys at the matched identity tokens,
// re-encoded at the positions of the frame tokens that matched them: point tracking, foreground
// blocks only). Text queries see no extras; image queries those of their side of the mask.

import type { AttentionReferenceExtras } from './attention';
import type { FeatureBank } from './characonsist-bank';
import type { EventLog } from './characonsist-events';
import { isForegroundBlock, type StepFlags } from './characonsist-flags';
import { frameRun, requireComputed, type RunState, type StepSources, type StoryModel } from './characonsist-run';
import type { PointMatches } from './characonsist-statistics';
import { rope } from './flux';

/** Extra-key labels of the attention reference; a query sees the extras of its own label. */
const FOREGROUND = 1;
const BACKGROUND = 2;

/** Extra tokens of one kind for one step: producer rows, re-encoded at frame positions. */
export interface ExtraTokens {
  label: typeof FOREGROUND | typeof BACKGROUND;
  bank: FeatureBank;
  /** producer image tokens whose keys and values are appended */
  sourceTokens: ArrayLike<number>;
  /** frame image tokens whose RoPE positions those keys take */
  positions: ArrayLike<number>;
  /** background extras go to every single block, foreground extras to the foreground blocks */
  everyBlock: boolean;
}

/** The step's extras, background first (official order); empty sets give none. */
export function stepExtras(run: RunState, step: number, flags: StepFlags, matches: PointMatches | undefined, sources: StepSources, events: EventLog): ExtraTokens[] {
  const parts: ExtraTokens[] = [];
  const background = flags.backgroundSharing ? backgroundExtras(run, step, sources, events) : undefined;
  if (background) parts.push(background);
  if (flags.foregroundSharing && matches && matches.frameTokens.length > 0) {
    // Point tracking: each matched identity key moves to the frame token that matched it.
    parts.push({ label: FOREGROUND, bank: sources.identityBank(), sourceTokens: matches.identityTokens, positions: matches.frameTokens, everyBlock: false });
  }
  return parts;
}

/** Source background AND NOT the frame's current foreground, at the same positions (spec §7). */
function backgroundExtras(run: RunState, step: number, sources: StepSources, events: EventLog): ExtraTokens | undefined {
  const background = sources.background();
  if (!background) return undefined;
  const mask = requireComputed(run.mask, 'the frame’s current mask');
  const shared = Uint32Array.from(mask.keys()).filter((token) => background.mask[token] !== 0 && mask[token] === 0);
  if (shared.length === 0) {
    events.record({ kind: 'empty-shared-background', ...frameRun(run.track), step });
    return undefined;
  }
  return { label: BACKGROUND, bank: background.bank, sourceTokens: shared, positions: shared, everyBlock: true };
}

/** Keys (rotated to the frame positions), values and labels of the extras one block sees. */
export function blockExtras(model: StoryModel, run: RunState, step: number, block: number, parts: ExtraTokens[]): AttentionReferenceExtras | undefined {
  const visible = parts.filter((part) => part.everyBlock || isForegroundBlock(block));
  if (visible.length === 0) return undefined;
  const { config } = model;
  const keys = visible.map((part) => rope(config, gatherRows(part.bank.read(step, block, 'keys'), part.sourceTokens, config.hidden), imagePositionIds(part.positions, run.image.cols)));
  const values = visible.map((part) => gatherRows(part.bank.read(step, block, 'values'), part.sourceTokens, config.hidden));
  return {
    keys: concatenate(keys),
    values: concatenate(values),
    keyLabels: Uint8Array.from(visible.flatMap((part) => new Array<number>(part.sourceTokens.length).fill(part.label))),
    queryLabels: queryLabels(run),
  };
}

/** Text queries see no extras; image queries those of their side of the current mask. */
function queryLabels(run: RunState): Uint8Array {
  const mask = requireComputed(run.mask, 'the frame’s current mask');
  const labels = new Uint8Array(run.image.textTokens + mask.length);
  mask.forEach((foreground, token) => (labels[run.image.textTokens + token] = foreground ? FOREGROUND : BACKGROUND));
  return labels;
}

/** FLUX position ids (0, row, col) of image tokens on a grid `cols` wide: [tokens, 3]. */
export function imagePositionIds(tokens: ArrayLike<number>, cols: number): Float64Array {
  const ids = new Float64Array(3 * tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    ids[3 * i + 1] = Math.floor(tokens[i] / cols);
    ids[3 * i + 2] = tokens[i] % cols;
  }
  return ids;
}

function gatherRows(rows: Float64Array, tokens: ArrayLike<number>, width: number): Float64Array {
  const out = new Float64Array(tokens.length * width);
  for (let i = 0; i < tokens.length; i++) out.set(rows.subarray(tokens[i] * width, (tokens[i] + 1) * width), i * width);
  return out;
}

function concatenate(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
