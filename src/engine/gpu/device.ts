// Adapter and device bring-up. Runs unchanged in a browser worker (navigator.gpu) and in Node
// (the `webgpu` package's create()): the caller passes the GPU object in.

import type { EngineErrorInfo, GpuLimitsReport, GpuReport } from '../../engine-api';
import { deviceLost, EngineError, noAdapter, webGpuUnavailable } from '../errors';

/** Optional features the engine uses when the adapter has them. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** Limits the engine asks for at the adapter's real maximum (defaults are far too small for FLUX). */
const REQUESTED_LIMITS: (keyof GpuLimitsReport)[] = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export interface GpuContext {
  /**
   * Kept alive on purpose: in Node, Dawn tears its instance down when the GPU object is garbage
   * collected, crashing any device still in use.
   */
  gpu: GPU;
  device: GPUDevice;
  report: GpuReport;
  features: ReadonlySet<string>;
  limits: GpuLimitsReport;
  /** Resolves when the device is lost for any reason other than our own destroy(). */
  lost: Promise<EngineErrorInfo>;
}

export async function openGpu(gpu: GPU | undefined): Promise<GpuContext> {
  if (!gpu) throw webGpuUnavailable();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw noAdapter();

  const features = OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature));
  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });

  const limits = readLimits(device.limits);
  const report = buildReport(adapter.info, features, limits, gpu);
  return { gpu, device, report, features: new Set(features), limits, lost: watchLoss(device) };
}

function readLimits(limits: GPUSupportedLimits): GpuLimitsReport {
  return {
    maxBufferSize: limits.maxBufferSize,
    maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
    maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    minStorageBufferOffsetAlignment: limits.minStorageBufferOffsetAlignment,
  };
}

function buildReport(info: GPUAdapterInfo, features: string[], limits: GpuLimitsReport, gpu: GPU): GpuReport {
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  return {
    vendor: info.vendor ?? '',
    architecture,
    device: info.device ?? '',
    description,
    isSoftware: /swiftshader|llvmpipe|lavapipe|warp|software/i.test(`${architecture} ${description}`),
    features,
    wgslLanguageFeatures: gpu.wgslLanguageFeatures ? [...gpu.wgslLanguageFeatures].sort() : [],
    limits,
  };
}

function watchLoss(device: GPUDevice): Promise<EngineErrorInfo> {
  return new Promise((resolve) => {
    void device.lost.then((info) => {
      // Our own destroy() is not an event anyone needs to hear about.
      if (info.reason === 'destroyed') return;
      const error = deviceLost(info.reason ?? 'unknown', info.message || 'no detail from the driver');
      resolve(toErrorInfo(error));
    });
  });
}

export function toErrorInfo(error: unknown): EngineErrorInfo {
  if (error instanceof EngineError) return { code: error.code, message: error.message, action: error.action };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message, action: 'This is a bug in the app: please report it with this message.' };
}
