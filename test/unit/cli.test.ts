// `npm run cli` without a GPU: every malformed command line, input file, story JSON and model file
// is refused with one line naming what is wrong (plus the usage for command-line mistakes) and
// exit status 2, before a GPU is asked for; outputs appear only when a command succeeded.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { OutputFiles } from '../../tools/cli/outputs';
import { writeFileParts } from '../../tools/node-file-source';
import { TINY_CLIP } from '../../tools/tiny-models/clip';
import { cliFolder, cliWithoutGpu, clipWeights, contextDim, f32, vecDim, writeCliFixtures } from './cli-fixtures';
import { CLI_STORY, TENSOR_STORY } from './input-examples';

const file = cliFolder();

beforeAll(() => writeCliFixtures(file));

const flux = (command: 'flux-forward' | 'flux-sample', ...more: string[]) => [command, '--weights', file('flux.gguf'), '--inputs', file('inputs.safetensors'), '--out', file('out.safetensors'), ...more];
const models = () => ['--transformer', file('flux.gguf'), '--t5', file('t5.safetensors'), '--clip', file('clip.safetensors'), '--vae', file('vae.safetensors')];

/** The one line a refused command prints first, and that it asked for no GPU. */
async function refused(...argv: string[]): Promise<string> {
  const { status, err, gpuAsked } = await cliWithoutGpu(argv);
  expect(status).toBe(2);
  expect(gpuAsked).toBe(false);
  return err[0];
}

describe('command lines', () => {
  it.each([
    [['flux-sample', '--bogus'], 'flux-sample: --bogus: is not an option of flux-sample'],
    [['flux-sample', '-s', '4'], 'flux-sample: -s: is not an option of flux-sample'],
    [['flux-sample', '--steps'], 'flux-sample: --steps: needs a value'],
    [['flux-sample', '--steps', '--grid', '2,3'], 'flux-sample: --steps: needs a value'],
    [['flux-sample', '--shift=yes'], 'flux-sample: --shift: takes no value'],
    [['flux-sample', '--steps', '2', '--steps', '3'], 'flux-sample: --steps: is given twice'],
    [['flux-sample'], 'flux-sample: --weights: is missing; --inputs: is missing; --out: is missing'],
    [flux('flux-sample', '--steps', '0'), 'flux-sample: --steps: must be at least 1, got 0'],
    [flux('flux-sample', '--steps', '1.5'), 'flux-sample: --steps: must be a whole number, got 1.5'],
    [flux('flux-sample', '--steps', '1e9'), 'flux-sample: --steps: must be at most 1000, got 1000000000'],
    [flux('flux-sample', '--steps', 'four'), 'flux-sample: --steps: must be a number, got "four"'],
    [flux('flux-sample', '--shift', '--no-shift'), 'flux-sample: --no-shift: contradicts --shift: give one of them'],
    [flux('flux-forward', '--grid', '-3,4'), 'flux-forward: --grid[0]: must be at least 1, got -3'],
    [flux('flux-forward', '--grid', '3,4.5'), 'flux-forward: --grid[1]: must be a whole number, got 4.5'],
    [flux('flux-forward', '--grid', '1,3,4'), 'flux-forward: --grid: must be two numbers ROWS,COLS (e.g. 32,32), got 3 values'],
    [flux('flux-forward', 'extra.json'), 'flux-forward: "extra.json": is not an argument of flux-forward (options start with --)'],
    [flux('flux-forward', '--variant', 'fast'), 'flux-forward: --variant: must be one of auto, f32, subgroups, int8, f16, baseline, direct, got "fast"'],
    [['txt2img', '--prompt', 'x', '--width', '40', '--seed', '-1'], 'txt2img: --transformer: is missing; --t5: is missing; --clip: is missing (and 4 more)'],
    [['txt2img', ...models(), '--prompt', 'x', '--out', 'o.png', '--precision', 'medium'], 'txt2img: --precision: must be one of "exact", "fast", got "medium"'],
    [['story'], 'story: STORY.json: is missing; --out: is missing; --transformer: is missing (and 3 more)'],
    [['story', 'a.json', '--out', 'o', '--weights', 'w', '--t5', 't'], 'story: --inputs: is missing; --t5: belongs to the prompt form of story; give either --transformer --t5 --clip --vae or --weights --inputs'],
  ])('%j', async (argv, message) => {
    const { status, err, gpuAsked } = await cliWithoutGpu(argv);
    expect([status, gpuAsked]).toEqual([2, false]);
    expect(err[0]).toBe(`npm run cli -- ${message}`);
    expect(err[1]).toMatch(new RegExp(`^usage: npm run cli -- ${argv[0]} `));
  });

  it('names the commands when there is none or an unknown one', async () => {
    expect(await refused()).toBe('npm run cli -- needs a command.');
    expect(await refused('sample')).toBe('npm run cli -- "sample": is not a command (commands: flux-forward, flux-sample, txt2img, story).');
  });

  it('refuses a missing input, an output in a missing folder and an output onto an input, before any work', async () => {
    expect(await refused(...flux('flux-forward').toSpliced(2, 1, file('none.gguf')))).toBe(`npm run cli -- flux-forward: --weights: there is no file ${JSON.stringify(file('none.gguf'))}`);
    expect(await refused(...flux('flux-forward').toSpliced(6, 1, file('nowhere/out.safetensors')))).toBe(`npm run cli -- flux-forward: --out: the folder ${JSON.stringify(file('nowhere'))} does not exist (create it first)`);
    expect(await refused(...flux('flux-forward').toSpliced(6, 1, file('inputs.safetensors')))).toMatch(/--out: ".*inputs\.safetensors" is also an input of this command/);
    const dump = await refused('txt2img', ...models(), '--prompt', 'a fox', '--out', file('fox.png'), '--dump-latents', file('missing/latents.safetensors'));
    expect(dump).toBe(`npm run cli -- txt2img: --dump-latents: the folder ${JSON.stringify(file('missing'))} does not exist (create it first)`);
    expect(existsSync(file('fox.png'))).toBe(false);
  });

  it('takes a command line that is right as far as the GPU', async () => {
    for (const argv of [flux('flux-forward', '--grid', '3,4'), flux('flux-sample', '--steps', '4', '--no-shift'), ['txt2img', ...models(), '--prompt', 'a fox', '--out', file('fox.png'), '--precision', 'fast']]) {
      const { status, gpuAsked } = await cliWithoutGpu(argv);
      expect([status, gpuAsked]).toEqual([1, true]);
    }
  });
});

