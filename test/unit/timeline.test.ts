import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KernelTiming } from '../../src/engine/gpu/profiler';
import { buildTimeline } from '../../src/engine/gpu/timeline';

const timing = (kernel: string, beginMs: number, endMs: number, tag?: string): KernelTiming => ({ kernel, tag, beginMs, endMs, ms: endMs - beginMs });

describe('GPU timeline', () => {
  it('charges gaps to the time between dispatches and overlaps to the earlier dispatch', () => {
    const timeline = buildTimeline(
      [timing('b', 5, 9), timing('a', 0, 2), timing('a', 1, 4, 'x'), timing('c', 8, 10), timing('b', 12, 12.5)],
      (t) => t.tag ?? t.kernel,
      ['b', 'a', 'x', 'unused'],
    );
    expect(timeline.rows).toEqual([
      { family: 'b', ms: 4.5, dispatches: 2 },
      { family: 'a', ms: 2, dispatches: 1 },
      // [1, 4) overlaps a's [0, 2): only [2, 4) is its own
      { family: 'x', ms: 2, dispatches: 1 },
      // [8, 10) overlaps b's [5, 9)
      { family: 'c', ms: 1, dispatches: 1 },
    ]);
    expect(timeline.betweenMs).toBe(1 + 2);
    expect(timeline.spanMs).toBe(12.5);
    expect(timeline.dispatches).toBe(5);
  });

  it('adds up to the span for any intervals', () => {
    const interval = fc.tuple(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 1e5 }), fc.constantFrom('p', 'q', 'r'));
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 40 }), (intervals) => {
        const timings = intervals.map(([begin, length, kernel]) => timing(kernel, begin / 1e3, (begin + length) / 1e3));
        const timeline = buildTimeline(timings, (t) => t.kernel);
        const first = Math.min(...timings.map((t) => t.beginMs));
        const last = Math.max(...timings.map((t) => t.endMs));
        const sum = timeline.rows.reduce((total, row) => total + row.ms, timeline.betweenMs);
        expect(timeline.spanMs).toBeCloseTo(last - first, 9);
        expect(sum).toBeCloseTo(timeline.spanMs, 9);
        expect(timeline.rows.reduce((n, row) => n + row.dispatches, 0)).toBe(timings.length);
      }),
    );
  });

  it('is empty for no dispatches', () => {
    expect(buildTimeline([], (t) => t.kernel)).toEqual({ rows: [], betweenMs: 0, spanMs: 0, dispatches: 0 });
  });
});
