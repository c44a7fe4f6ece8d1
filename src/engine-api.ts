// The one interface between the UI (main thread) and the engine (worker). Types only: every value
// that crosses it is structured-cloneable; large arrays are transferred, not copied; callbacks are
// comlink proxies.

import type { ImageRequest, ImageSettings, ModelSet, ModelSource, SelfCheckRequest, StoryRunRequest } from './schema/request';

// The requests' types come from their schemas (src/schema/request.ts), which the engine checks them with.
export type { ImageRequest, ImageSettings, ModelSet, ModelSource, SelfCheckRequest, StoryRunRequest };
import type { CatalogFile, ModelComponent } from './schema/catalog';

export type EngineErrorCode =
  | 'webgpu-unavailable'
  | 'no-adapter'
  | 'limits-too-small'
  | 'shader-compile'
  | 'device-lost'
  | 'out-of-memory'
  | 'binding-too-large'
  | 'invalid-input'
  | 'model-file'
  | 'network'
  | 'storage'
  | 'cancelled'
  | 'internal';

/** What an engine error looks like on the UI side of the worker boundary. */
export interface EngineErrorInfo {
  code: EngineErrorCode;
  message: string;
  /** One sentence telling the user what to do next. */
  action: string;
}

/** What the adapter and device offer, as requested by the engine (real limits, optional features). */
export interface GpuReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations such as SwiftShader: correct but far too slow for real models. */
  isSoftware: boolean;
  /** Optional features the engine enabled on the device (shader-f16, subgroups, timestamp-query…). */
  features: string[];
  wgslLanguageFeatures: string[];
  limits: GpuLimitsReport;
}

export interface GpuLimitsReport {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  minStorageBufferOffsetAlignment: number;
}

export interface Progress {
  stage: string;
  done: number;
  total: number;
}

export type ProgressCallback = (progress: Progress) => void;

/**
 * A small GPU computation checked inside the engine: z = a·x + y (element-wise, fused) and the
 * sum of z (workgroup reduction). Inputs and outputs are returned so a caller can verify them
 * independently.
 */
export interface SelfCheckResult {
  adapter: string;
  a: number;
  x: Float32Array;
  y: Float32Array;
  /** GPU result of a·x + y, [length]. */
  axpy: Float32Array;
  /** GPU result of sum(a·x + y). */
  sum: number;
  /** Max relative error of the GPU results against the engine's own float64 reference. */
  relativeError: number;
  passed: boolean;
  /** Wall time of the GPU part (upload, dispatch, readback). */
  gpuMs: number;
}

export interface Picture {
  /** RGBA8 [height, width, 4] */
  rgba: Uint8Array;
  width: number;
  height: number;
  /** packed final latents [width/16 * height/16, 64] */
  latents: Float32Array;
}

/** Which picture of a story an update is about. */
export type PictureKey = 'identity' | { frame: number };

/** The stage a story is in, in the order they run. */
export type StoryStage = 'text encoders' | 'transformer' | 'identity' | 'pre-run' | 'full run' | 'decoding';

/** Live news from a running story (a comlink-proxied callback receives them in order). */
export type StoryUpdate =
  | {
      kind: 'progress';
      stage: StoryStage;
      /** 0-based frames this stage works on (the current batch; 'decoding': the frame being decoded); empty for the identity and loading */
      frames: number[];
      /** loading stages: bytes read of the current file; sampling stages: steps done of this pass */
      done: number;
      total: number;
      /** the whole story's work, in token-steps (a step of an image of T tokens counts T), so an ETA can be derived */
      work: { done: number; total: number };
    }
  /**
   * the latents after `step` of `steps` steps as colours (a cheap projection, not the VAE) [height, width, 4] at 1/8 of
   * the image size: the identity's own run and the requested frames' runs, every `previewEvery` steps
   */
  | { kind: 'preview'; picture: PictureKey; step: number; steps: number; rgba: Uint8Array; width: number; height: number }
  /** a foreground mask as soon as it exists (the pre-run's and the full run's mask step; the identity's comes as run 'full'), token grid [rows * cols] */
  | { kind: 'mask'; picture: PictureKey; run: 'pre' | 'full'; mask: Uint8Array; rows: number; cols: number }
  /** a finished picture, as soon as it is decoded */
  | { kind: 'picture'; picture: 'identity'; result: StoryPictureResult }
  | { kind: 'picture'; picture: { frame: number }; result: StoryFramePictureResult };

export type StoryUpdateCallback = (update: StoryUpdate) => void;

