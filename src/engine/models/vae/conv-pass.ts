// Runs convolutions over banded tensors band by band: a pass reads one input tensor and writes one
// or more outputs (a ResnetBlock's conv1 and nin_shortcut read the same input). Bands are the rows
// where no input or output part boundary falls, so each band reads one input part (with its halo)
// and writes one part of each output. Every band is its own submission (Submissions keeps two in
// flight), so parts the pass frees (its input, when this is the input's last reader) are really
// freed before the next output parts are allocated, and peak memory follows the live rows.

import type { GpuRuntime } from '../../gpu/runtime';
import type { ConvOp, ConvWeightType } from '../../ops/conv';
import { neededInputRows } from '../../ops/conv';
import type { VectorView } from '../../ops/view';
import type { BandedTensor, TensorPart } from './banded-tensor';
import type { Submissions } from './submissions';
import type { ConvWeights } from './weights';

export interface PassStep {
  conv: ConvWeights;
  output: BandedTensor;
  /** GroupNorm (scale then shift per input channel, from GroupNormOp), then SiLU if asked */
  prologue?: { affine: VectorView; silu: boolean };
  /** output += convolution: the ResnetBlock's residual, already in `output` */
  accumulate?: boolean;
}

export interface ConvPass {
  input: BandedTensor;
  steps: readonly PassStep[];
  /** nearest x2 upsampling of the input (every step) */
  upsample?: boolean;
  /** free each input part once no later band reads it (this pass is the input's last reader) */
  consumeInput?: boolean;
}

export async function runConvPass(gpu: GpuRuntime, ops: ReadonlyMap<ConvWeightType, ConvOp>, submissions: Submissions, pass: ConvPass): Promise<void> {
  const scale = pass.upsample ? 2 : 1;
  const { input } = pass;
  const bands = bandEdges(pass, scale);
  for (let b = 0; b + 1 < bands.length; b++) {
    const [firstRow, endRow] = [bands[b], bands[b + 1]];
    const inputPart = input.partOf(Math.floor(firstRow / scale));
    const rec = gpu.recorder(`VAE convolutions, rows ${firstRow}..${endRow - 1}`);
    for (const step of pass.steps) {
      const outputPart = step.output.partOf(firstRow);
      await step.output.allocate(outputPart);
      const kernelSize = step.conv.kernelSize;
      const [first, last] = neededInputRows({ firstRow, rows: endRow - firstRow }, kernelSize, scale, input.size.height);
      ops.get(step.conv.weight.type as ConvWeightType)!.record(rec, {
        weight: step.conv.weight,
        kernelSize,
        bias: step.conv.bias,
        input: { size: input.size, band: input.band(inputPart, first, last - first + 1) },
        upsample: pass.upsample,
        prologue: step.prologue,
        output: step.output.band(outputPart, firstRow, endRow - firstRow),
        residual: step.accumulate ? 'accumulate' : undefined,
      });
    }
    if (pass.consumeInput && isLastBandOf(inputPart, endRow, scale)) rec.afterSubmit(() => input.release(inputPart));
    await submissions.submit(rec);
  }
  const rec = gpu.recorder('VAE halo exchange');
  for (const output of new Set(pass.steps.map((step) => step.output))) output.recordHaloExchange(rec);
  await submissions.submit(rec);
}

/** Band boundaries in output rows: 0, every input part start (scaled) and output part start, the height. */
function bandEdges(pass: ConvPass, scale: number): number[] {
  const height = pass.input.size.height * scale;
  const edges = new Set([0, height, ...pass.input.parts.map((part) => part.first * scale)]);
  for (const step of pass.steps) step.output.parts.forEach((part) => edges.add(part.first));
  return [...edges].sort((a, b) => a - b);
}

/** Whether the band ending at output row `endRow` is the last to read `part`: the next band reads the next part. */
function isLastBandOf(part: TensorPart, endRow: number, scale: number): boolean {
  return endRow === (part.first + part.rows) * scale;
}
