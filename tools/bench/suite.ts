// A benchmark suite: a named group of measurements that prints rows of the shared table. Each
// suite times our kernels and, in the same run, the baseline it is compared against.

import type { GpuRuntime } from '../../src/engine/gpu/runtime';
import type { BenchRow } from './table';
import type { TimingOptions } from './timing';

export interface BenchOptions {
  /** Shrunk shapes (and depths) so the run finishes on a software adapter. */
  quick: boolean;
  /** Also profile one run per case and print where its GPU time goes (suites that support it). */
  profile?: boolean;
  /** Leave out the plain baseline where it is only a reference point and slow (the FLUX step's baseline kernels). */
  skipBaseline?: boolean;
  timing: TimingOptions;
  /** Prints a progress line per measurement. */
  log: (line: string) => void;
}

export interface BenchSuite {
  /** selected with --<name> (e.g. --kernels, --model flux is the suite "flux") */
  name: string;
  description: string;
  run(gpu: GpuRuntime, options: BenchOptions): Promise<BenchRow[]>;
}
