// The kernel suite: the linear layers and attention of a FLUX transformer block at the issue's
// sizes (or shrunk with --quick), each kernel timed with its baseline in the same run.

import { formatBytes } from '../../src/engine/errors';
import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import { benchAttention, type AttentionShape } from './attention-bench';
import { benchLinear, type LinearShapes } from './linear-bench';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

export interface KernelShapes {
  linear: LinearShapes;
  attention: AttentionShape;
}

/** FLUX.1 at 1024x1024 (4096 image + 512 text tokens), K x N of its block projections. */
export const FULL_SHAPES: KernelShapes = {
  linear: {
    // 1 token: matrix-vector products (the modulation layers run on one vector per step), where
    // the subgroup kernel is meant to run.
    tokens: [1, 1536, 4608],
    layers: [
      { inputs: 3072, outputs: 9216 },
      { inputs: 3072, outputs: 12288 },
      { inputs: 12288, outputs: 3072 },
      { inputs: 3072, outputs: 21504 },
      { inputs: 15360, outputs: 3072 },
    ],
    types: ['Q4_0', 'Q8_0', 'F16'],
  },
  attention: { heads: 24, headDim: 128, queries: 4608, keys: 4608, extras: 4096 },
};

/** The same layers shrunk for SwiftShader: about 100 s on 2 idle cores, half of it compiling shaders. */
export const QUICK_SHAPES: KernelShapes = {
  linear: {
    tokens: [1, 32],
    layers: FULL_SHAPES.linear.layers.map(({ inputs, outputs }) => ({ inputs: inputs / 32, outputs: outputs / 32 })),
    types: FULL_SHAPES.linear.types,
  },
  attention: { heads: 2, headDim: 128, queries: 256, keys: 256, extras: 256 },
};

export async function runKernelBenchmarks(gpu: GpuRuntime, options: BenchOptions, shapes: KernelShapes): Promise<BenchRow[]> {
  const liveAtStart = gpu.memory.liveBytes;
  gpu.memory.resetPeak();
  options.log(`clock: ${gpu.profiler ? 'GPU timestamps per dispatch' : 'wall clock around submit (includes submission overhead)'}`);
  const rows = [...(await benchLinear(gpu, options, shapes.linear)), ...(await benchAttention(gpu, options, shapes.attention))];
  // What stays live is the ops' own scratch (the int8 copy of X), not case buffers.
  options.log(`GPU memory: ${formatBytes(gpu.memory.liveBytes)} live at the end (${formatBytes(liveAtStart)} at the start), peak ${formatBytes(gpu.memory.peakBytes)}`);
  return rows;
}

export const kernelsSuite: BenchSuite = {
  name: 'kernels',
  description: 'linear layers (Q4_0, Q8_0, F16) and attention at FLUX sizes, against baseline kernels',
  run: (gpu, options) => runKernelBenchmarks(gpu, options, options.quick ? QUICK_SHAPES : FULL_SHAPES),
};

/** The linear layers alone (every variant; the f16 one where the adapter has shader-f16). */
export const linearSuite: BenchSuite = {
  name: 'linear',
  description: 'linear layers (Q4_0, Q8_0, F16) at FLUX sizes with every variant the adapter runs, against the baseline kernel',
  run: (gpu, options) => benchLinear(gpu, options, (options.quick ? QUICK_SHAPES : FULL_SHAPES).linear),
};

/** Attention alone (tuning its tiles without the linear layers' minutes). */
export const attentionSuite: BenchSuite = {
  name: 'attention',
  description: 'attention at FLUX sizes with every tile the adapter runs, against the baseline kernel',
  run: (gpu, options) => benchAttention(gpu, options, (options.quick ? QUICK_SHAPES : FULL_SHAPES).attention),
};
