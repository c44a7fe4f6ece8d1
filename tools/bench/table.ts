// The benchmark's result rows and their printing.

export interface BenchRow {
  group: string;
  /** what was run, e.g. "linear q4_0 M=4608 K=3072 N=21504" */
  name: string;
  kernel: string;
  ms: number;
  /** useful floating-point (or integer) operations per run */
  flops: number;
  /** bytes that must cross memory at least once per run */
  bytes: number;
  baseline?: { kernel: string; ms: number };
  note?: string;
}

export function tflops(row: { flops: number; ms: number }): number {
  return row.flops / (row.ms * 1e-3) / 1e12;
}

export function gbps(row: { bytes: number; ms: number }): number {
  return row.bytes / (row.ms * 1e-3) / 1e9;
}

export function printTable(rows: readonly BenchRow[]): void {
  const header = ['what', 'kernel', 'ms', 'TFLOP/s', 'GB/s', 'baseline', 'base ms', 'base TFLOP/s', 'speed-up', 'note'];
  // A skipped row (ms NaN) shows only its note.
  const measured = (row: BenchRow, cell: string) => (Number.isFinite(row.ms) ? cell : '');
  const body = rows.map((row) => [
    row.name,
    row.kernel,
    measured(row, row.ms.toFixed(3)),
    // Rows without a count (a timeline's non-arithmetic families) show no rate.
    row.flops ? measured(row, tflops(row).toFixed(2)) : '',
    row.bytes ? measured(row, gbps(row).toFixed(1)) : '',
    row.baseline?.kernel ?? '',
    row.baseline ? row.baseline.ms.toFixed(3) : '',
    row.baseline ? tflops({ flops: row.flops, ms: row.baseline.ms }).toFixed(2) : '',
    row.baseline ? `${(row.baseline.ms / row.ms).toFixed(2)}x` : '',
    row.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const cells of body) console.log(line(cells));
}
