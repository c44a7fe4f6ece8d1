import { describe, expect, it } from 'vitest';
import { fluxPositionIds, ropeTable } from '../../src/engine/ops/rope-table';

// Frequencies quoted in spec/flux.md §2: axis 1/2 ω = 1, 0.7196857, …, 1.389e−4 (k = 27); axis 0 ω = 1 … 3.162e−4 (k = 7).
describe('ropeTable (FLUX axes [16, 56, 56], theta 10000)', () => {
  const pairAngle = (table: ReturnType<typeof ropeTable>, position: number, pair: number) => {
    const i = 2 * (position * table.pairs + pair);
    return Math.atan2(table.values[i + 1], table.values[i]);
  };

  it('has 64 pairs per position and rotates text tokens not at all', () => {
    const table = ropeTable(fluxPositionIds(3, 2, 2));
    expect(table.pairs).toBe(64);
    expect(table.positions).toBe(7);
    for (let pair = 0; pair < 64; pair++) expect([table.values[2 * pair], table.values[2 * pair + 1]]).toEqual([1, 0]);
  });

  it('gives the spec frequencies to the row and column axes', () => {
    // Position (0, 1, 1): the angle of pair p equals that axis's ω for k = p − 8 (row) and p − 36 (col).
    const table = ropeTable([0, 1, 1]);
    expect(pairAngle(table, 0, 8)).toBeCloseTo(1, 6);
    expect(pairAngle(table, 0, 9)).toBeCloseTo(0.7196857, 6);
    expect(pairAngle(table, 0, 35)).toBeCloseTo(1.389e-4, 7);
    expect(pairAngle(table, 0, 37)).toBeCloseTo(0.7196857, 6);
    expect(pairAngle(table, 0, 0)).toBe(0);
  });

  it('gives the spec frequencies to axis 0', () => {
    const table = ropeTable([1, 0, 0]);
    expect(pairAngle(table, 0, 7)).toBeCloseTo(3.162e-4, 7);
    expect(pairAngle(table, 0, 8)).toBe(0);
  });
});

describe('fluxPositionIds', () => {
  it('numbers image tokens (0, row, col) row-major after zeroed text tokens', () => {
    expect(Array.from(fluxPositionIds(1, 2, 3))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 1, 0, 1, 2]);
  });
});
