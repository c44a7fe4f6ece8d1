// The families of a FLUX step's timeline (gpu/timeline.ts): linear layers by their role in the
// model (the recorder tag FluxTransformer gives them), then every other kernel by name. A
// dispatch no family claims is 'unattributed', which a complete table never shows.

import type { KernelTiming } from '../../gpu/profiler';
import { COPY_KERNEL } from '../../gpu/profiler';
import { buildTimeline, type Timeline } from '../../gpu/timeline';
import { LINEAR_ROLES, linearTag } from './transformer';

export const UNATTRIBUTED = 'unattributed';

const LINEAR_FAMILIES = LINEAR_ROLES.map(linearTag);

/** Kernel-name patterns of the other families, in the order the table lists them. */
const KERNEL_FAMILIES: [family: string, pattern: RegExp][] = [
  ['int8 quantize', /^quantize-activations$/],
  ['attention', /^attention d\d+ /],
  ['norms', /^(layer_norm|rms_norm|layer_norm_quantize)( \(in place\))?$/],
  ['qk norm + rope', /^qk_norm_rope$/],
  ['rope', /^rope$/],
  ['elementwise', /^(silu|gelu-tanh|axpy|gated residual)$/],
  ['characonsist', /^(attention query grouping|similarity\.|text-attention\.|token-merge$|layout\.|morphology\.)/],
  ['copies', new RegExp(`^${COPY_KERNEL}$`)],
];

export const FLUX_FAMILIES: readonly string[] = [...LINEAR_FAMILIES, ...KERNEL_FAMILIES.map(([family]) => family)];

export function fluxFamily(timing: KernelTiming): string {
  if (timing.kernel.startsWith('linear.')) return timing.tag && LINEAR_FAMILIES.includes(timing.tag) ? timing.tag : UNATTRIBUTED;
  return KERNEL_FAMILIES.find(([, pattern]) => pattern.test(timing.kernel))?.[0] ?? UNATTRIBUTED;
}

/** The timeline of a FLUX run's dispatches (a forward pass, or whole steps). */
export function fluxTimeline(timings: readonly KernelTiming[]): Timeline {
  return buildTimeline(timings, fluxFamily, FLUX_FAMILIES);
}
