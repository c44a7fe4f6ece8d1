// The CLI commands end to end on tiny models written to a temporary folder, run as a person would
// (a command line through runCli, the same code as `npm run cli`): flux-forward against the
// float64 reference, txt2img to a PNG, a tensor-level story against the reference, a prompt-level
// story in each mode, and a run that fails on the GPU side leaving no file behind.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/engine/formats/safetensors';
import { encodeSafetensors } from '../../src/engine/formats/safetensors-writer';
import { fluxPositionIds } from '../../src/engine/ops/rope-table';
import { relativeError } from '../../src/engine/reference/compare';
import { fluxForwardReference } from '../../src/engine/reference/flux';
import { runCli } from '../../tools/cli/main';
import { InputTensors } from '../../tools/cli/tensors';
import { nodeFileSource, writeFileParts } from '../../tools/node-file-source';
import { tinyClipFiles } from '../../tools/tiny-models/clip';
import { tinyFluxGguf } from '../../tools/tiny-models/flux';
import { tinyT5Files } from '../../tools/tiny-models/t5';
import { tinyVaeBfl, TINY_STORY_VAE } from '../../tools/tiny-models/vae';
import { freshSeed, randomArray } from '../helpers/random';
import { CONFIG, frameOf, identityWithMixedMask, otherGrid, run, story, TENSORS, WEIGHTS } from '../helpers/story-fixtures';
import { testGpu } from './harness';

const dir = mkdtempSync(path.join(tmpdir(), 'characonsist-cli-'));
const file = (name: string) => path.join(dir, name);
const models = { transformer: file('flux.gguf'), t5: file('t5.gguf'), clip: file('clip.safetensors'), vae: file('vae.safetensors') };
/** The same transformer in F32, for comparisons with the float64 reference on the same weights. */
const exactTransformer = file('flux-f32.gguf');
/** A schnell transformer (no guidance embedder): T5 reads at most 256 tokens for it. */
const schnellTransformer = file('flux-schnell.gguf');
const modelOptions = ['--transformer', models.transformer, '--t5', models.t5, '--clip', models.clip, '--vae', models.vae];

/** `npm run cli -- …argv` on the tests' GPU; its exit status and what it printed. */
async function cli(...argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const gpu = await testGpu();
  const status = await runCli(argv, { openGpu: async () => ({ gpu, close: () => undefined }), out: (line) => out.push(line), err: (line) => err.push(line) });
  return { status, out, err };
}

async function succeeds(...argv: string[]): Promise<string[]> {
  const { status, out, err } = await cli(...argv);
  expect(err).toEqual([]);
  expect(status).toBe(0);
  return out;
}

beforeAll(async () => {
  const pick = (files: [string, Uint8Array[]][], name: string) => files.find(([fileName]) => fileName === name)![1];
  await writeFileParts(models.transformer, tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, CONFIG, TENSORS));
  await writeFileParts(exactTransformer, tinyFluxGguf({ weights: 'F32', vectors: 'F32' }, CONFIG, TENSORS));
  const schnell = new Map([...TENSORS].filter(([name]) => !name.startsWith('guidance_in.')));
  await writeFileParts(schnellTransformer, tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, { ...CONFIG, guidance: false }, schnell));
  await writeFileParts(models.t5, pick(tinyT5Files(), 't5-tiny-q8_0.gguf'));
  await writeFileParts(models.clip, pick(tinyClipFiles(), 'clip-l-tiny-f16.safetensors'));
  await writeFileParts(models.vae, tinyVaeBfl('F16', TINY_STORY_VAE));
});

const f32 = (name: string, shape: number[], values: Float32Array) => ({ name, dtype: 'F32' as const, shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });

/** Width, height and every pixel of an 8-bit RGBA PNG, decoded here (Node's zlib; all five row filters of the PNG standard). */
function readPng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [width, height] = [view.getUint32(16), view.getUint32(20)];
  const data: Uint8Array[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    if (new TextDecoder().decode(bytes.subarray(at + 4, at + 8)) === 'IDAT') data.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const rows = inflateSync(Buffer.concat(data));
  const stride = 4 * width;
  const rgba = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = rows[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const left = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const upLeft = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      const p = left + up - upLeft;
      const paeth = Math.abs(p - left) <= Math.abs(p - up) && Math.abs(p - left) <= Math.abs(p - upLeft) ? left : Math.abs(p - up) <= Math.abs(p - upLeft) ? up : upLeft;
      const predicted = [0, left, up, (left + up) >> 1, paeth][filter];
      rgba[y * stride + x] = (rows[y * (stride + 1) + 1 + x] + predicted) & 0xff;
    }
  }
  return { width, height, rgba };
}