/** What happened during a story (empty sets the official code would crash on, skipped sharing). */
export type StoryEvent =
  | { kind: 'empty-foreground'; frame: number; run: 'pre' | 'full'; step: number }
  | { kind: 'empty-identity-foreground' }
  | { kind: 'no-valid-match'; frame: number; run: 'pre' | 'full' }
  | { kind: 'empty-shared-background'; frame: number; run: 'pre' | 'full'; step: number }
  | { kind: 'background-size-mismatch'; frame: number };

export interface StoryPictureResult extends Picture {
  prompt: string;
  /** the seed its noise came from */
  seed: number;
  /** foreground mask on the token grid [height/16 * width/16], 1 = character */
  mask: Uint8Array;
  /** the same mask at pixel resolution [height * width] (each token covers 16x16 pixels) */
  maskPixels: Uint8Array;
}

/** What happened to one frame, summarised from the story's events. */
export interface FrameFlags {
  /** the final mask has no foreground token */
  emptyMask: boolean;
  /** under a quarter of the foreground tokens found a valid identity match */
  fewMatches: boolean;
  /** at some step the foreground ran as plain FLUX (empty mask, or no valid match) */
  foregroundFallback: boolean;
  /** the background was not shared at some step (other size, or no common background) */
  backgroundNotShared: boolean;
}

export interface StoryFramePictureResult extends StoryPictureResult {
  preMask: Uint8Array;
  /** matched points: frame token, identity token (row-major on their grids) and mean cosine similarity */
  points: { frameToken: number; identityToken: number; similarity: number }[];
  flags: FrameFlags;
}

export interface StoryFramePictureResultOf extends StoryFramePictureResult {
  /** 0-based index of the frame in the story */
  frame: number;
}

export interface StoryRunResult {
  /** absent when the request did not ask for the identity's picture */
  identity?: StoryPictureResult;
  /** the requested frames, in story order */
  frames: StoryFramePictureResultOf[];
  events: StoryEvent[];
  forwardPasses: number;
  officialForwardPasses: number;
  /** ms */
  timings: { encode: number; transformer: number; decode: number };
  peakBytes: number;
}

