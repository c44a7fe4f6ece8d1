// The memory plan printed by the CLI and the benchmarks: every live GPU buffer, grouped.

import { formatBytes } from '../../src/engine/errors';
import type { GpuMemory } from '../../src/engine/gpu/memory';

const WEIGHT_PREFIXES = /^(double_blocks|single_blocks|img_in|txt_in|time_in|vector_in|guidance_in|final_layer|flux vectors)/;

/** Groups: transformer weights, shared scratch ("flux …"), and per-sample buffers by sample label. */
export function memoryPlan(memory: GpuMemory): string[] {
  const groups = new Map<string, { bytes: number; buffers: { label: string; bytes: number }[] }>();
  for (const entry of memory.entries()) {
    const group = WEIGHT_PREFIXES.test(entry.label) ? 'weights' : entry.label.startsWith('flux ') ? 'shared activations' : `sample "${entry.label.split(' ')[0]}"`;
    const slot = groups.get(group) ?? { bytes: 0, buffers: [] };
    slot.bytes += entry.bytes;
    slot.buffers.push(entry);
    groups.set(group, slot);
  }
  const lines = ['GPU memory plan:'];
  for (const [group, { bytes, buffers }] of groups) {
    lines.push(`  ${group.padEnd(24)} ${formatBytes(bytes).padStart(10)}  (${buffers.length} buffers)`);
    if (group !== 'weights') {
      for (const buffer of buffers.sort((a, b) => b.bytes - a.bytes).slice(0, 8)) lines.push(`      ${buffer.label.padEnd(40)} ${formatBytes(buffer.bytes).padStart(10)}`);
    }
  }
  lines.push(`  ${'total live'.padEnd(24)} ${formatBytes(memory.liveBytes).padStart(10)}`, `  ${'peak'.padEnd(24)} ${formatBytes(memory.peakBytes).padStart(10)}`);
  return lines;
}