describe('npm run cli', () => {
  it('flux-forward writes the velocity the float64 reference computes', async () => {
    const seed = freshSeed('cli flux-forward');
    const [rows, cols, textTokens] = [3, 4, 6];
    const inputs = { img: randomArray(seed, rows * cols * 64), txt: randomArray(seed, textTokens * CONFIG.contextDim), y: randomArray(seed, CONFIG.vecDim) };
    await writeFileParts(file('forward-in.safetensors'), encodeSafetensors([
      f32('img', [1, rows * cols, 64], inputs.img), f32('txt', [1, textTokens, CONFIG.contextDim], inputs.txt), f32('y', [1, CONFIG.vecDim], inputs.y),
      f32('timesteps', [1], Float32Array.of(0.55)),
    ]));
    const out = file('forward-out.safetensors');
    await succeeds('flux-forward', '--weights', exactTransformer, '--inputs', file('forward-in.safetensors'), '--out', out, '--grid', `${rows},${cols}`, '--software');
    const pred = await (await InputTensors.open(out)).get('pred', [1, rows * cols, 64]);
    const ids = fluxPositionIds(textTokens, rows, cols);
    const expected = fluxForwardReference(CONFIG, WEIGHTS, { ...inputs, imgIds: ids.subarray(3 * textTokens), txtIds: ids.subarray(0, 3 * textTokens), timestep: 0.55, guidance: 3.5 });
    expect(relativeError(pred.values, expected)).toBeLessThan(1e-4);
  });

  it('txt2img writes a PNG of the requested size, and the embeddings and latents on request', async () => {
    const out = file('fox.png');
    const written = await succeeds(
      'txt2img', ...modelOptions, '--prompt', 'a red fox in the snow', '--out', out, '--width', '48', '--height', '32', '--steps', '2', '--seed', '3',
      '--max-sequence-length', '24', '--dump-embeddings', file('fox-embeddings.safetensors'), '--dump-latents', file('fox-latents.safetensors'),
    );
    expect(written.filter((line) => line.startsWith('wrote '))).toHaveLength(3);
    const png = readPng(readFileSync(out));
    expect([png.width, png.height]).toEqual([48, 32]);
    expect(png.rgba.filter((_, i) => i % 4 === 3).every((alpha) => alpha === 255)).toBe(true);
    expect(new Set(png.rgba.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(1);
    const embeddings = await InputTensors.open(file('fox-embeddings.safetensors'));
    // get() refuses any other shape, and non-finite values.
    await embeddings.get('txt', [1, 24, CONFIG.contextDim]);
    await embeddings.get('y', [1, CONFIG.vecDim]);
    await (await InputTensors.open(file('fox-latents.safetensors'))).get('latents', [3, 1, 6, 64]);
  });

  it('story on tensors writes what the float64 reference computes (a scene on another grid)', async () => {
    const seed = freshSeed('cli tensor story');
    // One draw, not a covering one: this checks the command's reading and writing (what the engine
    // computes is covered by characonsist.test.ts).
    const drawn = identityWithMixedMask(seed).identity;
    const grid = otherGrid(seed);
    const chosen = story(drawn, [frameOf(seed, drawn, { updateBg: true, newPlace: true, grid }), frameOf(seed, drawn, { grid })], true);
    const cached = run(chosen);
    const { identity, frames, schedule } = chosen;
    const tensors = [
      f32('txt.id', [1, identity.textTokens, CONFIG.contextDim], identity.text), f32('vec', [1, CONFIG.vecDim], identity.pooled),
      f32('noise', [1, identity.rows * identity.cols, 64], identity.noise),
      ...frames.flatMap((frame, k) => [
        f32(`txt.f${k}`, [1, frame.textTokens, CONFIG.contextDim], frame.text), f32(`vec.f${k}`, [1, CONFIG.vecDim], frame.pooled),
        f32(`noise.f${k}`, [1, frame.rows * frame.cols, 64], frame.noise),
      ]),
    ];
    await writeFileParts(file('story-in.safetensors'), encodeSafetensors(tensors));
    const json = {
      schedule: { steps: schedule.steps, mask_step: schedule.maskStep, attn: schedule.attention, interp: [schedule.merge.start, schedule.merge.decay, schedule.merge.end], interp_weight: schedule.merge.weight, sim_thr: schedule.similarityThreshold, shift: schedule.shift, guidance: schedule.guidance },
      share_bg: true,
      use_interpolate: true,
      identity: { txt: 'txt.id', vec: 'vec', noise: 'noise', bg_len: identity.bgLen, real_len: identity.realLen, rows: identity.rows, cols: identity.cols },
      frames: frames.map((frame, k) => ({ txt: `txt.f${k}`, vec: `vec.f${k}`, noise: `noise.f${k}`, bg_len: frame.bgLen, real_len: frame.realLen, rows: frame.rows, cols: frame.cols, update_bg: frame.updateBg })),
    };
    writeFileSync(file('story.json'), JSON.stringify(json));
    const out = file('story-out.safetensors');
    await succeeds('story', file('story.json'), '--weights', exactTransformer, '--inputs', file('story-in.safetensors'), '--out', out);

    const output = await readSafetensors(await nodeFileSource(out));
    const read = async (name: string) => Array.from(new Uint8Array((await output.readTensor(name)).buffer.slice(0)));
    const ints = async (name: string) => Array.from(new Int32Array((await output.readTensor(name)).slice().buffer));
    const floats = async (name: string) => new Float32Array((await output.readTensor(name)).slice().buffer);
    expect(await read('id.mask')).toEqual(Array.from(cached.identity.mask));
    expect(relativeError(await floats('id.latents'), cached.identity.latents[schedule.steps])).toBeLessThan(1e-4);
    for (const [k, expected] of cached.frames.entries()) {
      expect(await read(`frame${k}.mask`)).toEqual(Array.from(expected.mask));
      expect(await read(`frame${k}.pre.mask`)).toEqual(Array.from(expected.preRun.mask));
      expect(await ints(`frame${k}.match_idx`)).toEqual(Array.from(expected.matches.bestMatch));
      expect(await ints(`frame${k}.valid_frame_idx`)).toEqual(Array.from(expected.matches.frameTokens));
      expect(await ints(`frame${k}.valid_id_idx`)).toEqual(Array.from(expected.matches.identityTokens));
      expect(relativeError(await floats(`frame${k}.match_sim`), expected.matches.bestSimilarity)).toBeLessThan(1e-5);
      expect(relativeError(await floats(`frame${k}.latents`), expected.latents[schedule.steps])).toBeLessThan(1e-4);
    }
    const events = JSON.parse(readFileSync(file('story-out.events.json'), 'utf8')).events as object[];
    expect(new Set(events.map((e) => JSON.stringify(e)))).toEqual(new Set(cached.events.map((e) => JSON.stringify(e))));
  });

  // One mode (the one with the most to it): the modes differ only in the story the pipeline
  // builds, which story-generation.test.ts and the studio's e2e tests cover.
  it('story on prompts completes in scenes mode with images, masks and story.json', async () => {
    const out = path.join(dir, 'story-scenes');
    const request = {
      mode: 'scenes',
      character: 'a knight with a red cloak',
      identity: { environment: 'In a misty forest,', action: 'stands still.' },
      frames: [
        { environment: 'In a misty forest,', action: 'draws a sword.' },
        { environment: 'On a stone bridge,', action: 'rides a horse.', width: 48 },
      ],
      width: 32,
      height: 32,
      seed: 5,
      maxSequenceLength: 24,
      schedule: { steps: 4, mask_step: 1, attn: [1, 3], interp: [1, 2, 3], interp_weight: 0.8, sim_thr: 0.5, shift: true, guidance: 3.5 },
    };
    writeFileSync(`${out}.json`, JSON.stringify(request));
    await succeeds('story', `${out}.json`, '--out', out, ...modelOptions);
    const summary = JSON.parse(readFileSync(path.join(out, 'story.json'), 'utf8'));
    expect(summary.frames).toHaveLength(2);
    expect(summary.frames[0].prompt).toBe('In a misty forest, a knight with a red cloak draws a sword.');
    for (const [name, width] of [['identity.png', 32], ['frame-1.png', 32], ['frame-2.png', 48], ['frame-2-mask.png', 48]] as const) {
      expect(readPng(readFileSync(path.join(out, name))).width).toBe(width);
    }
    for (const [k, frame] of (summary.frames as { flags: { emptyMask: boolean } }[]).entries()) {
      const mask = readPng(readFileSync(path.join(out, `frame-${k + 1}-mask.png`))).rgba;
      expect(frame.flags.emptyMask).toBe(!mask.some((value, i) => i % 4 === 0 && value === 255));
    }
  });

  it('a run that fails on the GPU side leaves no file behind and an existing output unchanged', async () => {
    const out = file('kept.png');
    writeFileSync(out, 'an earlier picture');
    const before = readdirSync(dir).sort();
    // 300 T5 tokens pass the command line (at most 512) but not a schnell transformer (256), found once it runs.
    const { status, err } = await cli('txt2img', ...modelOptions.slice(2), '--transformer', schnellTransformer, '--prompt', 'a fox', '--out', out, '--width', '32', '--height', '32',
      '--max-sequence-length', '300', '--dump-latents', file('kept-latents.safetensors'));
    expect(status).toBe(1);
    expect(err[0]).toMatch(/A text length of 300 tokens is not possible for this model/);
    expect(readFileSync(out, 'utf8')).toBe('an earlier picture');
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
