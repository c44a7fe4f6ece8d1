// How the VAE ops address images: HWC (pixel-major, the channels of a pixel contiguous), so a
// 1x1 convolution is a plain GEMM over pixels, the mid-block attention reads its tokens as matrix
// rows, and a band of image rows is one contiguous run of memory that a dispatch can bind alone
// (images at 1024² exceed storage binding limits; see src/engine/models/vae/banded-tensor.ts).

import { checkView, requireCount, requireThat } from './checks';
import type { MatrixView } from './view';

export interface ImageSize {
  height: number;
  width: number;
  channels: number;
}

/** Image rows [firstRow, firstRow + rows) of an image, as a [rows · width, channels] view. */
export interface ImageBand {
  /** row = pixel, `stride` elements from one pixel to the next */
  view: MatrixView;
  firstRow: number;
  rows: number;
}

/** Throws unless `band` holds rows of an image of `size` inside its buffer. */
export function checkBand(what: string, band: ImageBand, size: ImageSize): void {
  requireCount(`${what} first row`, band.firstRow, 0);
  requireCount(`${what} rows`, band.rows, 1);
  requireThat(what, band.firstRow + band.rows <= size.height, `rows ${band.firstRow}..${band.firstRow + band.rows - 1} run past the image's ${size.height} rows`);
  checkView(what, band.view, band.rows * size.width, size.channels);
}
