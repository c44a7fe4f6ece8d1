// The engine behind EngineApi. Environment-agnostic: the worker passes navigator.gpu, Node
// passes the `webgpu` package's GPU object.

import type {
  EngineApi, EngineErrorInfo, GpuReport, ImageRequest, ModelSet, Picture, ProgressCallback, SelfCheckRequest, SelfCheckResult, StoryRunRequest, StoryRunResult,
} from '../engine-api';
import { PRESETS } from './characonsist/schedule';
import { invalidInput } from './errors';
import { GpuRuntime } from './gpu/runtime';
import { AxpyOp } from './ops/elementwise';
import { SumOp } from './ops/reduce';
import { relativeError } from './reference/compare';
import { axpyReference, sumReference } from './reference/elementwise';
import { ConditioningCache } from './pipeline/conditioning';
import type { LoadProgressEvent, Tokenizers } from './pipeline/models';
import { loadTokenizerSources, modelFiles } from './pipeline/sources';
import { generateStory } from './pipeline/story';
import { txt2img } from './pipeline/txt2img';
import { uniformFloats } from './sampling/philox';

/** Float32 round-off bound for the self-check (sum of up to ~1e6 terms with a fixed tree). */
const SELF_CHECK_TOLERANCE = 1e-5;
const SELF_CHECK_MAX_LENGTH = 1 << 24;

export class Engine implements EngineApi {
  private runtime: Promise<GpuRuntime> | undefined;
  private readonly lostListeners: ((error: EngineErrorInfo) => void)[] = [];
  /** encoded prompts, kept across generations: a re-roll never runs T5 again */
  private readonly conditioning = new ConditioningCache();
  private tokenizers: { key: string; value: Promise<Tokenizers> } | undefined;

  constructor(private readonly gpu: () => GPU | undefined) {}

  async init(): Promise<GpuReport> {
    return (await this.open()).report;
  }

  async selfCheck(request: SelfCheckRequest, onProgress?: ProgressCallback): Promise<SelfCheckResult> {
    const { length, seed } = request;
    if (!Number.isInteger(length) || length < 1 || length > SELF_CHECK_MAX_LENGTH) {
      throw invalidInput(`Self-check length must be an integer in 1..${SELF_CHECK_MAX_LENGTH}, got ${length}.`, 'Pick another length.');
    }
    const gpu = await this.open();
    onProgress?.({ stage: 'compile', done: 0, total: 3 });
    const [axpy, sum] = await Promise.all([AxpyOp.create(gpu), SumOp.create(gpu)]);
    const a = 1.5;
    const x = uniformFloats(seed, 0, length).map((v) => 2 * v - 1);
    const y = uniformFloats(seed, 1, length).map((v) => 2 * v - 1);

    onProgress?.({ stage: 'run', done: 1, total: 3 });
    const started = performance.now();
    const buffers = await Promise.all([
      gpu.memory.uploadNew('self-check x', x),
      gpu.memory.uploadNew('self-check y', y),
      gpu.memory.allocate('self-check axpy', 4 * length),
      gpu.memory.allocate('self-check sum', 4),
    ]);
    const [xBuffer, yBuffer, outBuffer, sumBuffer] = buffers;
    try {
      const rec = gpu.recorder('self-check');
      axpy.record(rec, a, xBuffer, yBuffer, outBuffer, length);
      sum.record(rec, outBuffer, length, sumBuffer);
      void rec.submit();
      const [axpyResult, sumResult] = await Promise.all([gpu.memory.readF32(outBuffer), gpu.memory.readF32(sumBuffer)]);
      const gpuMs = performance.now() - started;

      onProgress?.({ stage: 'verify', done: 2, total: 3 });
      const expected = axpyReference(a, x, y);
      const error = Math.max(relativeError(axpyResult, expected), relativeError([sumResult[0]], [sumReference(expected)]));
      onProgress?.({ stage: 'done', done: 3, total: 3 });
      return {
        adapter: `${gpu.report.vendor} ${gpu.report.architecture}`.trim(),
        a, x, y, axpy: axpyResult, sum: sumResult[0],
        relativeError: error, passed: error <= SELF_CHECK_TOLERANCE, gpuMs,
      };
    } finally {
      buffers.forEach((buffer) => gpu.memory.release(buffer));
    }
  }

  async generateImage(request: ImageRequest, onProgress?: ProgressCallback): Promise<Picture> {
    const gpu = await this.open();
    const { models, ...image } = request;
    const result = await txt2img(gpu, modelFiles(models), await this.tokenizersFor(models), this.conditioning, image, progress(onProgress));
    return { rgba: result.rgba, width: result.width, height: result.height, latents: result.latents[result.latents.length - 1] };
  }

  async generateStory(request: StoryRunRequest, onProgress?: ProgressCallback): Promise<StoryRunResult> {
    const gpu = await this.open();
    const schedule = PRESETS.find((preset) => preset.name === request.schedule);
    if (!schedule) throw invalidInput(`Unknown schedule "${request.schedule}".`, `Choose one of ${PRESETS.map((p) => p.name).join(', ')}.`);
    const { models, ...story } = request;
    return generateStory(gpu, modelFiles(models), await this.tokenizersFor(models), this.conditioning, { ...story, schedule }, progress(onProgress));
  }

  onDeviceLost(listener: (error: EngineErrorInfo) => void): void {
    this.lostListeners.push(listener);
  }

  async dispose(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = undefined;
    if (runtime) (await runtime.catch(() => undefined))?.destroy();
  }

  /** Tokenizers of the model set, built once per set of tokenizer files. */
  private tokenizersFor(models: ModelSet): Promise<Tokenizers> {
    const key = JSON.stringify(models.tokenizers, (_, value) => (value instanceof Blob ? `${value.size}` : value));
    if (this.tokenizers?.key !== key) {
      const value = loadTokenizerSources(models.tokenizers);
      this.tokenizers = { key, value };
      value.catch(() => (this.tokenizers = undefined));
    }
    return this.tokenizers.value;
  }

  private open(): Promise<GpuRuntime> {
    if (!this.runtime) {
      const opening = GpuRuntime.open(this.gpu());
      this.runtime = opening;
      opening.then(
        (runtime) => void runtime.lost.then((error) => this.handleLoss(runtime, error)),
        () => { if (this.runtime === opening) this.runtime = undefined; },
      );
    }
    return this.runtime;
  }

  private handleLoss(runtime: GpuRuntime, error: EngineErrorInfo): void {
    void this.runtime?.then((current) => {
      if (current === runtime) this.runtime = undefined;
    });
    for (const listener of this.lostListeners) listener(error);
  }
}

/** Pipeline progress as the API's (stage, done, total). */
function progress(onProgress: ProgressCallback | undefined): ((event: LoadProgressEvent) => void) | undefined {
  return onProgress && ((event) => onProgress({ stage: event.stage, done: event.done, total: event.total }));
}
