// Can this browser and GPU run a bundle, and up to which image size? Decided before any download
// from the adapter's limits and features and the memory estimate of each size (memory-estimate.ts),
// with the files' headers when they can be read (exact) or the standard architecture and the
// catalog's sizes (approximate). WebGPU's presence is init()'s question: without it the engine
// cannot open the adapter this verdict needs, and says so with its own typed error.

import type { CapabilityBundle, CapabilityRequest, CapabilityVerdict, GpuReport, ModelComponent, ModelSource, SizeEstimate } from '../../engine-api';
import { MODEL_COMPONENTS } from '../../schema/catalog';
import { EngineError, formatBytes } from '../errors';
import { planLinear } from '../ops/linear-config';
import { FLUX_VAE_DECODER } from '../models/vae/config';
import { T5_MAX_LENGTH } from '../text/t5-tokenizer';
import type { ModelHeader } from './header-check';
import { estimateImage, estimateStory, gpuWeightBytes, type ModelSizes } from './memory-estimate';
import { CLIP_L_TEXT_ENCODER, FLUX1_TRANSFORMER, T5_V1_1_XXL_ENCODER } from './standard-models';

export type HeaderReader = (component: ModelComponent, source: ModelSource) => Promise<ModelHeader>;

/** A browser shares the GPU with the desktop and other tabs: count on this much of its memory. */
const USABLE_GPU_MEMORY = 0.9;

export function capabilityVerdicts(request: CapabilityRequest, report: GpuReport, readHeader: HeaderReader): Promise<CapabilityVerdict[]> {
  return Promise.all(request.bundles.map((bundle) => verdict(bundle, request, report, readHeader)));
}

async function verdict(bundle: CapabilityBundle, request: CapabilityRequest, report: GpuReport, readHeader: HeaderReader): Promise<CapabilityVerdict> {
  const reasons: string[] = [];
  const notes: string[] = [];
  const { models, exact } = await modelSizes(bundle, readHeader, reasons, notes);
  reasons.push(...adapterShortfalls(report));
  if (report.isSoftware) notes.push(`${report.architecture || report.vendor || 'This adapter'} is a software GPU: it runs the engine correctly, but one picture takes hours.`);
  const sizes = reasons.length ? [] : request.sides.map((side) => sizeEstimate(models, bundle, request, report, side));
  const fitting = sizes.filter((size) => size.fits);
  if (request.gpuMemoryBytes === undefined && sizes.length) {
    notes.push('Browsers do not tell web pages how much memory a GPU has: compare the sizes below with your GPU (or set its memory) to know which sizes fit.');
  }
  if (sizes.length && !fitting.length) reasons.push(`Not even ${Math.min(...request.sides)}×${Math.min(...request.sides)} fits: ${sizes[0].reason}.`);
  return {
    bundleId: bundle.id, runnable: reasons.length === 0, reasons, notes, sizes, exact,
    ...(fitting.length ? { largestSide: Math.max(...fitting.map((size) => size.side)) } : {}),
  };
}

function sizeEstimate(models: ModelSizes, bundle: CapabilityBundle, request: CapabilityRequest, report: GpuReport, side: number): SizeEstimate {
  const { limits } = report;
  const textTokens = textTokensOf(bundle);
  const square = { width: side, height: side };
  const image = estimateImage(models, square, textTokens, limits);
  const story = estimateStory(models, {
    identity: square, frames: Array.from({ length: request.framesPerBatch }, () => square), mode: 'maintain', schedule: bundle.schedule, textTokens, framesPerBatch: request.framesPerBatch,
  }, limits);
  const largestBufferBytes = Math.max(image.largestBuffer, story.largestBuffer);
  const bufferLimit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const memory = request.gpuMemoryBytes === undefined ? undefined : USABLE_GPU_MEMORY * request.gpuMemoryBytes;
  const reason =
    largestBufferBytes > bufferLimit ? `one of its buffers needs ${formatBytes(largestBufferBytes)}, and this GPU allows ${formatBytes(bufferLimit)} per buffer`
    : memory !== undefined && story.peak > memory ? `a story needs about ${formatBytes(story.peak)} of GPU memory, more than the ${formatBytes(memory)} a browser can count on of ${formatBytes(request.gpuMemoryBytes!)}`
    : undefined;
  return { side, imageBytes: image.peak, storyBytes: story.peak, largestBufferBytes, fits: reason === undefined, ...(reason ? { reason } : {}) };
}

/** T5's padded length, as the pipeline picks it (txt2img.ts textLengthFor): dev 512, schnell 256. */
const textTokensOf = (bundle: CapabilityBundle) => T5_MAX_LENGTH[bundle.schedule === 'dev-50' ? 'dev' : 'schnell'];

/** Each model's config and GPU weight bytes: exact from its header, else standard and from the file size. */
async function modelSizes(bundle: CapabilityBundle, readHeader: HeaderReader, reasons: string[], notes: string[]): Promise<{ models: ModelSizes; exact: boolean }> {
  const models = standardSizes(bundle);
  let exact = true;
  for (const component of MODEL_COMPONENTS) {
    const { source } = bundle.files[component];
    const header = source ? await readHeader(component, source).catch((error: unknown) => refusal(error, reasons, notes)) : undefined;
    if (header) (models as Record<ModelComponent, { config: unknown; weightBytes: number }>)[component] = { config: header.config, weightBytes: gpuWeightBytes(header.tensors) };
    else exact = false;
  }
  if (!exact) notes.push('Estimated from the catalog\'s file sizes and the standard FLUX.1 architecture (the files\' headers were not read).');
  return { models, exact };
}

/** A file the engine refuses makes the bundle unrunnable; a header that could not be read (offline) only makes the estimate approximate. */
function refusal(error: unknown, reasons: string[], notes: string[]): undefined {
  if (error instanceof EngineError && error.code === 'model-file') reasons.push(`${error.message} ${error.action}`);
  else notes.push(`A header could not be read (${(error as Error).message}).`);
  return undefined;
}

function standardSizes(bundle: CapabilityBundle): ModelSizes {
  return {
    transformer: { config: { ...FLUX1_TRANSFORMER, guidance: bundle.schedule === 'dev-50' }, weightBytes: bundle.files.transformer.bytes },
    t5: { config: T5_V1_1_XXL_ENCODER, weightBytes: bundle.files.t5.bytes },
    clip: { config: CLIP_L_TEXT_ENCODER, weightBytes: bundle.files.clip.bytes },
    vae: { config: FLUX_VAE_DECODER, weightBytes: bundle.files.vae.bytes },
  };
}

/** What the kernels need of the adapter beyond WebGPU's guaranteed limits (workgroup memory and threads). */
function adapterShortfalls(report: GpuReport): string[] {
  try {
    planLinear('auto', 'F16', { ...report.limits, features: new Set(report.features), software: report.isSoftware, wgslLanguageFeatures: report.wgslLanguageFeatures });
    return [];
  } catch (error) {
    if (error instanceof EngineError) return [`${error.message} ${error.action}`];
    throw error;
  }
}
