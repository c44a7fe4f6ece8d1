// Reference of the mask clean-up (spec/characonsist-official.md §5): OpenCV erode and dilate with
// all-ones square kernels, one iteration, default border (outside pixels are ignored: they never
// erode and never dilate). Masks are 0/1 per token, row-major [rows, cols].

export interface TokenGrid {
  rows: number;
  cols: number;
}

/** 1 where every in-image pixel of the (2 radius + 1)² window is set. */
export function erodeReference(mask: ArrayLike<number>, grid: TokenGrid, radius: number): Uint32Array {
  return mapWindows(mask, grid, radius, (window) => window.every((value) => value !== 0));
}

/** 1 where any in-image pixel of the (2 radius + 1)² window is set. */
export function dilateReference(mask: ArrayLike<number>, grid: TokenGrid, radius: number): Uint32Array {
  return mapWindows(mask, grid, radius, (window) => window.some((value) => value !== 0));
}

/** The official remove_small_holes_and_points: erode 3x3, then dilate 5x5. */
export function maskCleanupReference(mask: ArrayLike<number>, grid: TokenGrid): Uint32Array {
  return dilateReference(erodeReference(mask, grid, 1), grid, 2);
}

function mapWindows(mask: ArrayLike<number>, grid: TokenGrid, radius: number, decide: (window: number[]) => boolean): Uint32Array {
  const out = new Uint32Array(grid.rows * grid.cols);
  for (let row = 0; row < grid.rows; row++) {
    for (let col = 0; col < grid.cols; col++) {
      const window: number[] = [];
      for (let dy = -radius; dy <= radius; dy++) {
        for (let dx = -radius; dx <= radius; dx++) {
          const y = row + dy;
          const x = col + dx;
          if (y >= 0 && y < grid.rows && x >= 0 && x < grid.cols) window.push(mask[y * grid.cols + x]);
        }
      }
      out[row * grid.cols + col] = Number(decide(window));
    }
  }
  return out;
}
