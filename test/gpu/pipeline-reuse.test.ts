// Compiled pipelines outlive the models that asked for them: the registry is one per device, so
// a second load of the same model, a story's next picture and the next generation compile nothing.

import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { ClipTextEncoder } from '../../src/engine/models/clip/encoder';
import { loadClipWeights, releaseClipWeights } from '../../src/engine/models/clip/weights';
import { FluxSample, FluxScratch, tokensOf } from '../../src/engine/models/flux/activations';
import { FluxTransformer } from '../../src/engine/models/flux/transformer';
import { loadFluxWeights } from '../../src/engine/models/flux/weights';
import { openModelFile } from '../../src/engine/models/model-file';
import { T5Encoder } from '../../src/engine/models/t5/encoder';
import { loadT5Weights, releaseT5Weights } from '../../src/engine/models/t5/weights';
import { VaeDecoder } from '../../src/engine/models/vae/decoder';
import { loadVaeWeights } from '../../src/engine/models/vae/load';
import { tinyClipFiles } from '../../tools/tiny-models/clip';
import { tinyFluxGguf } from '../../tools/tiny-models/flux';
import { tinyT5Files } from '../../tools/tiny-models/t5';
import { tinyVaeBfl } from '../../tools/tiny-models/vae';
import { openInMemory } from '../helpers/flux';
import { freshSeed, randomArray } from '../helpers/random';
import { testGpu } from './harness';
import { inMemorySource } from './text-encoder-fixtures';

/** Runs `use` twice; the second round must create no shader module and no pipeline. */
async function expectSecondRoundCompilesNothing(gpu: GpuRuntime, use: () => Promise<void>): Promise<void> {
  const before = gpu.kernels.creations;
  await use();
  const afterFirst = gpu.kernels.creations;
  await use();
  expect(afterFirst.pipelines).toBeGreaterThan(before.pipelines);
  expect(gpu.kernels.creations).toEqual(afterFirst);
}

describe('compiled pipelines are kept across loads and calls (one registry per device)', () => {
  it('FLUX: loading the weights again and running another forward pass, exact and fast', async () => {
    const gpu = await testGpu();
    const seed = freshSeed('pipeline reuse flux');
    const shape = { textTokens: 5, rows: 2, cols: 3 };
    await expectSecondRoundCompilesNothing(gpu, async () => {
      const { file, plan } = await openInMemory('tiny.gguf', tinyFluxGguf({ weights: 'Q8_0', vectors: 'F32' }));
      const weights = await loadFluxWeights(gpu, file, plan);
      for (const precision of ['exact', 'fast'] as const) {
        const transformer = await FluxTransformer.create(gpu, weights, { precision });
        const scratch = await FluxScratch.create(gpu, plan.config, tokensOf(shape));
        const sample = await FluxSample.create(gpu, plan.config, 'reuse', shape, randomArray(seed, shape.textTokens * plan.config.contextDim), randomArray(seed, plan.config.vecDim));
        await transformer.forward(sample, scratch, 0.3, 3.5);
        await gpu.idle();
        sample.release();
        scratch.release();
      }
      weights.release();
    });
  });

  it('VAE: a second load and decoder, as for each picture of a story', async () => {
    const gpu = await testGpu();
    const latents = randomArray(freshSeed('pipeline reuse vae'), 2 * 64);
    await expectSecondRoundCompilesNothing(gpu, async () => {
      const weights = await loadVaeWeights(gpu, await openModelFile(inMemorySource('ae.safetensors', tinyVaeBfl('F16'))));
      const decoder = await VaeDecoder.create(gpu, weights);
      const [tokens, rgba] = await Promise.all([gpu.memory.uploadNew('latents', latents), gpu.memory.allocate('rgba', 4 * 256 * 2)]);
      await decoder.decode({ buffer: tokens, offset: 0, stride: 64 }, { rows: 1, cols: 2 }, { rgba: { buffer: rgba, offset: 0 } });
      [tokens, rgba].forEach((buffer) => gpu.memory.release(buffer));
      decoder.release();
      weights.release();
    });
  });

  it('T5 and CLIP: loading the encoders again and encoding another prompt', async () => {
    const gpu = await testGpu();
    const [t5Name, t5Parts] = tinyT5Files()[0];
    const [clipName, clipParts] = tinyClipFiles()[0];
    await expectSecondRoundCompilesNothing(gpu, async () => {
      const t5Weights = await loadT5Weights(gpu, inMemorySource(t5Name, t5Parts));
      const t5 = await T5Encoder.create(gpu, t5Weights);
      await t5.encode(Int32Array.from({ length: 16 }, (_, i) => (i < 9 ? 100 + i : 0)));
      t5.release();
      releaseT5Weights(gpu, t5Weights);
      const clipWeights = await loadClipWeights(gpu, inMemorySource(clipName, clipParts));
      const clip = await ClipTextEncoder.create(gpu, clipWeights);
      await clip.encode({ ids: Int32Array.from({ length: 77 }, (_, i) => (i < 6 ? 400 + i : 49407)), length: 5 });
      clip.release();
      releaseClipWeights(gpu, clipWeights);
    });
  });
});
