// The features a producer (the identity, or a scene's first frame) leaves for the frames: the
// official id_attn_bank, per step and single block, image tokens only. The cached order keeps
// every step; the lockstep order keeps only the step being run.

import { EngineError } from '../errors';

/** keys: after QK norm, before RoPE; values; attention: heads concatenated, before linear2. */
export type BankFeature = 'keys' | 'values' | 'attention';

export class FeatureBank {
  /** step -> block -> feature -> [imageTokens, hidden] */
  private readonly steps = new Map<number, Map<number, Map<BankFeature, Float64Array>>>();

  constructor(private readonly owner: string) {}

  keep(step: number, block: number, feature: BankFeature, rows: Float64Array): void {
    const blocks = this.steps.get(step) ?? new Map<number, Map<BankFeature, Float64Array>>();
    const features = blocks.get(block) ?? new Map<BankFeature, Float64Array>();
    features.set(feature, rows);
    blocks.set(block, features);
    this.steps.set(step, blocks);
  }

  read(step: number, block: number, feature: BankFeature): Float64Array {
    const rows = this.steps.get(step)?.get(block)?.get(feature);
    if (!rows) {
      throw new EngineError(
        'internal',
        `The ${this.owner} bank has no ${feature} of single block ${block} at step ${step}: a run read what its producer did not keep.`,
        'This is a bug in the CharaConsist reference; please report it.',
      );
    }
    return rows;
  }

  /** The lockstep order holds one step's features only, while the consumers of that step run. */
  forgetAllBut(step: number): void {
    for (const kept of [...this.steps.keys()]) if (kept !== step) this.steps.delete(kept);
  }
}
