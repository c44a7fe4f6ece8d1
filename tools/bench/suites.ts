// Every benchmark suite, selectable with --suite NAME (by default: kernels, the FLUX step, int8 quality).

import { characonsistSuite } from './characonsist';
import { clipSuite } from './clip';
import { fluxSuite } from './flux';
import { int8QualitySuite } from './int8-quality';
import { storySuite } from './story';
import { variantCheckSuite } from './variant-check';
import { attentionSuite, kernelsSuite, linearSuite } from './kernels';
import { t5Suite } from './t5';
import { vaeSuite } from './vae';
import type { BenchSuite } from './suite';

export const SUITES: readonly BenchSuite[] = [kernelsSuite, linearSuite, attentionSuite, fluxSuite, int8QualitySuite, t5Suite, clipSuite, vaeSuite, characonsistSuite, storySuite, variantCheckSuite];

/** What runs without --suite: the kernels, a FLUX step (exact and fast, with its timeline under --profile) and the int8 path's accuracy. */
export const DEFAULT_SUITES: readonly string[] = ['kernels', 'flux', 'int8-quality'];
