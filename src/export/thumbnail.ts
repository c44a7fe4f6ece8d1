// Small copies of pictures for the history gallery: each thumbnail pixel is the average of the
// source pixels it covers (no aliasing when shrinking), pure arithmetic so every browser agrees.

export interface RgbaImage {
  /** RGBA8 [height, width, 4] */
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** The picture scaled so its longer side is at most `maxSide` px (never enlarged). */
export function thumbnail(image: RgbaImage, maxSide: number): RgbaImage {
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  if (width === image.width && height === image.height) return image;
  const xSpans = spans(image.width, width);
  const ySpans = spans(image.height, height);
  const rgba = new Uint8Array(width * height * 4);
  for (let ty = 0; ty < height; ty++) {
    const [y0, y1] = ySpans[ty];
    for (let tx = 0; tx < width; tx++) {
      const [x0, x1] = xSpans[tx];
      const sums = [0, 0, 0, 0];
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          for (let c = 0; c < 4; c++) sums[c] += image.rgba[4 * (y * image.width + x) + c];
        }
      }
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < 4; c++) rgba[4 * (ty * width + tx) + c] = Math.round(sums[c] / count);
    }
  }
  return { rgba, width, height };
}

/** Source pixel range [start, end) covered by each of `target` pixels (every one non-empty). */
function spans(source: number, target: number): [number, number][] {
  return Array.from({ length: target }, (_, i) => {
    const start = Math.floor((i * source) / target);
    return [start, Math.max(start + 1, Math.floor(((i + 1) * source) / target))];
  });
}
