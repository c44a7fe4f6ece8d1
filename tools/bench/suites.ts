// Every benchmark suite, selectable with --suite NAME (kernels by default).

import { characonsistSuite } from './characonsist';
import { clipSuite } from './clip';
import { fluxSuite } from './flux';
import { attentionSuite, kernelsSuite } from './kernels';
import { t5Suite } from './t5';
import { vaeSuite } from './vae';
import type { BenchSuite } from './suite';

export const SUITES: readonly BenchSuite[] = [kernelsSuite, attentionSuite, fluxSuite, t5Suite, clipSuite, vaeSuite, characonsistSuite];
