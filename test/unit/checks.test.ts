import { describe, expect, it } from 'vitest';
import { checkDistinct, checkVector, checkView } from '../../src/engine/ops/checks';

const buffer = (elements: number, label = 'b') => ({ size: 4 * elements, label }) as GPUBuffer;
const invalid = expect.objectContaining({ code: 'invalid-input' });

describe('checkView', () => {
  it('accepts a view whose last row ends exactly at the end of its buffer', () => {
    expect(() => checkView('x', { buffer: buffer(3 + 2 * 10 + 4), offset: 3, stride: 10 }, 3, 4)).not.toThrow();
  });

  it('refuses a view one element too long, a stride shorter than a row, and a fractional offset', () => {
    expect(() => checkView('x', { buffer: buffer(3 + 2 * 10 + 4), offset: 4, stride: 10 }, 3, 4)).toThrowError(invalid);
    expect(() => checkView('x', { buffer: buffer(100), offset: 0, stride: 3 }, 2, 4)).toThrowError(invalid);
    expect(() => checkView('x', { buffer: buffer(100), offset: 0.5, stride: 4 }, 2, 4)).toThrowError(invalid);
  });

  it('accepts zero rows anywhere', () => {
    expect(() => checkView('x', { buffer: buffer(1), offset: 0, stride: 8 }, 0, 8)).not.toThrow();
  });
});

describe('checkVector', () => {
  it('checks the end of the run against the buffer', () => {
    expect(() => checkVector('v', { buffer: buffer(10), offset: 2 }, 8)).not.toThrow();
    expect(() => checkVector('v', { buffer: buffer(10), offset: 3 }, 8)).toThrowError(invalid);
  });
});

describe('checkDistinct', () => {
  it('refuses a written buffer that is also read', () => {
    const [a, b] = [buffer(4, 'a'), buffer(4, 'b')];
    expect(() => checkDistinct('out', a, { input: { buffer: b } })).not.toThrow();
    expect(() => checkDistinct('out', a, { input: { buffer: b }, other: { buffer: a } })).toThrowError(/out and other are in the same buffer "a"/);
  });
});
