import { beforeAll, describe, expect, it } from 'vitest';
import { encodeGguf } from '../../src/engine/formats/gguf-writer';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { planT5File } from '../../src/engine/models/t5/checkpoint';
import { T5Encoder } from '../../src/engine/models/t5/encoder';
import { t5BlockTensor } from '../../src/engine/models/t5/names';
import { loadT5Weights, releaseT5Weights } from '../../src/engine/models/t5/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { t5EncoderReference } from '../../src/engine/reference/t5';
import type { TextTokenizer } from '../../src/engine/text/tokenizer';
import { TINY_T5, tinyT5Files, tinyT5Tensors } from '../../tools/tiny-models/t5';
import { freshSeed, randomInt } from '../helpers/random';
import { loadT5, randomText } from '../unit/tokenizer-inputs';
import { expectEngineError } from '../unit/format-fixtures';
import { testGpu } from './harness';
import { inMemorySource, referenceCheckpoint } from './text-encoder-fixtures';

// Two blocks in f32 against float64 with the file's own (dequantized) weights: f32 rounding of
// 128- and 256-term sums, softmax over up to 256 keys with scores of a few units, and three RMS
// norms; observed around 1e-6. The brief's bound for the encoders is 1e-4.
const BOUND = 1e-4;

const FILES = tinyT5Files();

const WORDS = 'a red haired knight in silver armour rides through the misty forest at dawn while ravens circle above an old stone tower ';

let gpu: GpuRuntime;
let tokenizer: TextTokenizer;

beforeAll(async () => {
  [gpu, tokenizer] = await Promise.all([testGpu(), loadT5()]);
});

/** A prompt of random words through the real tokenizer, padded with 0 to `length` as FLUX does. */
function promptIds(seed: number, length: number): Int32Array {
  const words = WORDS.trim().split(' ');
  const text = Array.from({ length: randomInt(seed, 5, 40) }, () => words[randomInt(seed, 0, words.length - 1)]).join(' ') + randomText(seed, '.,!?', 1);
  return tokenizer.encode(text, length).ids;
}

async function encodeFile(name: string, ids: Int32Array): Promise<{ gpuOutput: Float32Array; expected: Float64Array }> {
  const parts = FILES.find(([file]) => file === name)![1];
  const weights = await loadT5Weights(gpu, inMemorySource(name, parts));
  const encoder = await T5Encoder.create(gpu, weights);
  const gpuOutput = await encoder.encode(ids);
  encoder.release();
  releaseT5Weights(gpu, weights);
  const { config, weights: reference } = await referenceCheckpoint(inMemorySource(name, parts), planT5File);
  return { gpuOutput, expected: t5EncoderReference(config, reference, ids) };
}

describe('T5 encoder on the tiny models (src/engine/models/t5)', () => {
  it.each([
    ['t5-tiny-q8_0.gguf', 97],
    ['t5-tiny-f16.gguf', 45],
    ['t5-tiny-f32.safetensors', 33],
  ])('%s through the real loader matches the float64 reference on %i padded tokenizer ids', async (name, length) => {
    const ids = promptIds(freshSeed(`t5 ${name}`), length);
    expect(ids.some((id) => id > 1000)).toBe(true);
    const { gpuOutput, expected } = await encodeFile(name, ids);
    const error = relativeError(gpuOutput, expected);
    console.log(`T5 ${name}, ${length} tokens: relative error ${error.toExponential(2)}`);
    expect(error).toBeLessThan(BOUND);
  });

  it('gives the same bits on every run, and frees what it allocated', async () => {
    const name = 't5-tiny-q8_0.gguf';
    const ids = promptIds(freshSeed('t5 determinism'), 50);
    const before = gpu.memory.liveBytes;
    const weights = await loadT5Weights(gpu, inMemorySource(name, FILES.find(([file]) => file === name)![1]));
    const encoder = await T5Encoder.create(gpu, weights);
    const first = await encoder.encode(ids);
    await encoder.encode(promptIds(freshSeed('t5 other prompt'), 20));
    const again = await encoder.encode(ids);
    expect(new Uint32Array(again.buffer)).toEqual(new Uint32Array(first.buffer));
    encoder.release();
    releaseT5Weights(gpu, weights);
    expect(gpu.memory.liveBytes).toBe(before);
  });
});

describe('T5 encoder files the engine refuses', () => {
  it("refuses a K-quant file before allocating anything, naming the type and the file to choose", async () => {
    const tensors = [...tinyT5Tensors({ ...TINY_T5, vocab: 100 })].map(([name, { shape, values }]) => {
      // ffn_down rows (256 values) are one Q4_K block each; the bytes are never decoded.
      const kQuant = name === t5BlockTensor(1, 'ffn_down');
      return { name, ne: [...shape].reverse(), type: kQuant ? ('Q4_K' as const) : ('F32' as const), bytes: kQuant ? new Uint8Array(shape[0] * 144) : new Uint8Array(values.buffer) };
    });
    const file = encodeGguf({ metadata: [['general.architecture', { type: 'string', value: 't5encoder' }]], tensors });
    const before = gpu.memory.liveBytes;
    const error = await expectEngineError(loadT5Weights(gpu, inMemorySource('t5-v1_1-xxl-encoder-Q4_K_M.gguf', file)), /enc\.blk\.1\.ffn_down\.weight is Q4_K, a K-quant/);
    expect(error.action).toMatch(/t5-v1_1-xxl-encoder-Q8_0\.gguf/);
    expect(gpu.memory.liveBytes).toBe(before);
  });

  it('refuses ids outside the vocabulary', async () => {
    const name = 't5-tiny-f16.gguf';
    const weights = await loadT5Weights(gpu, inMemorySource(name, FILES.find(([file]) => file === name)![1]));
    const encoder = await T5Encoder.create(gpu, weights);
    await expectEngineError(encoder.encode(Int32Array.of(5, TINY_T5.vocab, 1)), /token ids/, 'invalid-input');
    releaseT5Weights(gpu, weights);
  });
});
