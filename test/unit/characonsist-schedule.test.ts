import { describe, expect, it } from 'vitest';
import { attentionActive, DEV_50, mergeWeight, SCHNELL_4 } from '../../src/engine/characonsist/schedule';

describe('CharaConsist schedule', () => {
  it.each([
    [0, 0], [1, 0.8], [10, 0.8], [11, 0.8], [12, 0.7951], [16, 0.6828], [21, 0.4], [26, 0.1172], [29, 0.0196], [30, 0.0049], [31, 0], [40, 0],
  ])('dev-50 merge weight at step %i is %f (spec §8)', (step, weight) => {
    expect(mergeWeight(DEV_50, step)).toBeCloseTo(weight, 4);
  });

  it('dev-50 shares attention at steps 1..40 only', () => {
    const active = Array.from({ length: 50 }, (_, i) => i).filter((i) => attentionActive(DEV_50, i));
    expect(active[0]).toBe(1);
    expect(active[active.length - 1]).toBe(40);
    expect(active).toHaveLength(40);
  });

  it('schnell-4 is experimental, starts after a plain step and keeps mask step inside the run', () => {
    expect(SCHNELL_4.experimental).toBe(true);
    expect(SCHNELL_4.attention[0]).toBeGreaterThanOrEqual(1);
    expect(SCHNELL_4.maskStep).toBeGreaterThanOrEqual(SCHNELL_4.attention[0]);
    expect(SCHNELL_4.maskStep).toBeLessThan(4);
    expect(SCHNELL_4.shift).toBe(false);
  });
});