describe('input tensors', () => {
  it('refuses non-finite values, naming the file and the tensor', async () => {
    const message = await refused(...flux('flux-forward').toSpliced(4, 1, file('nan.safetensors')));
    expect(message).toBe(`${file('nan.safetensors')}: tensor "img" holds 768 non-finite values (NaN or infinity), the first at index 0.`);
  });

  it('refuses a wrong shape, a missing tensor and a grid that does not fit the tokens', async () => {
    await writeFileParts(file('short.safetensors'), encodeSafetensors([f32('img', [1, 12, 32]), f32('txt', [1, 6, contextDim])]));
    expect(await refused(...flux('flux-forward').toSpliced(4, 1, file('short.safetensors')))).toBe(`${file('short.safetensors')}: tensor "img" has shape [1, 12, 32], expected [1, *, 64].`);
    await writeFileParts(file('no-y.safetensors'), encodeSafetensors([f32('img', [1, 12, 64]), f32('txt', [1, 6, contextDim])]));
    expect(await refused(...flux('flux-forward').toSpliced(4, 1, file('no-y.safetensors')))).toBe(`${file('no-y.safetensors')}: input tensor "y" is missing.`);
    expect(await refused(...flux('flux-forward', '--grid', '2,5'))).toBe('--grid 2,5 gives 10 image tokens, but the input "img" has 12.');
  });

  it.each([
    [[1], 'holds 1 value; N steps need N + 1 values, from 1 (noise) down to 0'],
    [[1, 0.5, 0.7, 0], 'must run from noise to image: values in [0, 1] that never increase'],
    [[2, 0], 'must run from noise to image: values in [0, 1] that never increase'],
  ])('flux-sample refuses the schedule %j', async (schedule, problem) => {
    const values = { name: 'schedule', dtype: 'F32' as const, shape: [schedule.length], bytes: new Uint8Array(Float32Array.from(schedule).buffer) };
    await writeFileParts(file('schedule.safetensors'), encodeSafetensors([f32('noise', [1, 12, 64]), f32('txt', [1, 6, contextDim]), f32('y', [1, vecDim]), values]));
    expect(await refused(...flux('flux-sample').toSpliced(4, 1, file('schedule.safetensors')))).toBe(`The input tensor "schedule" ${problem}.`);
  });

  it('flux-sample refuses --steps beside a schedule tensor', async () => {
    const schedule = { name: 'schedule', dtype: 'F32' as const, shape: [3], bytes: new Uint8Array(Float32Array.of(1, 0.5, 0).buffer) };
    await writeFileParts(file('schedule3.safetensors'), encodeSafetensors([f32('noise', [1, 12, 64]), f32('txt', [1, 6, contextDim]), f32('y', [1, vecDim]), schedule]));
    const argv = flux('flux-sample', '--steps', '4').toSpliced(4, 1, file('schedule3.safetensors'));
    expect(await refused(...argv)).toMatch(/^--steps, --shift and --no-shift make a schedule, but the inputs hold a "schedule" tensor too/);
    expect((await cliWithoutGpu(argv.slice(0, -2))).gpuAsked).toBe(true);
  });
});

