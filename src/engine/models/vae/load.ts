// Loads a VAE decoder from a model file through the generic loader: one pass over the file puts
// every decoder tensor into host vectors (f32), then each convolution is reordered to the tap-major
// layout, re-encoded in its file type (exact: the values came from that type) and uploaded, and
// the 1-D tensors go up as one f32 buffer. Host memory peaks at the decoder's size in f32
// (198 MB for FLUX.1's); the encoder half of ae.safetensors is never read.

import { quantize } from '../../formats/ggml-blocks';
import type { GpuRuntime } from '../../gpu/runtime';
import { tapMajorWeights, type ConvWeightType } from '../../ops/conv';
import { GpuWeight } from '../../ops/weights';
import { fileTensors, type ModelFile } from '../model-file';
import { HostVector, loadPlacements, uploadHostVector, type LoadProgress, type Placement } from '../tensor-loader';
import { planVaeCheckpoint } from './checkpoint';
import { assembleVaeWeights, vaeVectorLayout, type ConvSpec, type VaeDecoderWeights } from './weights';

export async function loadVaeWeights(gpu: GpuRuntime, file: ModelFile, onProgress?: (progress: LoadProgress) => void): Promise<VaeDecoderWeights> {
  const { config, tensors } = planVaeCheckpoint(file.name, fileTensors(file));
  const vectorLayout = vaeVectorLayout(config);
  const vectors = new HostVector('VAE biases and norm weights', vectorLayout.length);
  const convWeights = new Map<string, HostVector>();
  const placements: Placement[] = [];
  for (const [canonical, tensor] of tensors) {
    const offset = vectorLayout.offsets.get(canonical);
    if (offset !== undefined) {
      placements.push({ source: tensor.name, target: vectors, rows: [0, 1], cols: [0, tensor.shape[0]], at: offset });
      continue;
    }
    // A conv weight [out, in, k, k] (or diffusers' squeezed [out, in]) arrives as rows of its last dimension.
    const cols = tensor.shape[tensor.shape.length - 1];
    const rows = tensor.shape.reduce((a, b) => a * b, 1) / cols;
    const host = new HostVector(canonical, rows * cols);
    convWeights.set(canonical, host);
    placements.push({ source: tensor.name, target: host, rows: [0, rows], cols: [0, cols], at: 0 });
  }
  await loadPlacements(file, placements, onProgress);

  const conv = (spec: ConvSpec): Promise<GpuWeight> => {
    const type = tensors.get(spec.sources[0])!.type as ConvWeightType;
    const columns = spec.kernelSize ** 2 * spec.inChannels;
    const stacked = new Float32Array(spec.outChannels * columns);
    let at = 0;
    for (const name of spec.sources) {
      const values = convWeights.get(name)!.values;
      stacked.set(tapMajorWeights(values, values.length / columns, spec.inChannels, spec.kernelSize), at);
      at += values.length;
      // Host memory goes down as the weights go up.
      convWeights.delete(name);
    }
    return GpuWeight.upload(gpu, spec.label, type, spec.outChannels, columns, quantize(type, stacked));
  };
  return assembleVaeWeights(gpu, config, { conv, vectors: () => uploadHostVector(gpu, vectors) });
}
