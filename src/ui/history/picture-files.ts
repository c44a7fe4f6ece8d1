// A finished picture as the history keeps it: lossless PNGs of the picture and its mask (written
// by our encoder, so the stored pixels are exactly the engine's), a thumbnail, and the facts the
// gallery and the exports need.

import type { PictureKey, StoryFramePictureResult, StoryPictureResult } from '../../engine-api';
import { pictureName } from '../../export/picture-metadata';
import { encodePng } from '../../export/png';
import { thumbnail } from '../../export/thumbnail';
import type { PictureFacts, PictureRecord } from './history-db';

/** px, the longer side of gallery thumbnails */
export const THUMBNAIL_SIDE = 192;

export interface EncodedPicture {
  facts: PictureFacts;
  record: Omit<PictureRecord, 'storyId'>;
  thumbnail: Blob;
}

const pngBlob = (bytes: Uint8Array<ArrayBuffer>) => new Blob([bytes], { type: 'image/png' });

export function encodePicture(picture: PictureKey, result: StoryPictureResult | StoryFramePictureResult): EncodedPicture {
  const { rgba, width, height } = result;
  const png = pngBlob(encodePng(rgba, width, height));
  const maskPng = pngBlob(encodePng(result.maskPixels.map((inside) => (inside ? 255 : 0)), width, height, { channels: 1 }));
  const small = thumbnail({ rgba, width, height }, THUMBNAIL_SIDE);
  const frame = 'flags' in result ? result : undefined;
  const name = pictureName(picture);
  return {
    facts: {
      name,
      picture,
      prompt: result.prompt,
      seed: result.seed,
      width,
      height,
      ...(frame && { flags: frame.flags }),
      bytes: png.size + maskPng.size,
    },
    record: { name, png, maskPng, mask: result.mask, ...(frame && { preMask: frame.preMask, points: frame.points }) },
    thumbnail: pngBlob(encodePng(small.rgba, small.width, small.height)),
  };
}

/** Identity first, then frames in story order. */
export function pictureOrder(a: PictureFacts, b: PictureFacts): number {
  const rank = ({ picture }: PictureFacts) => (picture === 'identity' ? -1 : picture.frame);
  return rank(a) - rank(b);
}
