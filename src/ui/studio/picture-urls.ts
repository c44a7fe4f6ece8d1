// Engine pictures (RGBA8 arrays) as image URLs for <img>: encoded once per array as a lossless
// PNG, so what the page shows is exactly what the engine made.

import { useEffect, useState } from 'react';

export interface Rgba {
  /** RGBA8 [height, width, 4] */
  rgba: Uint8Array;
  width: number;
  height: number;
}

const encoded = new WeakMap<Uint8Array, Promise<string>>();

function pictureUrl({ rgba, width, height }: Rgba): Promise<string> {
  let url = encoded.get(rgba);
  if (!url) {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
    url = canvas.convertToBlob({ type: 'image/png' }).then((blob) => URL.createObjectURL(blob));
    encoded.set(rgba, url);
  }
  return url;
}

/** An object URL of the picture (undefined while it is encoded). URLs live as long as their arrays are in use. */
export function usePictureUrl(picture: Rgba | undefined): string | undefined {
  const [url, setUrl] = useState<{ of: Uint8Array; url: string }>();
  useEffect(() => {
    if (!picture) return;
    let current = true;
    void pictureUrl(picture).then((made) => current && setUrl({ of: picture.rgba, url: made }));
    return () => {
      current = false;
    };
  }, [picture]);
  return picture && url?.of === picture.rgba ? url.url : undefined;
}

/** A foreground mask on the token grid: [rows * cols], 1 = character. */
export interface Mask {
  mask: Uint8Array;
  rows: number;
  cols: number;
}

/** A token-grid mask as a colour picture of cols x rows pixels (transparent where there is no character). */
export function maskPicture(mask: Uint8Array, rows: number, cols: number, colour: readonly [number, number, number]): Rgba {
  const rgba = new Uint8Array(rows * cols * 4);
  mask.forEach((value, i) => {
    if (!value) return;
    rgba.set([...colour, 255], 4 * i);
  });
  return { rgba, width: cols, height: rows };
}

/** SVG path of the edges between character and background tokens (token units). */
export function maskOutline({ mask, rows, cols }: Mask): string {
  const inside = (row: number, col: number) => row >= 0 && row < rows && col >= 0 && col < cols && mask[row * cols + col] !== 0;
  const edges: string[] = [];
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      if (!inside(row, col)) continue;
      if (!inside(row - 1, col)) edges.push(`M${col} ${row}h1`);
      if (!inside(row + 1, col)) edges.push(`M${col} ${row + 1}h1`);
      if (!inside(row, col - 1)) edges.push(`M${col} ${row}v1`);
      if (!inside(row, col + 1)) edges.push(`M${col + 1} ${row}v1`);
    }
  }
  return edges.join('');
}
