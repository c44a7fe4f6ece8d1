// Workgroup grids for one-thread-per-element kernels: fold a long 1-D range into x * y so it
// stays within maxComputeWorkgroupsPerDimension (65535 by default).

export interface Grid1D {
  workgroups: [number, number];
  /** Threads per grid row: the kernel's flat index is id.y * rowStride + id.x. */
  rowStride: number;
}

export function grid1d(count: number, workgroupSize: number, maxPerDimension: number): Grid1D {
  const groups = Math.ceil(count / workgroupSize);
  const x = Math.min(groups, maxPerDimension);
  const y = Math.ceil(groups / Math.max(1, x));
  return { workgroups: [x, y], rowStride: x * workgroupSize };
}
