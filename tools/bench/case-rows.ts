// Rows of the kernel benchmarks as they are produced: each one is also logged at once, so a long
// full-size run shows progress.

import type { BenchRow } from './table';

/** A row without a measurement: ms is NaN and `note` says why. */
export function skippedRow(row: Omit<BenchRow, 'ms' | 'kernel' | 'note'>, reason: string): BenchRow {
  return { ...row, kernel: '-', ms: Number.NaN, note: reason };
}

/** Prints `row` on one line and returns it. */
export function logged(log: (line: string) => void, row: BenchRow): BenchRow {
  log(`${row.name}  ${row.kernel}  ${Number.isFinite(row.ms) ? `${row.ms.toFixed(3)} ms` : row.note}`);
  return row;
}
