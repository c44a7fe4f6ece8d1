import { describe, expect, it } from 'vitest';
import { philox4x32, philoxStream, uniformFloats } from '../../src/engine/sampling/philox';

// Known-answer vectors of Philox4x32-10 from Random123's kat_vectors file.
const KAT: [[number, number, number, number], [number, number], [number, number, number, number]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

describe('Philox4x32-10', () => {
  it.each(KAT)('matches the Random123 known answer for counter %j key %j', (counter, key, expected) => {
    expect([...philox4x32(counter, key)]).toEqual(expected);
  });

  it('streams blocks of four in counter order', () => {
    const stream = philoxStream(5, 0, 3, 10);
    expect([...stream.subarray(4, 8)]).toEqual([...philox4x32([1, 0, 3, 0], [5, 0])]);
    expect([...stream.subarray(8)]).toEqual([...philox4x32([2, 0, 3, 0], [5, 0]).subarray(0, 2)]);
  });

  it('gives uniform floats in [0, 1) with a plausible mean', () => {
    const values = uniformFloats(1234, 0, 100_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
  });
});
