// Showing a picture: the finished image (a lossless PNG of the engine's pixels, with its prompt as
// alt text), a live preview of the latents while it is made, and a mask as a colour overlay.

import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import type { LivePicture } from './jobs-store';
import type { Mask } from './picture-urls';
import { maskOutline, maskPicture, usePictureUrl, type Rgba } from './picture-urls';

/** The overlay's colour: a magenta that stands out on most photographs. */
export const MASK_COLOUR = [255, 0, 170] as const;
/** Below this width a picture is scaled up with hard pixel edges instead of blurred. */
const SMALL = 256;

/** A picture with optional overlays stacked on it (the mask, matched points). */
export function PictureStack({ picture, alt, mask, maskOpacity, children }: { picture: Rgba; alt: string; mask?: Mask; maskOpacity?: number; children?: ReactNode }) {
  const url = usePictureUrl(picture);
  return (
    <div className="picture-stack" style={{ aspectRatio: `${picture.width} / ${picture.height}` }} data-small={picture.width < SMALL || undefined}>
      {/* The PNG takes a moment to encode; until then there is nothing to describe. */}
      {url ? <img src={url} alt={alt} width={picture.width} height={picture.height} /> : <div className="picture-placeholder" aria-hidden="true" />}
      {mask && <MaskOverlay mask={mask} opacity={maskOpacity ?? 0.45} />}
      {children}
    </div>
  );
}

/** The mask as a tint (at `opacity`) with its outline drawn on top, so it reads on any picture. */
export function MaskOverlay({ mask, opacity }: { mask: Mask; opacity: number }) {
  const picture = useMemo(() => maskPicture(mask.mask, mask.rows, mask.cols, MASK_COLOUR), [mask]);
  const outline = useMemo(() => maskOutline(mask), [mask]);
  const url = usePictureUrl(picture);
  if (!url) return null;
  return (
    <>
      <img className="mask-overlay" src={url} alt="" aria-hidden="true" style={{ opacity }} data-testid="mask-overlay" />
      <svg className="mask-outline" viewBox={`0 0 ${mask.cols} ${mask.rows}`} preserveAspectRatio="none" aria-hidden="true" style={{ opacity: Math.min(1, 2 * opacity) }}>
        <path d={outline} className="under" />
        <path d={outline} />
      </svg>
    </>
  );
}

/** The engine's live preview (1/8 of the picture's size), drawn as it arrives. */
export function LivePreview({ live, label, aspect }: { live: LivePicture; label: string; aspect: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const preview = live.preview;
  useEffect(() => {
    if (!preview || !canvas.current) return;
    canvas.current.width = preview.width;
    canvas.current.height = preview.height;
    canvas.current.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(preview.rgba), preview.width, preview.height), 0, 0);
  }, [preview]);
  const step = preview ? `, step ${preview.step} of ${preview.steps}` : '';
  return (
    <div className="picture-stack live" style={{ aspectRatio: aspect }}>
      {preview ? <canvas ref={canvas} role="img" aria-label={`${label}${step}`} /> : <div className="picture-placeholder working" role="img" aria-label={`${label}: starting`} />}
      {live.mask && <MaskOverlay mask={live.mask} opacity={0.35} />}
      {preview && (
        <span className="live-badge" aria-hidden="true">
          step {preview.step}/{preview.steps}
          {live.mask ? ' · mask' : ''}
        </span>
      )}
    </div>
  );
}
