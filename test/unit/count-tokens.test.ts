// Engine.countTokens: T5 tokens of each text without the end-of-text token, for the editor's
// counters; the tokenizer files are read once per set of files. No GPU is needed.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelSet } from '../../src/engine-api';
import { Engine } from '../../src/engine/engine';
import { APP_TOKENIZERS } from '../../tools/node-models';

/** A picked file that counts how often its content is read. */
class CountedBlob extends Blob {
  reads = 0;

  override text(): Promise<string> {
    this.reads++;
    return super.text();
  }
}

function pickedTokenizers(): { tokenizers: ModelSet['tokenizers']; files: CountedBlob[] } {
  const files: CountedBlob[] = [];
  const picked = (dir: string, name: string) => {
    const file = new CountedBlob([readFileSync(path.join(APP_TOKENIZERS, dir, name))]);
    files.push(file);
    return { file, name };
  };
  const tokenizers = {
    t5: { tokenizer: picked('t5-v1_1-xxl', 'tokenizer.json'), config: picked('t5-v1_1-xxl', 'tokenizer_config.json') },
    clip: { vocab: picked('clip-vit-large-patch14', 'vocab.json'), merges: picked('clip-vit-large-patch14', 'merges.txt'), config: picked('clip-vit-large-patch14', 'tokenizer_config.json') },
  };
  return { tokenizers, files };
}

describe('countTokens', () => {
  it('counts T5 tokens without the end-of-text token, reading the tokenizer files once', async () => {
    const engine = new Engine(() => undefined);
    const { tokenizers, files } = pickedTokenizers();
    // T5 ids of "In an empty background,": 86 46 6364 2458 6, then the EOS (1), which is not counted.
    const background = 'In an empty background,';
    expect(await engine.countTokens(tokenizers, [background, '', `${background} ${background}`])).toEqual([5, 0, 10]);
    expect(await engine.countTokens(tokenizers, [background])).toEqual([5]);
    expect(files.map((file) => file.reads)).toEqual(files.map(() => 1));
  });

  it('refuses what is not a list of texts, with the field named', async () => {
    const engine = new Engine(() => undefined);
    const { tokenizers } = pickedTokenizers();
    await expect(engine.countTokens(tokenizers, 'a story' as unknown as string[])).rejects.toMatchObject({ code: 'invalid-input' });
  });
});
