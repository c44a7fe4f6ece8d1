import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { planClipFile } from '../../src/engine/models/clip/checkpoint';
import { ClipTextEncoder } from '../../src/engine/models/clip/encoder';
import { loadClipWeights, releaseClipWeights } from '../../src/engine/models/clip/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { clipTextReference } from '../../src/engine/reference/clip';
import { CLIP_MAX_LENGTH } from '../../src/engine/text/clip-tokenizer';
import type { Encoding, TextTokenizer } from '../../src/engine/text/tokenizer';
import { TINY_CLIP, tinyClipFiles } from '../../tools/tiny-models/clip';
import { freshSeed, randomInt } from '../helpers/random';
import { expectEngineError } from '../unit/format-fixtures';
import { loadClip } from '../unit/tokenizer-inputs';
import { testGpu } from './harness';
import { inMemorySource, referenceCheckpoint } from './text-encoder-fixtures';

// Two layers in f32 against float64 with the file's own weights: f32 rounding of 64- and
// 128-term sums, a causal softmax over at most 77 keys and three LayerNorms; observed around
// 1e-6. The brief's bound for the encoders is 1e-4.
const BOUND = 1e-4;

const FILES = tinyClipFiles();


const WORDS = 'a red-haired knight in silver armour rides through the misty forest at dawn while ravens circle above an old stone tower';

let gpu: GpuRuntime;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  [gpu, tokenizer] = await Promise.all([testGpu(), loadClip()]);
});

function fileParts(name: string): Uint8Array[] {
  return FILES.find(([file]) => file === name)![1];
}

/** Random words of the prompt vocabulary through the real tokenizer: 77 ids, EOS at `length`. */
function promptEncoding(seed: number, words: number): Encoding {
  const vocabulary = WORDS.split(' ');
  return tokenizer.encode(Array.from({ length: words }, () => vocabulary[randomInt(seed, 0, vocabulary.length - 1)]).join(' '), CLIP_MAX_LENGTH);
}

async function openEncoder(name: string) {
  const weights = await loadClipWeights(gpu, inMemorySource(name, fileParts(name)));
  return { weights, encoder: await ClipTextEncoder.create(gpu, weights) };
}

describe('CLIP text encoder on the tiny models (src/engine/models/clip)', () => {
  it.each(FILES.map(([name]) => name))('%s through the real loader gives the float64 reference pooled vector (final hidden state at the EOS)', async (name) => {
    const seed = freshSeed(`clip ${name}`);
    const encoding = promptEncoding(seed, randomInt(seed, 3, 30));
    expect(encoding.length).toBeLessThan(CLIP_MAX_LENGTH - 1);
    const { weights, encoder } = await openEncoder(name);
    expect(weights.config).toEqual(TINY_CLIP);
    const pooled = await encoder.encode(encoding);
    encoder.release();
    releaseClipWeights(gpu, weights);

    const { config, weights: reference } = await referenceCheckpoint(inMemorySource(name, fileParts(name)), planClipFile);
    const expected = clipTextReference(config, reference, encoding.ids, encoding.length);
    const error = relativeError(pooled, expected.pooled);
    console.log(`CLIP ${name}, EOS at ${encoding.length}: relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(BOUND);
    // The row read is the EOS row, not the last padding row the reference also computed.
    const lastRow = expected.hidden.subarray((CLIP_MAX_LENGTH - 1) * config.hidden);
    expect(relativeError(pooled, lastRow)).toBeGreaterThan(1e-2);
  });

  it('gives the same bits on every run, and frees what it allocated', async () => {
    const seed = freshSeed('clip determinism');
    const before = gpu.memory.liveBytes;
    const { weights, encoder } = await openEncoder('clip-l-tiny-f32.safetensors');
    const encoding = promptEncoding(seed, 20);
    const first = await encoder.encode(encoding);
    await encoder.encode(promptEncoding(seed, 4));
    const again = await encoder.encode(encoding);
    expect(new Uint32Array(again.buffer)).toEqual(new Uint32Array(first.buffer));
    encoder.release();
    releaseClipWeights(gpu, weights);
    expect(gpu.memory.liveBytes).toBe(before);
  });

  it('refuses an encoding whose EOS lies past the positions, or ids outside the vocabulary', async () => {
    const { weights, encoder } = await openEncoder('clip-l-tiny-f32.safetensors');
    const ids = new Int32Array(80).fill(49407);
    await expectEngineError(encoder.encode({ ids, length: 77 }), /EOS within the first 77/, 'invalid-input');
    await expectEngineError(encoder.encode({ ids: Int32Array.of(49406, 49408, 49407), length: 2 }), /ids in \[0, 49408\)/, 'invalid-input');
    releaseClipWeights(gpu, weights);
  });
});
