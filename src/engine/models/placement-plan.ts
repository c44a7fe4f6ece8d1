// Building the placements of a model whose tensors load one to one, or stacked by rows (q, k and
// v into one matrix), into GpuWeights and host vectors (tensor-loader.ts). Weights are allocated
// as they are planned; if anything fails before loading completes, they are all freed.

import type { GpuRuntime } from '../gpu/runtime';
import { GpuWeight, type LinearWeightType } from '../ops/weights';
import type { FileTensor, ModelFile } from './model-file';
import { HostVector, loadPlacements, type LoadProgress, type Placement } from './tensor-loader';

export class PlacementPlan {
  private readonly placements: Placement[] = [];
  private readonly allocated: GpuWeight[] = [];

  constructor(private readonly gpu: GpuRuntime, private readonly model: string) {}

  /** A GpuWeight holding `sources` stacked by rows, in their (shared) file type. */
  async matrix(label: string, sources: readonly FileTensor[]): Promise<GpuWeight> {
    const cols = sources[0].shape[1];
    const rows = sources.reduce((sum, source) => sum + source.shape[0], 0);
    const weight = await GpuWeight.create(this.gpu, `${this.model} ${label}`, sources[0].type as LinearWeightType, rows, cols);
    this.allocated.push(weight);
    let at = 0;
    for (const source of sources) {
      this.placements.push({ source: source.name, target: weight, rows: [0, source.shape[0]], cols: [0, cols], at });
      at += source.shape[0];
    }
    return weight;
  }

  /** All of `source` (1-D, or 2-D row after row) as f32 from element `at` of `target`. */
  vector(target: HostVector, source: FileTensor, at: number): void {
    const [rows, cols] = source.shape.length === 1 ? [1, source.shape[0]] : source.shape;
    this.placements.push({ source: source.name, target, rows: [0, rows], cols: [0, cols], at });
  }

  /**
   * Runs `allocate` (which plans matrices and vectors), then streams the file into the planned
   * places; frees the weights when either fails.
   */
  async load<T>(file: ModelFile, allocate: () => Promise<T>, onProgress?: (progress: LoadProgress) => void): Promise<T> {
    try {
      const planned = await allocate();
      await loadPlacements(file, this.placements, onProgress);
      return planned;
    } catch (error) {
      for (const weight of this.allocated) weight.release();
      throw error;
    }
  }
}
