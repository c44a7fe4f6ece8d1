// The story JSON of `npm run cli -- story` in its prompt form (README "The story JSON"): the story
// document (src/schema/story.ts), whose schedule may also be an explicit object of 0-based step
// indices, as in the official code. The tensor form (src/schema/tensor-story.ts) shares that object.

import * as v from 'valibot';
import { guidance, MAX_STEPS, steps } from './request';
import { SCHEDULE_PRESETS, storyEntries } from './story';
import { flag, got, integerIn, numberIn, oneOf } from './validate';

const stepIndex = () => integerIn(0, MAX_STEPS - 1);
const stepIndices = (count: number, what: string) =>
  v.pipe(
    v.array(stepIndex(), (issue) => `must be a list of ${count} ${what}${got(issue)}`),
    v.length(count, (issue) => `must hold ${count} ${what}, got ${issue.input.length}`),
  );

/** CharaConsist's schedule as step indices (spec/characonsist-official.md §2.1; dev-50's values in the README). */
export const ScheduleObjectSchema = v.pipe(
  v.strictObject({
    steps: steps(),
    /** the step whose forward pass gives the final mask and the point matches */
    mask_step: stepIndex(),
    /** point-tracking attention and background sharing at steps [start, end) */
    attn: stepIndices(2, 'step indices [start, end)'),
    /** token merge at steps [start, end), its weight decaying from `decay`: [start, decay, end] */
    interp: stepIndices(3, 'step indices [start, decay, end]'),
    interp_weight: numberIn(0, 1),
    /** matches count above this mean cosine similarity */
    sim_thr: numberIn(-1, 1),
    shift: flag(),
    guidance: guidance(),
  }),
  v.forward(v.check(({ mask_step, steps }) => mask_step < steps, ({ input }) => `must be below steps (${input.steps}), got ${input.mask_step}`), ['mask_step']),
  v.forward(
    v.check(({ attn: [start, end], steps }) => start >= 1 && start <= end && end <= steps, ({ input }) => `must be [start, end] with 1 <= start <= end <= steps (${input.steps}), got [${input.attn.join(', ')}]`),
    ['attn'],
  ),
  v.forward(
    v.check(
      ({ interp: [start, decay, end], steps }) => start >= 1 && start <= decay && decay <= end && end <= steps,
      ({ input }) => `must be [start, decay, end] with 1 <= start <= decay <= end <= steps (${input.steps}), got [${input.interp.join(', ')}]`,
    ),
    ['interp'],
  ),
);

const SCHEDULE_FORMS = `${SCHEDULE_PRESETS.map((name) => `"${name}"`).join(', ')} or a schedule object (README "The story JSON")`;

/** A preset's name or an explicit schedule; the JSON type decides which is checked. */
export const ScheduleChoiceSchema = v.lazy((input) => {
  if (typeof input === 'string') return oneOf(SCHEDULE_PRESETS);
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) return ScheduleObjectSchema;
  return v.custom<never>(() => false, `must be ${SCHEDULE_FORMS}`);
});

export const CliStorySchema = v.strictObject({
  ...storyEntries,
  /** default dev-50 */
  schedule: v.optional(ScheduleChoiceSchema, 'dev-50'),
});

export type ScheduleObject = v.InferOutput<typeof ScheduleObjectSchema>;
export type ScheduleChoice = v.InferOutput<typeof ScheduleChoiceSchema>;
export type CliStory = v.InferOutput<typeof CliStorySchema>;
