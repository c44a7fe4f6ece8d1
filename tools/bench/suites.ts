// Every benchmark suite, selectable with --suite NAME (kernels by default).

import type { BenchSuite } from './suite';

export const SUITES: readonly BenchSuite[] = [];
