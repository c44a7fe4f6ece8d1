// The one interface between the UI (main thread) and the engine (worker). Types only: every value
// that crosses it is structured-cloneable; large arrays are transferred, not copied; callbacks are
// comlink proxies.

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

export interface EngineApi {
  /** Requests the adapter and device; idempotent. Rejects with an EngineErrorInfo-shaped error. */
  init(): Promise<GpuReport>;
  selfCheck(request: SelfCheckRequest, onProgress?: ProgressCallback): Promise<SelfCheckResult>;
  /** `listener` is called once if the device is lost after init (driver reset, GPU removed…). */
  onDeviceLost(listener: (error: EngineErrorInfo) => void): void;
  /** Frees every GPU resource; init() may be called again afterwards. */
  dispose(): Promise<void>;
}
