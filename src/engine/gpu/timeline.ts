// Where the GPU time of a run goes: the profiler's dispatch timings grouped into families, plus
// the time between dispatches, adding up to the run's span on the GPU clock (first dispatch's
// start to last dispatch's end). Each dispatch is charged only the time no earlier dispatch
// already covers, so overlapping passes are not counted twice and the rows always sum to the span.

import type { KernelTiming } from './profiler';

export interface TimelineRow {
  family: string;
  ms: number;
  dispatches: number;
}

export interface Timeline {
  /** families in first-seen order of `familyOrder`, then any others in order of appearance */
  rows: TimelineRow[];
  /** GPU idle time between dispatches (submission gaps, pass boundaries, barriers), ms */
  betweenMs: number;
  /** first start to last end, ms */
  spanMs: number;
  dispatches: number;
}

/**
 * Groups `timings` by `familyOf` (rows listed in `familyOrder` first, zero rows omitted).
 * Times are summed in whole nanoseconds, so rows + betweenMs equal spanMs exactly.
 */
export function buildTimeline(timings: readonly KernelTiming[], familyOf: (timing: KernelTiming) => string, familyOrder: readonly string[] = []): Timeline {
  const ns = (ms: number) => Math.round(ms * 1e6);
  const ordered = timings.map((timing, index) => ({ timing, index, begin: ns(timing.beginMs), end: ns(timing.endMs) })).sort((a, b) => a.begin - b.begin || a.index - b.index);
  const byFamily = new Map<string, { ns: number; dispatches: number }>(familyOrder.map((family) => [family, { ns: 0, dispatches: 0 }]));
  let covered = ordered[0]?.begin ?? 0;
  let idle = 0;
  for (const { timing, begin, end } of ordered) {
    idle += Math.max(0, begin - covered);
    const own = Math.max(0, end - Math.max(begin, covered));
    covered = Math.max(covered, end);
    const family = familyOf(timing);
    const row = byFamily.get(family) ?? { ns: 0, dispatches: 0 };
    row.ns += own;
    row.dispatches++;
    byFamily.set(family, row);
  }
  const spanNs = ordered.length ? covered - ordered[0].begin : 0;
  return {
    rows: [...byFamily].filter(([, row]) => row.dispatches > 0).map(([family, row]) => ({ family, ms: row.ns / 1e6, dispatches: row.dispatches })),
    betweenMs: idle / 1e6,
    spanMs: spanNs / 1e6,
    dispatches: timings.length,
  };
}
