// Fuzz: random command lines for `npm run cli` (commands, options, values, paths that exist and
// do not), run through the real CLI up to the point where it would open a GPU (here: a GPU that is
// never there). Every case must end in exit status 2 (refused, no GPU asked for) or 1 (failed),
// with readable lines on stderr, and leave the folder exactly as it was.

import fc from 'fast-check';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { noAdapter } from '../../../src/engine/errors';
import { COMMAND_ENTRIES } from '../../../src/schema/cli';
import { encodeSafetensors } from '../../../src/engine/formats/safetensors-writer';
import { writeFileParts } from '../../../tools/node-file-source';
import { cliFolder, cliWithoutGpu, contextDim, f32, vecDim, writeCliFixtures } from '../cli-fixtures';
import { expectReadableMessages, fuzzTest } from './fuzz';

const file = cliFolder();
const dir = path.dirname(file('x'));
let before: string[] = [];

beforeAll(async () => {
  await writeCliFixtures(file);
  await writeFileParts(file('schedule.safetensors'), encodeSafetensors([f32('noise', [1, 12, 64]), f32('schedule', [1], 1), f32('txt', [1, 6, contextDim]), f32('y', [1, vecDim])]));
  writeFileSync(file('broken.json'), '{"mode": "maintain", "frames": [');
  before = readdirSync(dir).sort();
});

const OPTIONS = [...new Set(Object.values(COMMAND_ENTRIES).flatMap((entries) => Object.keys(entries).filter((name) => name.startsWith('--'))))];
const PATHS = ['flux.gguf', 't5.safetensors', 'clip.safetensors', 'vae.safetensors', 'inputs.safetensors', 'nan.safetensors', 'schedule.safetensors', 'story-inputs.safetensors', 'story.json', 'tensor-story.json', 'broken.json', 'out.safetensors', 'out', 'missing/out.png', 'nothing.gguf', '.'].map(file);
const VALUES = ['0', '1', '4', '1.5', '1e9', '-1', 'NaN', 'Infinity', '0x10', '', '3,4', '-1,2', '1.5,2', '1,2,3', '4,3', '16', '40', '1024', 'auto', 'int8', 'a fox', '--'];

const token = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...OPTIONS) },
  { weight: 4, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...OPTIONS), fc.constantFrom(...VALUES, ...PATHS)).map(([option, value]) => `${option}=${value}`) },
  { weight: 1, arbitrary: fc.constantFrom('--bogus', '-x', '--STEPS', '--steps-', '---steps', '--', '-') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);

/** Command lines each command accepts (with these files, all but the GPU is there), as groups of words. */
const VALID_LINES: string[][][] = [
  [['flux-forward'], ['--weights', file('flux.gguf')], ['--inputs', file('inputs.safetensors')], ['--out', file('out.safetensors')], ['--grid', '3,4']],
  [['flux-sample'], ['--weights', file('flux.gguf')], ['--inputs', file('inputs.safetensors')], ['--out', file('out.safetensors')], ['--steps', '4'], ['--shift'], ['--software']],
  [['txt2img'], ['--transformer', file('flux.gguf')], ['--t5', file('t5.safetensors')], ['--clip', file('clip.safetensors')], ['--vae', file('vae.safetensors')], ['--prompt', 'a fox'], ['--out', file('out.png')], ['--width', '48']],
  [['story'], [file('tensor-story.json')], ['--weights', file('flux.gguf')], ['--inputs', file('story-inputs.safetensors')], ['--out', file('out.safetensors')]],
  [['story'], [file('story.json')], ['--transformer', file('flux.gguf')], ['--t5', file('t5.safetensors')], ['--clip', file('clip.safetensors')], ['--vae', file('vae.safetensors')], ['--out', file('out')]],
];

const anyValue = fc.constantFrom(...VALUES, ...PATHS);

/** One change to a line's groups (after the command): a value, an option, a group dropped or added, a stray word. */
const edit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('value', 'value', 'option', 'drop', 'add', 'stray' as const),
  option: fc.constantFrom(...OPTIONS),
  value: anyValue,
  stray: token,
});

type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

function edited(groups: string[][], { at, kind, option, value, stray }: Edit): string[][] {
  const i = 1 + (at % (groups.length - 1 || 1));
  const group = groups[i] ?? [];
  switch (kind) {
    case 'value':
      return groups.toSpliced(i, 1, group.length === 2 ? [group[0], value] : [value]);
    case 'option':
      return groups.toSpliced(i, 1, [option, ...group.slice(1)]);
    case 'drop':
      return groups.toSpliced(i, 1);
    case 'add':
      return [...groups, [option, value]];
    default:
      return groups.toSpliced(i, 0, [stray]);
  }
}

/** Mostly a valid command line with one to three changes (or none); now and then words at random. */
const commandLine = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.tuple(fc.constantFrom(...VALID_LINES), fc.array(edit, { maxLength: 3 })).map(([line, edits]) => edits.reduce(edited, line).flat()),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(COMMAND_ENTRIES), '', 'help', '--steps'), fc.array(token, { maxLength: 10 })).map(([command, words]) => [command, ...words]) },
);

describe('npm run cli', () => {
  it.each(VALID_LINES.map((groups) => groups.flat()))('the valid line %s … reaches the GPU', async (...argv) => {
    const { status, err, gpuAsked } = await cliWithoutGpu(argv);
    expect(err).toEqual([noAdapter().message, noAdapter().action]);
    expect([status, gpuAsked]).toEqual([1, true]);
  });

  fuzzTest('random command lines end in exit status 1 or 2 with readable messages, and leave no file', commandLine, async (argv) => {
    const { status, err, gpuAsked } = await cliWithoutGpu(argv);
    expect(status).toBe(gpuAsked ? 1 : 2);
    expect(err.length).toBeGreaterThan(0);
    // The usage line repeats the command's name as typed; the message before it is ours.
    expectReadableMessages({ valid: false, messages: err.filter((line) => !line.startsWith('usage:')) });
    expect(readdirSync(dir).sort()).toEqual(before);
  }, 300);
});
