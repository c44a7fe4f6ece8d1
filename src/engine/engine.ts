// The engine behind EngineApi. Environment-agnostic: the worker passes navigator.gpu, Node
// passes the `webgpu` package's GPU object.

import type {
  EngineApi, EngineErrorInfo, GpuReport, ImageRequest, ModelSet, Picture, ProgressCallback, SelfCheckRequest, SelfCheckResult, StoryRunRequest, StoryRunResult,
  StoryUpdateCallback, CapabilityRequest, CapabilityVerdict, CatalogFile, DownloadProgressCallback, ModelFileCheckRequest, ModelFileReport, StorageReport, StoredModelFile,
} from '../engine-api';
import { PRESETS } from './characonsist/schedule';
import { EngineError, invalidInput } from './errors';
import { checkedRequest } from './request-checks';
import { ImageRequestSchema, SelfCheckRequestSchema, StoryRunRequestSchema, TokenCountRequestSchema } from '../schema/request';
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
import { ModelStore } from './store/model-store';

/** Float32 round-off bound for the self-check (sum of up to ~1e6 terms with a fixed tree). */
const SELF_CHECK_TOLERANCE = 1e-5;

export class Engine implements EngineApi {
  private runtime: Promise<GpuRuntime> | undefined;
  private readonly lostListeners: ((error: EngineErrorInfo) => void)[] = [];
  /** encoded prompts, kept across generations: a re-roll never runs T5 again */
  private readonly conditioning = new ConditioningCache();
  private tokenizers: { key: string; value: Promise<Tokenizers> } | undefined;
  /** catalog files in the browser's storage: downloads, checks, capability verdicts (store/model-store.ts) */
  private readonly store = new ModelStore();
  /** the generation running now: cancel() aborts it and waits until it has let go of the GPU */
  private running: { controller: AbortController; settled: Promise<unknown> } | undefined;
  /** generations run one after another */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly gpu: () => GPU | undefined) {}

  async init(): Promise<GpuReport> {
    return (await this.open()).report;
  }

  async selfCheck(request: SelfCheckRequest, onProgress?: ProgressCallback): Promise<SelfCheckResult> {
    const { length, seed } = checkedRequest(SelfCheckRequestSchema, request, 'the self-check');
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
    request = checkedRequest(ImageRequestSchema, request, 'the image request');
    const { models, ...image } = request;
    const tokenizers = await this.tokenizersFor(models.tokenizers);
    const result = await this.generation(async (gpu) => txt2img(gpu, modelFiles(models, await this.store.lookupFor(models)), tokenizers, this.conditioning, image, progress(onProgress)));
    return { rgba: result.rgba, width: result.width, height: result.height, latents: result.latents[result.latents.length - 1] };
  }

  async generateStory(request: StoryRunRequest, onUpdate?: StoryUpdateCallback): Promise<StoryRunResult> {
    request = checkedRequest(StoryRunRequestSchema, request, 'the story');
    const schedule = PRESETS.find((preset) => preset.name === request.schedule);
    if (!schedule) throw invalidInput(`Unknown schedule "${request.schedule}".`, `Choose one of ${PRESETS.map((p) => p.name).join(', ')}.`);
    const { models, ...story } = request;
    const tokenizers = await this.tokenizersFor(models.tokenizers);
    return this.generation(async (gpu) => generateStory(gpu, modelFiles(models, await this.store.lookupFor(models)), tokenizers, this.conditioning, { ...story, schedule }, onUpdate));
  }

  async cancel(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.controller.abort(new EngineError('cancelled', 'The generation was cancelled.', 'Pictures already finished are kept; generate again to make the rest.'));
    await running.settled;
  }

  async countTokens(tokenizers: ModelSet['tokenizers'], texts: string[]): Promise<number[]> {
    const request = checkedRequest(TokenCountRequestSchema, { tokenizers, texts }, 'the token count');
    const { t5 } = await this.tokenizersFor(request.tokenizers);
    return request.texts.map((text) => t5.textIds(text).length);
  }

  downloadModel(file: CatalogFile, onProgress?: DownloadProgressCallback): Promise<StoredModelFile> {
    return this.store.download(file, onProgress);
  }

  pauseDownload(fileId: string): Promise<void> {
    return this.store.pause(fileId);
  }

  cancelDownload(fileId: string): Promise<void> {
    return this.store.cancel(fileId);
  }

  deleteStoredModel(fileId: string): Promise<void> {
    return this.store.delete(fileId);
  }

  listStoredModels(): Promise<StoredModelFile[]> {
    return this.store.list();
  }

  freeStorage(keep: string[]): Promise<number> {
    return this.store.freeStorage(keep);
  }

  storageReport(): Promise<StorageReport> {
    return this.store.storageReport();
  }

  checkModelFile(request: ModelFileCheckRequest): Promise<ModelFileReport> {
    return this.store.checkFile(request);
  }

  async checkCapabilities(request: CapabilityRequest): Promise<CapabilityVerdict[]> {
    return this.store.capabilities(request, await this.init());
  }

  /** The open device's runtime (Node tools and tests read its memory accounting); undefined before the first call. */
  openRuntime(): Promise<GpuRuntime> | undefined {
    return this.runtime;
  }

  onDeviceLost(listener: (error: EngineErrorInfo) => void): void {
    this.lostListeners.push(listener);
  }

  async dispose(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = undefined;
    if (runtime) (await runtime.catch(() => undefined))?.destroy();
  }

  /**
   * Runs a generation once the ones before it are done. cancel() and a lost device abort it: every
   * GPU submission checks the signal (Recorder.submit), so it stops within one transformer block
   * and frees its memory on the way out. A lost device rejects at once, whatever the work is
   * waiting for, and the next call opens a new device.
   */
  private generation<T>(work: (gpu: GpuRuntime) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const gpu = await this.open();
      const controller = new AbortController();
      const lost = new Promise<never>((_, reject) => {
        void gpu.lost.then((info) => {
          const error = new EngineError(info.code, info.message, info.action);
          controller.abort(error);
          reject(error);
        });
      });
      gpu.signal = controller.signal;
      const task = work(gpu);
      this.running = { controller, settled: task.catch(() => undefined) };
      try {
        return await Promise.race([task, lost]);
      } finally {
        this.running = undefined;
        if (gpu.signal === controller.signal) gpu.signal = undefined;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Tokenizers from their files, built once per set of files. */
  private tokenizersFor(tokenizers: ModelSet['tokenizers']): Promise<Tokenizers> {
    const key = JSON.stringify(tokenizers, (_, value) => (value instanceof Blob ? `${value.size}` : value));
    if (this.tokenizers?.key !== key) {
      const value = loadTokenizerSources(tokenizers);
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
