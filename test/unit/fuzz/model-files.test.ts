// Fuzz: byte-level mutations of the tiny model files (tools/tiny-models: the real tensor names
// and formats) through the real readers and checkpoint plans, as the engine opens them: from
// random-access sources and from streams of known and unknown length. Every case must end in a
// plan (and, on random access, readable tensor data) or a typed EngineError.

import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { streamSource, type ByteSource } from '../../../src/engine/formats/byte-source';
import { readGguf } from '../../../src/engine/formats/gguf';
import { planClipFile } from '../../../src/engine/models/clip/checkpoint';
import { planFluxCheckpoint } from '../../../src/engine/models/flux/checkpoint';
import { fileTensors, openModelFile, type ModelFile } from '../../../src/engine/models/model-file';
import { planT5File } from '../../../src/engine/models/t5/checkpoint';
import { planVaeCheckpoint } from '../../../src/engine/models/vae/checkpoint';
import { tinyClipSafetensors } from '../../../tools/tiny-models/clip';
import { TINY_STORY_FLUX, tinyFluxGguf } from '../../../tools/tiny-models/flux';
import { tinyT5Gguf, tinyT5Tensors } from '../../../tools/tiny-models/t5';
import { tinyVaeBfl } from '../../../tools/tiny-models/vae';
import { concatParts } from '../format-fixtures';
import { expectReadableMessages, fuzzBytes, fuzzTest, MODEL_FILE_INTERNALS, mutatedBytes, mutatedDocuments, outcomeOfCall, type ByteExample, type MutatedBytes } from './fuzz';

const safetensorsHeaderBytes = (bytes: Uint8Array) => 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));

async function ggufExample(name: string, parts: Uint8Array[]): Promise<ByteExample> {
  const bytes = concatParts(parts);
  const file = await readGguf(source(name, mutatedBytes(bytes, []), 0));
  return { name, bytes, headerBytes: file.dataStart };
}

const safetensorsExample = (name: string, parts: Uint8Array[]): ByteExample => {
  const bytes = concatParts(parts);
  return { name, bytes, headerBytes: safetensorsHeaderBytes(bytes) };
};

/** Random access (choice even), or a stream of pieces of 1..4096 bytes, of known or unknown length. */
function source(name: string, bytes: MutatedBytes, choice: number): ByteSource {
  if (choice % 2 === 0) return { kind: 'random-access', name, size: bytes.size, read: async (offset, length) => bytes.read(offset, length) };
  const piece = 1 + ((choice >>> 2) % 4096);
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.size) return controller.close();
      controller.enqueue(bytes.read(at, piece));
      at += piece;
    },
  });
  return streamSource(stream, name, choice % 4 === 1 ? bytes.size : undefined);
}

type Plan = (file: ModelFile) => unknown;

/** Opens, plans and (on random access) reads the file's first and last tensor, as loading would. */
async function readModel(example: ByteExample, bytes: MutatedBytes, choice: number, plan: Plan): Promise<void> {
  const file = await openModelFile(source(example.name, bytes, choice));
  try {
    plan(file);
    if (choice % 2 !== 0) return;
    const byOffset = [...file.tensors].sort((a, b) => a.offset - b.offset);
    for (const tensor of new Set([byOffset[0], byOffset[byOffset.length - 1]])) if (tensor) await file.readTensor(tensor.name);
  } finally {
    await file.close();
  }
}

const MODELS: { name: string; examples: () => Promise<ByteExample[]> | ByteExample[]; plan: Plan }[] = [
  {
    name: 'FLUX transformer GGUF (Q4_0)',
    examples: async () => [await ggufExample('flux-tiny-q4_0.gguf', tinyFluxGguf({ weights: 'Q4_0', vectors: 'F32' }, TINY_STORY_FLUX))],
    plan: (file) => planFluxCheckpoint(file.name, fileTensors(file)),
  },
  {
    name: 'T5 encoder GGUF (Q8_0)',
    examples: async () => [await ggufExample('t5-tiny-q8_0.gguf', tinyT5Gguf({ weights: 'Q8_0', vectors: 'F16', positionBias: 'F32' }, tinyT5Tensors()))],
    plan: planT5File,
  },
  { name: 'CLIP text encoder safetensors (F16)', examples: () => [safetensorsExample('clip-l-tiny-f16.safetensors', tinyClipSafetensors('F16'))], plan: planClipFile },
  { name: 'VAE safetensors (F16)', examples: () => [safetensorsExample('vae-tiny-f16.safetensors', tinyVaeBfl('F16'))], plan: (file) => planVaeCheckpoint(file.name, fileTensors(file)) },
];

describe('model files', () => {
  for (const model of MODELS) {
    fuzzBytes({ name: model.name, examples: model.examples, read: (example, bytes, choice) => readModel(example, bytes, choice, model.plan), runs: 150 });
  }

  // safetensors headers are JSON: mutate them as documents (fields, types, counts) and write them back.
  const vae = safetensorsExample('vae-tiny-f16.safetensors', tinyVaeBfl('F16'));
  const header = JSON.parse(new TextDecoder().decode(vae.bytes.subarray(8, vae.headerBytes)));
  fuzzTest('safetensors header fields mutated as JSON', fc.tuple(mutatedDocuments([header]), fc.nat()), async ([document, choice]) => {
    // JSON cannot hold every mutated value (BigInts, undefined); what it cannot hold becomes a number or vanishes.
    const text = new TextEncoder().encode(JSON.stringify(document, (_, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)) ?? '');
    const head = new Uint8Array(8 + text.length);
    new DataView(head.buffer).setBigUint64(0, BigInt(text.length), true);
    head.set(text, 8);
    const bytes = concatParts([head, vae.bytes.subarray(vae.headerBytes)]);
    const outcome = await outcomeOfCall(() => readModel(vae, mutatedBytes(bytes, []), choice, (file) => planVaeCheckpoint(file.name, fileTensors(file))));
    expectReadableMessages(outcome, MODEL_FILE_INTERNALS);
    expect(outcome.valid || outcome.messages[0].includes('vae-tiny-f16.safetensors')).toBe(true);
  }, 150);
});
