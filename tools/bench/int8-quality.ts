// `npm run bench -- --suite int8-quality`: what FLUX's 'fast' precision (int8 activations in the
// blocks' linear layers) costs in accuracy, measured, on full-size FLUX.1-dev with random Q4_0
// weights at 512x512 and 1024x1024 (--quick: the narrow model): per layer, the relative error of
// the int8 kernel's output against the exact kernel's on the same inputs (the activations of an
// exact forward pass, first PROBE_ROWS rows), and one step's velocity from the 'fast' transformer
// against the exact one's. The goal for the velocity: <= 1e-2.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { FluxConfig } from '../../src/engine/models/flux/config';
import type { FluxTransformerOptions, ProbedLinear } from '../../src/engine/models/flux/transformer';
import type { FluxWeights } from '../../src/engine/models/flux/weights';
import { LinearOp } from '../../src/engine/ops/linear';
import { isQuantized } from '../../src/engine/ops/quantize-activations';
import { dense } from '../../src/engine/ops/view';
import type { LinearWeightType } from '../../src/engine/ops/weights';
import { relativeError } from '../../src/engine/reference/compare';
import { prepareStep, runFluxCases, type Case } from './flux';
import type { BenchOptions, BenchSuite } from './suite';
import type { BenchRow } from './table';

/** Output rows compared per probed layer. */
const PROBE_ROWS = 256;

/** The blocks whose layers are probed: the first and last of each kind (both streams of a double block). */
function probedBlocks(config: FluxConfig): string[] {
  const last = { double: config.doubleBlocks - 1, single: config.singleBlocks - 1 };
  return [...new Set([0, last.double].flatMap((n) => [`double ${n} txt`, `double ${n} img`])), ...new Set([`single 0`, `single ${last.single}`])];
}

interface Probe {
  where: string;
  /** the exact and the int8 kernel's outputs [rows, N] */
  exact: GPUBuffer;
  int8: GPUBuffer;
  elements: number;
}

/** Repeats the first call of each (probed block, role) with the exact and the int8 kernel into buffers of its own. */
class LayerProbes {
  readonly probes: Probe[] = [];
  private readonly ops = new Map<string, LinearOp>();

  private constructor(private readonly gpu: GpuRuntime, private readonly blocks: ReadonlySet<string>) {}

  static async create(gpu: GpuRuntime, weights: FluxWeights): Promise<LayerProbes> {
    const probes = new LayerProbes(gpu, new Set(probedBlocks(weights.config)));
    for (const type of weights.types) {
      for (const variant of ['auto', 'int8'] as const) probes.ops.set(`${type} ${variant}`, await LinearOp.create(gpu, { type, variant }));
    }
    return probes;
  }

  readonly probe: NonNullable<FluxTransformerOptions['probeLinear']> = (rec, { role, block, call }: ProbedLinear) => {
    const where = `${block} ${role}`;
    const inBlock = role === 'qkv' || role === 'proj' || role === 'mlp up' || role === 'mlp down';
    // q, k and v are three calls: each is its own layer.
    const name = role === 'qkv' ? `${where} ${'qkv'[this.probes.filter((p) => p.where.startsWith(where)).length]}` : where;
    if (!inBlock || !this.blocks.has(block) || this.probes.some((p) => p.where === name) || isQuantized(call.x)) return;
    const rows = Math.min(call.rows, PROBE_ROWS);
    const n = call.weight.rows;
    const probe = { where: name, exact: this.output(name, rows * n), int8: this.output(name, rows * n), elements: rows * n };
    for (const [variant, target] of [['auto', probe.exact], ['int8', probe.int8]] as const) {
      this.op(call.weight.type, variant).record(rec, { x: call.x, weight: call.weight, bias: call.bias, y: dense(target, n), rows });
    }
    this.probes.push(probe);
  };

  async errors(): Promise<{ where: string; error: number }[]> {
    const read = (buffer: GPUBuffer, elements: number) => this.gpu.memory.readF32(buffer, elements);
    return Promise.all(this.probes.map(async ({ where, exact, int8, elements }) => ({ where, error: relativeError(await read(int8, elements), await read(exact, elements)) })));
  }

  release(): void {
    for (const { exact, int8 } of this.probes) [exact, int8].forEach((buffer) => this.gpu.memory.release(buffer));
  }

  private op(type: LinearWeightType, variant: 'auto' | 'int8'): LinearOp {
    return this.ops.get(`${type} ${variant}`)!;
  }

  private output(name: string, elements: number): GPUBuffer {
    return this.gpu.memory.createUnchecked(`int8 probe ${name}`, 4 * elements);
  }
}

/** The velocity of one forward pass with `options`. */
async function velocity(gpu: GpuRuntime, weights: FluxWeights, testCase: Case, options: FluxTransformerOptions): Promise<Float32Array> {
  const step = await prepareStep(gpu, weights, testCase, options);
  try {
    await step.forward();
    return await step.velocity();
  } finally {
    step.release();
  }
}

async function measureCase(gpu: GpuRuntime, weights: FluxWeights, testCase: Case, options: BenchOptions): Promise<BenchRow[]> {
  const name = `int8 quality ${testCase.name}${options.quick ? ' (quick model)' : ''}`;
  const row = (what: string, error: number): BenchRow => ({ group: 'int8 quality', name: `${name}: ${what}`, kernel: 'fast vs exact', ms: Number.NaN, flops: 0, bytes: 0, note: `relative error ${error.toExponential(2)}` });
  const probes = await LayerProbes.create(gpu, weights);
  try {
    const exact = await velocity(gpu, weights, testCase, { precision: 'exact', probeLinear: probes.probe });
    const fast = await velocity(gpu, weights, testCase, { precision: 'fast' });
    const layers = await probes.errors();
    const velocityError = relativeError(fast, exact);
    options.log(`${name}: velocity ${velocityError.toExponential(2)} (goal <= 1e-2)`);
    for (const { where, error } of layers) options.log(`  ${where.padEnd(24)} ${error.toExponential(2)}`);
    return [row('one step\'s velocity', velocityError), ...layers.map(({ where, error }) => row(where, error))];
  } finally {
    probes.release();
  }
}

export const int8QualitySuite: BenchSuite = {
  name: 'int8-quality',
  description: "FLUX's 'fast' precision (int8 activations) against exact: per-layer and velocity relative errors, random Q4_0 weights",
  async run(gpu, options) {
    if (!gpu.report.wgslLanguageFeatures.includes('packed_4x8_integer_dot_product')) {
      options.log('int8 quality not measured: this adapter has no int8 dot products (packed_4x8_integer_dot_product)');
      return [];
    }
    return runFluxCases(gpu, options, (weights, testCase) => measureCase(gpu, weights, testCase, options));
  },
};
