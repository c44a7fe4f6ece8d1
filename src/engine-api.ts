// The one interface between the UI (main thread) and the engine (worker). Types only: every value
// that crosses it is structured-cloneable; large arrays are transferred, not copied; callbacks are
// comlink proxies.

import type { StoryDocument } from './schema/story';

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

export interface SelfCheckRequest {
  /** Number of elements per input vector (awkward sizes welcome). */
  length: number;
  /** Seed of the inputs, so a caller can regenerate or audit them. */
  seed: number;
}

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

/** A model or tokenizer file: on a web server (read with Range requests) or picked by the user. */
export type ModelSource = { url: string } | { file: Blob; name: string };

export interface ModelSet {
  /** FLUX.1 transformer: GGUF (city96) or safetensors */
  transformer: ModelSource;
  /** T5-v1.1-XXL encoder GGUF (F16, Q8_0) or safetensors */
  t5: ModelSource;
  /** CLIP-L text encoder safetensors */
  clip: ModelSource;
  /** FLUX autoencoder (ae.safetensors) */
  vae: ModelSource;
  tokenizers: {
    /** tokenizer.json and tokenizer_config.json of FLUX's tokenizer_2 */
    t5: { tokenizer: ModelSource; config: ModelSource };
    /** vocab.json, merges.txt and tokenizer_config.json of FLUX's tokenizer (CLIP) */
    clip: { vocab: ModelSource; merges: ModelSource; config: ModelSource };
  };
}

/** One picture from a prompt: what the user sets (the same in the app, the engine and the CLI). */
export interface ImageSettings {
  prompt: string;
  /** pixels, multiples of 16 */
  width: number;
  height: number;
  steps: number;
  seed: number;
  guidance?: number;
  /** T5 tokens; default 512 (dev) or 256 (schnell). Shorter prompts run faster with a shorter one. */
  maxSequenceLength?: number;
}

export interface ImageRequest extends ImageSettings {
  models: ModelSet;
}

export interface Picture {
  /** RGBA8 [height, width, 4] */
  rgba: Uint8Array;
  width: number;
  height: number;
  /** packed final latents [width/16 * height/16, 64] */
  latents: Float32Array;
}

/**
 * A CharaConsist story (the story document: src/schema/story.ts) and what to make of it.
 * Validated inside the worker: a page or a share link can send anything.
 */
export interface StoryRunRequest extends StoryDocument {
  models: ModelSet;
  /**
   * Which pictures to make; default the identity and every frame. A frame whose background comes
   * from a scene's first frame brings that frame into the run (recomputed, not returned). A
   * frame's pixels depend only on its own settings, the identity's and its scene source's, never
   * on which other frames run with it.
   */
  pictures?: { identity: boolean; frames: number[] };
  /** frames generated together in one lockstep batch; default as many as fit in GPU memory */
  framesPerBatch?: number;
  /** a live preview of the latents every this many steps (0: none); default 2 */
  previewEvery?: number;
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
      /** 0-based frames this stage works on (the current batch); empty for the identity and loading */
      frames: number[];
      /** loading stages: bytes read of the current file; sampling stages: steps done of this pass */
      done: number;
      total: number;
      /** the whole story's work, in token-steps (a step of an image of T tokens counts T), so an ETA can be derived */
      work: { done: number; total: number };
    }
  /** the latents as colours (a cheap projection, not the VAE) [height, width, 4] at 1/8 of the image size */
  | { kind: 'preview'; picture: PictureKey; step: number; steps: number; rgba: Uint8Array; width: number; height: number }
  /** a foreground mask as soon as it exists (the pre-run's and the full run's mask step), token grid [rows * cols] */
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

export interface EngineApi {
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
