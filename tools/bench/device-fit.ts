// Whether a benchmark case fits the device, checked against gpu.limits before anything is
// allocated: a full-size case on a small GPU becomes a "skipped: needs …" row instead of a crash.

import { EngineError, formatBytes } from '../../src/engine/errors';
import type { GpuLimitsReport } from '../../src/engine-api';

export interface CaseNeeds {
  /** buffers that are bound whole to one kernel, by what they hold */
  bindings: { what: string; bytes: number }[];
  /** workgroup counts of dispatches that are not folded into a 2-D grid */
  workgroups?: { what: string; count: number }[];
}

/** "skipped: needs …" when the case exceeds a limit; undefined when it fits. */
export function shortfall(limits: GpuLimitsReport, needs: CaseNeeds): string | undefined {
  const bindingLimit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const binding = needs.bindings.find(({ bytes }) => bytes > bindingLimit);
  if (binding) return `skipped: needs ${formatBytes(binding.bytes)} for ${binding.what} in one storage binding; this device allows ${formatBytes(bindingLimit)}`;
  const grid = needs.workgroups?.find(({ count }) => count > limits.maxComputeWorkgroupsPerDimension);
  if (grid) return `skipped: needs ${grid.count} workgroups for ${grid.what}; this device allows ${limits.maxComputeWorkgroupsPerDimension} per dimension`;
  return undefined;
}

/** The reason to print when a case's allocation failed for lack of GPU memory; rethrows anything else. */
export function outOfMemoryReason(error: unknown): string {
  if (error instanceof EngineError && error.code === 'out-of-memory') return `skipped: ${error.message}`;
  throw error;
}