export interface EngineApi extends ModelStoreApi {
  /** Requests the adapter and device; idempotent. Rejects with an EngineErrorInfo-shaped error. */
  init(): Promise<GpuReport>;
  selfCheck(request: SelfCheckRequest, onProgress?: ProgressCallback): Promise<SelfCheckResult>;
  /** Text to image through the whole pipeline (T5, CLIP, FLUX, VAE). */
  generateImage(request: ImageRequest, onProgress?: ProgressCallback): Promise<Picture>;
  /**
   * A CharaConsist story: the identity image first, then the frames, with masks and matched
   * points; every picture is also sent through `onUpdate` as soon as it is finished.
   */
  generateStory(request: StoryRunRequest, onUpdate?: StoryUpdateCallback): Promise<StoryRunResult>;
  /**
   * Stops the running generation within one transformer block: it rejects with code 'cancelled'
   * after freeing its GPU memory; pictures already sent stay valid. Does nothing when idle.
   */
  cancel(): Promise<void>;
  /** T5 tokens of each text (without the end-of-text token), for the editor's counters. */
  countTokens(tokenizers: ModelSet['tokenizers'], texts: string[]): Promise<number[]>;
  /** `listener` is called once if the device is lost after init (driver reset, GPU removed…). */
  onDeviceLost(listener: (error: EngineErrorInfo) => void): void;
  /** Frees every GPU resource; init() may be called again afterwards. */
  dispose(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Model store: catalog files (src/schema/catalog.ts) downloaded by the worker into the browser's
// storage (OPFS) with resumable Range requests, each file's header checked before its data is
// fetched and the whole file verified after; local files checked the same way; what this GPU
// can run. The engine side lives in src/engine/store/, the UI in src/ui/models/.
// ---------------------------------------------------------------------------------------------

export type { CatalogFile, ModelComponent };

/** Where a download stands: probing the server, checking the header, fetching data, verifying, done. */
export type DownloadPhase = 'probe' | 'header' | 'download' | 'verify' | 'ready';

export interface DownloadProgress {
  fileId: string;
  phase: DownloadPhase;
  /** bytes stored so far */
  doneBytes: number;
  /** bytes of the whole file (the server's size once probed) */
  totalBytes: number;
  /** bytes/s over the last seconds; 0 until measured */
  bytesPerSecond: number;
  /** s at that rate; absent until a rate is known */
  etaSeconds?: number;
}

export type DownloadProgressCallback = (progress: DownloadProgress) => void;

/** A catalog file in the browser's storage: verified, or a download that can resume. */
export interface StoredModelFile {
  fileId: string;
  /** published file name (its extension decides the format) */
  name: string;
  component: ModelComponent;
  url: string;
  /** bytes stored (a partial download: so far) */
  bytes: number;
  totalBytes: number;
  status: 'ready' | 'partial';
  /** 'ready': sha256 of the verified content (hex) */
  sha256?: string;
  /** what a user should know about its checks, e.g. that the catalog's size was second-hand */
  notes: string[];
  /** a partial download that was running when the page closed (not paused by the user) */
  interrupted: boolean;
}

export interface StorageReport {
  /** navigator.storage.estimate() of this origin, bytes */
  usageBytes: number;
  quotaBytes: number;
  /** bytes of model files, ready and partial */
  modelBytes: number;
}

/** What a model file's header (or a whole local file) says, once the engine accepted it. */
export interface ModelFileReport {
  component: ModelComponent;
  name: string;
  /** bytes */
  bytes: number;
  /** e.g. "FLUX.1 [schnell] transformer: 19 double + 38 single blocks; Q4_0, F32" */
  summary: string;
  /** transformers: dev (guidance embedder) or schnell */
  variant?: 'dev' | 'schnell';
  /** local files whose sha256 was asked for: the hash of the whole file (hex) */
  sha256?: string;
}

export interface ModelFileCheckRequest {
  component: ModelComponent;
  source: ModelSource;
  /** hash the whole file too (a picked file the size of a catalog file, to name it by its hash) */
  hash?: boolean;
}

/** One bundle to judge: a file per component, by source (its header is read) or by size alone. */
export interface CapabilityBundle {
  id: string;
  schedule: 'dev-50' | 'schnell-4';
  /**
   * A source whose header can be read gives an exact estimate; without one (or when reading it
   * fails, e.g. offline) the standard FLUX.1 architecture with weights of `bytes` is assumed.
   */
  files: Record<ModelComponent, { source?: ModelSource; bytes: number }>;
}

export interface CapabilityRequest {
  bundles: CapabilityBundle[];
  /** square image sides to estimate, pixels (multiples of 16) */
  sides: number[];
  /** frames generated together in a story batch, for the story estimate */
  framesPerBatch: number;
  /** the GPU's memory as the user gave it (bytes); browsers do not tell web pages */
  gpuMemoryBytes?: number;
}

export interface SizeEstimate {
  side: number;
  /** peak GPU bytes of one picture (txt2img) and of a story batch (identity + framesPerBatch frames) */
  imageBytes: number;
  storyBytes: number;
  /** the largest single buffer, which must fit one storage binding */
  largestBufferBytes: number;
  fits: boolean;
  /** why it does not fit */
  reason?: string;
}

export interface CapabilityVerdict {
  bundleId: string;
  /** false: this bundle cannot run on this browser and GPU at all (see reasons) */
  runnable: boolean;
  reasons: string[];
  /** worth knowing but not blocking (software adapter, approximate estimate, unknown GPU memory) */
  notes: string[];
  sizes: SizeEstimate[];
  /** the largest side of `sides` that fits, if any */
  largestSide?: number;
  /** from the files' headers (true) or from sizes and the standard architecture */
  exact: boolean;
}

export interface ModelStoreApi {
  /**
   * Downloads a catalog file (its `url` absolute) into the browser's storage, or resumes it where
   * it stopped; the header is checked before any data is fetched. Resolves once the file is
   * verified; rejects with 'cancelled' when paused or cancelled, 'network', 'storage' or
   * 'model-file' otherwise (a partial download is kept for a resume unless it was found wrong).
   * A second call for a file being downloaded joins the first.
   */
  downloadModel(file: CatalogFile, onProgress?: DownloadProgressCallback): Promise<StoredModelFile>;
  /** Stops a download and keeps what is stored, to resume later. */
  pauseDownload(fileId: string): Promise<void>;
  /** Stops a download and deletes what it stored. */
  cancelDownload(fileId: string): Promise<void>;
  deleteStoredModel(fileId: string): Promise<void>;
  listStoredModels(): Promise<StoredModelFile[]>;
  /** Deletes every partial download and every stored file not in `keep`; returns the bytes freed. */
  freeStorage(keep: string[]): Promise<number>;
  storageReport(): Promise<StorageReport>;
  /** Reads a model file's header (a URL: by Range requests; a local file: whole) and says what it is, or why the engine cannot run it. */
  checkModelFile(request: ModelFileCheckRequest): Promise<ModelFileReport>;
  /** WebGPU, adapter limits and features, and GPU memory per bundle and image size. */
  checkCapabilities(request: CapabilityRequest): Promise<CapabilityVerdict[]>;
}
