// T5's padded length per model and the shorter lengths a request may ask for (diffusers'
// max_sequence_length).

import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/engine/errors';
import { textLengthFor } from '../../src/engine/pipeline/txt2img';
import { TINY_STORY_FLUX } from '../../tools/tiny-models/flux';

const dev = { ...TINY_STORY_FLUX, guidance: true };
const schnell = { ...TINY_STORY_FLUX, guidance: false };

describe('textLengthFor', () => {
  it('defaults to 512 tokens for dev and 256 for schnell, as BFL runs them', () => {
    expect(textLengthFor(dev)).toBe(512);
    expect(textLengthFor(schnell)).toBe(256);
  });

  it('gives a shorter length when asked', () => {
    expect(textLengthFor(dev, 77)).toBe(77);
    expect(textLengthFor(schnell, 256)).toBe(256);
  });

  it.each([[dev, 513], [schnell, 257], [dev, 1], [dev, 12.5], [dev, Number.NaN]])('refuses %# with an invalid-input error', (config, requested) => {
    const attempt = () => textLengthFor(config, requested);
    expect(attempt).toThrow(EngineError);
    expect(attempt).toThrow(/not possible for this model/);
  });
});
