// The command line's arguments (`npm run cli -- <command> …`, tools/cli.ts): one schema per
// command. The raw arguments are an object keyed by option (`--steps`) with the text typed after
// it (flags: true), so every problem names the option: `--steps: must be at least 1, got 0`. Each
// schema's output is the command's options object (`--max-sequence-length` -> maxSequenceLength).

import * as v from 'valibot';
import { guidance, maxSequenceLength, precision, steps } from './request';
import { MAX_SIDE, MAX_TEXT, seed, side } from './story';
import { got, integerIn, nonEmptyText } from './validate';

/** What the command line gives an option: its text, or true for a flag. */
export type RawArgument = string | true;

/** Decimal numbers only: "0x10", "Infinity", "" and "1_000" are not numbers here. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const argumentText = () => v.string((issue) => `needs a value${issue.input === true ? '' : got(issue)}`);

/** A number typed on the command line, then checked by `schema`. */
const numberArgument = <S extends v.GenericSchema<number, number>>(schema: S) =>
  v.pipe(argumentText(), v.regex(DECIMAL, (issue) => `must be a number${got(issue)}`), v.transform(Number), schema);

const filePath = () => nonEmptyText(4096, 'give a path');

/** The one instance of a flag's schema: the command-line reader tells flags by it. */
export const FLAG = v.optional(v.literal(true, 'takes no value'));

/** Image token grid: rows and columns of 16x16-pixel tokens. */
const MAX_GRID_SIDE = MAX_SIDE / 16;

const grid = () =>
  v.pipe(
    argumentText(),
    v.transform((value) => value.split(',')),
    v.check((parts) => parts.length === 2, (issue) => `must be two numbers ROWS,COLS (e.g. 32,32), got ${issue.input.length} value${issue.input.length === 1 ? '' : 's'}`),
    v.tuple([numberArgument(integerIn(1, MAX_GRID_SIDE)), numberArgument(integerIn(1, MAX_GRID_SIDE))]),
  );

/** Linear kernel variants (src/engine/ops/linear-config.ts LinearVariant). */
export const LINEAR_VARIANTS = ['auto', 'f32', 'subgroups', 'int8', 'f16', 'baseline', 'direct'] as const;

const common = { '--software': FLAG };

const fluxEntries = {
  ...common,
  '--weights': filePath(),
  '--inputs': filePath(),
  '--out': filePath(),
  '--grid': v.optional(grid()),
  '--variant': v.optional(v.picklist(LINEAR_VARIANTS, (issue) => `must be one of ${LINEAR_VARIANTS.join(', ')}${got(issue)}`)),
};

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;
/** `--max-sequence-length` -> `maxSequenceLength`; positionals keep their key. */
type OptionName<K> = K extends `--${infer Name}` ? Camel<Name> : K;
export type OptionsOf<T> = { [K in keyof T as OptionName<K & string>]: T[K] };

function optionsOf<T extends Record<string, unknown>>(args: T): OptionsOf<T> {
  const camel = (name: string) => name.replace(/^--/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return Object.fromEntries(Object.entries(args).map(([key, value]) => [camel(key), value])) as OptionsOf<T>;
}

export const FluxForwardArgumentsSchema = v.pipe(v.strictObject(fluxEntries), v.transform(optionsOf));

export const FluxSampleArgumentsSchema = v.pipe(
  v.strictObject({ ...fluxEntries, '--steps': v.optional(numberArgument(steps())), '--shift': FLAG, '--no-shift': FLAG }),
  v.forward(v.check((args) => !(args['--shift'] && args['--no-shift']), 'contradicts --shift: give one of them'), ['--no-shift']),
  v.transform(optionsOf),
);

export const Txt2ImgArgumentsSchema = v.pipe(
  v.strictObject({
    ...common,
    '--transformer': filePath(),
    '--t5': filePath(),
    '--clip': filePath(),
    '--vae': filePath(),
    '--prompt': v.pipe(argumentText(), nonEmptyText(MAX_TEXT, 'describe the picture')),
    '--out': filePath(),
    '--width': v.optional(numberArgument(side()), '1024'),
    '--height': v.optional(numberArgument(side()), '1024'),
    '--steps': v.optional(numberArgument(steps()), '4'),
    '--seed': v.optional(numberArgument(seed()), '0'),
    '--guidance': v.optional(numberArgument(guidance())),
    '--max-sequence-length': v.optional(numberArgument(maxSequenceLength())),
    '--precision': precision(),
    '--dump-embeddings': v.optional(filePath()),
    '--dump-latents': v.optional(filePath()),
    '--t5-tokenizer': v.optional(filePath()),
    '--clip-tokenizer': v.optional(filePath()),
  }),
  v.transform(optionsOf),
);

const PROMPT_FORM = ['--transformer', '--t5', '--clip', '--vae'] as const;
const TENSOR_FORM = ['--weights', '--inputs'] as const;

/** An option of the other form of `story` (prompts vs tensors). */
const otherForm = (form: string) => v.optional(v.custom<never>(() => false, `belongs to the ${form} form of story; give either --transformer --t5 --clip --vae or --weights --inputs`));

const storyEntries = { ...common, 'STORY.json': filePath(), '--out': filePath() };

/** The options of `story`, in the form the command line gave (prompts or tensors). */
export interface StoryArguments {
  story: string;
  out: string;
  software?: true;
  /** tensor form */
  weights?: string;
  inputs?: string;
  /** prompt form */
  transformer?: string;
  t5?: string;
  clip?: string;
  vae?: string;
}

/** `story STORY.json`: with --weights and --inputs on tensors, else on prompts (README "The story JSON"). */
export const StoryArgumentsSchema = v.lazy((input) => {
  const given = (name: string) => typeof input === 'object' && input !== null && Object.hasOwn(input, name);
  const tensorForm = TENSOR_FORM.some(given);
  const required = Object.fromEntries((tensorForm ? TENSOR_FORM : PROMPT_FORM).map((name) => [name, filePath()]));
  const refused = Object.fromEntries((tensorForm ? PROMPT_FORM : TENSOR_FORM).map((name) => [name, otherForm(tensorForm ? 'prompt' : 'tensor')]));
  return v.pipe(
    v.strictObject({ ...storyEntries, ...required, ...refused }),
    v.transform(({ 'STORY.json': story, ...options }): StoryArguments => ({ story, ...optionsOf(options) }) as StoryArguments),
  );
});

export type FluxForwardArguments = v.InferOutput<typeof FluxForwardArgumentsSchema>;
export type FluxSampleArguments = v.InferOutput<typeof FluxSampleArgumentsSchema>;
export type Txt2ImgArguments = v.InferOutput<typeof Txt2ImgArgumentsSchema>;

/** Entries of each command's schema: which options it knows, which of them are flags. */
export const COMMAND_ENTRIES = {
  'flux-forward': fluxEntries,
  'flux-sample': FluxSampleArgumentsSchema.pipe[0].entries,
  txt2img: Txt2ImgArgumentsSchema.pipe[0].entries,
  story: { ...storyEntries, ...Object.fromEntries([...PROMPT_FORM, ...TENSOR_FORM].map((name) => [name, filePath()])) },
} as const;
