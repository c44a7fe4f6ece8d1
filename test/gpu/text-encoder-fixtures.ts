// Shared by the text-encoder tests: tiny model files as in-memory sources read through the real
// readers, and the float64 reference's view of a checkpoint (each canonical tensor dequantized
// straight from the file, independently of the GPU loader).

import { bytesSource, type RandomAccessSource } from '../../src/engine/formats/byte-source';
import { dequantize } from '../../src/engine/formats/ggml-blocks';
import type { CheckpointPlan } from '../../src/engine/models/checkpoint-plan';
import { openModelFile, type ModelFile } from '../../src/engine/models/model-file';
import type { ReferenceWeights } from '../../src/engine/reference/flux';

export function inMemorySource(name: string, parts: Uint8Array[]): RandomAccessSource {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytesSource(bytes, name);
}

/** The plan of a file and its canonical tensors as float64-reference weights. */
export async function referenceCheckpoint<Config>(source: RandomAccessSource, plan: (file: ModelFile) => CheckpointPlan<Config>): Promise<{ config: Config; weights: ReferenceWeights }> {
  const file = await openModelFile(source);
  const { config, tensors } = plan(file);
  const values = new Map<string, Float32Array>();
  for (const [name, tensor] of tensors) {
    values.set(name, dequantize(tensor.type, await file.readTensor(tensor.name), tensor.shape.reduce((a, b) => a * b, 1)));
  }
  return { config, weights: (name) => values.get(name)! };
}
