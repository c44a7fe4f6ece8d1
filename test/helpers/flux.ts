// Test helpers for the FLUX transformer: tiny models in memory, and the float64 reference's view
// of a checkpoint (every canonical tensor dequantized and assembled from its file tensors).

import { bytesSource } from '../../src/engine/formats/byte-source';
import { dequantize } from '../../src/engine/formats/ggml-blocks';
import { planFluxCheckpoint, type FluxCheckpointPlan } from '../../src/engine/models/flux/checkpoint';
import { fileTensors, openModelFile, type ModelFile } from '../../src/engine/models/model-file';
import { sourcePieces } from '../../src/engine/models/flux/weights';
import type { ReferenceWeights } from '../../src/engine/reference/flux';

export async function openInMemory(name: string, parts: Uint8Array[]): Promise<{ file: ModelFile; plan: FluxCheckpointPlan }> {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  const file = await openModelFile(bytesSource(bytes, name));
  return { file, plan: planFluxCheckpoint(name, fileTensors(file)) };
}

/** Dequantized canonical tensors, assembled exactly as the loader places them. */
export async function referenceWeights(file: ModelFile, plan: FluxCheckpointPlan): Promise<ReferenceWeights> {
  const values = new Map<string, Float32Array>();
  for (const [name, tensor] of plan.tensors) {
    const cols = tensor.shape.length === 2 ? tensor.shape[1] : 1;
    const out = new Float32Array(tensor.shape[0] * cols);
    for (const piece of sourcePieces(tensor, [0, tensor.shape[0]])) {
      const source = plan.tensors.get(name)!.sources.find((s) => s.file.name === piece.name)!.file;
      const all = dequantize(source.type, await file.readTensor(piece.name), source.shape.reduce((a, b) => a * b, 1));
      out.set(all.subarray(piece.start * cols, piece.end * cols), piece.at * cols);
    }
    values.set(name, out);
  }
  return (name) => values.get(name)!;
}