describe('story files', () => {
  const promptStory = (name: string, content: string) => {
    writeFileSync(file(name), content);
    return refused('story', file(name), '--out', file('story-out'), ...models());
  };
  const tensorStory = (name: string, content: object) => {
    writeFileSync(file(name), JSON.stringify(content));
    return refused('story', file(name), '--weights', file('flux.gguf'), '--inputs', file('story-inputs.safetensors'), '--out', file('story-out.safetensors'));
  };

  it.each([
    ['{"mode": "maintain",', 'not valid JSON (line 1, column 21: expected a field name in double quotes, found the end of the text)'],
    ['', 'not valid JSON (line 1, column 1: expected a value, found the end of the text)'],
    [JSON.stringify({ ...CLI_STORY, identity: undefined }), 'identity: is missing'],
    [JSON.stringify({ ...CLI_STORY, schedule: 3 }), 'schedule: must be "dev-50", "schnell-4" or a schedule object (README "The story JSON")'],
    [JSON.stringify({ ...CLI_STORY, schedule: {} }), 'schedule.steps: is missing; schedule.mask_step: is missing; schedule.attn: is missing (and 5 more)'],
    [JSON.stringify({ ...CLI_STORY, frames: ['a frame'] }), 'frames[0]: must be an object, got "a frame"'],
    [JSON.stringify({ ...CLI_STORY, frames: [] }), 'frames: needs at least 1 frames'],
    [JSON.stringify({ ...CLI_STORY, seed: 'abc' }), 'seed: must be a number, got "abc"'],
    [JSON.stringify({ ...CLI_STORY, schedule: { ...CLI_STORY.schedule, mask_step: 50 } }), 'schedule.mask_step: must be below steps (50), got 50'],
    [JSON.stringify({ ...CLI_STORY, schedule: { ...CLI_STORY.schedule, attn: [0, 41] } }), 'schedule.attn: must be [start, end] with 1 <= start <= end <= steps (50), got [0, 41]'],
    [JSON.stringify({ ...CLI_STORY, schedule: { ...CLI_STORY.schedule, interp: [1, 11] } }), 'schedule.interp: must hold 3 step indices [start, decay, end], got 2'],
    ['{"__proto__": {"mode": "maintain"}}', 'mode: is missing; character: is missing; identity: is missing (and 5 more)'],
  ])('refuses a prompt-form story file %#, naming the file and the field', async (content, problem) => {
    expect(await promptStory('bad-story.json', content)).toBe(`${file('bad-story.json')}: ${problem}`);
  });

  it.each([
    [{ ...TENSOR_STORY, share_bg: 'yes' }, 'share_bg: must be true or false, got "yes"'],
    [{ ...TENSOR_STORY, identity: { ...TENSOR_STORY.identity, bg_len: 13 } }, 'identity.bg_len: must not exceed real_len (12), got 13'],
    [{ ...TENSOR_STORY, frames: [{ bg_len: 1, real_len: 2 }] }, 'frames[0].txt: is missing'],
    [{ ...TENSOR_STORY, identity: { ...TENSOR_STORY.identity, rows: 0 } }, 'identity.rows: must be at least 1, got 0'],
  ])('refuses a tensor-form story file %#, naming the file and the field', async (content, problem) => {
    expect(await tensorStory('bad-tensor-story.json', content)).toBe(`${file('bad-tensor-story.json')}: ${problem}`);
  });

  it('refuses tensor-form stories whose tensors do not fit what the JSON says', async () => {
    expect(await tensorStory('missing.json', { ...TENSOR_STORY, frames: [{ txt: 'txt.f9', bg_len: 1, real_len: 2 }] })).toBe(`${file('story-inputs.safetensors')}: input tensor "txt.f9" is missing.`);
    expect(await tensorStory('long.json', { ...TENSOR_STORY, frames: [{ txt: 'txt.f0', bg_len: 1, real_len: 17 }] })).toBe(`${file('long.json')}: frames[0].real_len is 17, but "txt.f0" holds 16 text tokens.`);
    expect(await tensorStory('grid.json', { ...TENSOR_STORY, frames: [{ txt: 'txt.f0', bg_len: 1, real_len: 2, rows: 6, cols: 12 }] })).toBe(
      `${file('grid.json')}: frames[0] has a 6x12 token grid but no noise of its own, and the identity's noise has 80 tokens.`,
    );
  });

  it('takes the README examples as far as the GPU', async () => {
    for (const argv of [['story', file('story.json'), '--out', file('story-out'), ...models()], ['story', file('tensor-story.json'), '--weights', file('flux.gguf'), '--inputs', file('story-inputs.safetensors'), '--out', file('story-out.safetensors')]]) {
      const { status, gpuAsked } = await cliWithoutGpu(argv);
      expect([status, gpuAsked]).toEqual([1, true]);
    }
  });
});

describe('model files', () => {
  it("refuses a CLIP file whose position table is not the tokenizer's 77 positions, before any GPU work", async () => {
    await writeFileParts(file('clip-76.safetensors'), clipWeights({ ...TINY_CLIP, positions: 76 }));
    const { status, err, gpuAsked } = await cliWithoutGpu(['txt2img', ...models().toSpliced(5, 1, file('clip-76.safetensors')), '--prompt', 'a fox', '--out', file('fox.png')]);
    expect([status, gpuAsked]).toEqual([2, false]);
    expect(err).toEqual([`${file('clip-76.safetensors')}: the position table has 76 positions, but the tokenizer gives CLIP 77`, "Choose a CLIP-L text encoder file (for example FLUX's clip_l.safetensors)."]);
  });
});

describe('output files', () => {
  it('appear under their names only when committed', async () => {
    const outputs = new OutputFiles();
    await outputs.write(file('commit.bin'), [Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(existsSync(file('commit.bin'))).toBe(false);
    expect(await outputs.commit()).toEqual([file('commit.bin')]);
    expect([...readFileSync(file('commit.bin'))]).toEqual([1, 2, 3]);
  });

  it('leave no trace when aborted: no new file, an existing one unchanged, a created folder removed', async () => {
    mkdirSync(file('abort'));
    const folder = file('abort');
    writeFileSync(path.join(folder, 'kept.png'), 'before');
    const outputs = new OutputFiles();
    await outputs.write(path.join(folder, 'kept.png'), [Uint8Array.of(9)]);
    outputs.folder(path.join(folder, 'new'));
    await outputs.write(path.join(folder, 'new', 'frame-1.png'), [Uint8Array.of(9)]);
    await outputs.abort();
    expect(readdirSync(folder)).toEqual(['kept.png']);
    expect(readFileSync(path.join(folder, 'kept.png'), 'utf8')).toBe('before');
  });
});
