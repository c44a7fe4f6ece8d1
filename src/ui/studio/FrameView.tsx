// One picture up close: the foreground mask as an overlay (toggle, opacity), and for a frame its
// matched points beside the identity: hover, tap or arrow to a point on the frame and its identity
// point lights up, with the similarity. The frame's flags in words and its time per stage.

import { useState, type KeyboardEvent, type PointerEvent } from 'react';
import type { PictureKey, StoryFramePictureResult, StoryPictureResult } from '../../engine-api';
import { FLAG_WORDS, raisedFlags } from './Gallery';
import { pictureLabel } from '../../export/picture-metadata';
import { useJobs, type StageTime } from './jobs-store';
import { PictureStack } from './PictureView';
import type { Mask } from './picture-urls';
import { formatMs, framesInWords, STAGE_NAMES, stageTotals } from './progress-words';
import { TOKEN_PIXELS } from './story-edits';
import { useStory } from './story-store';

type Point = StoryFramePictureResult['points'][number];

interface Overlays {
  showMask: boolean;
  opacity: number;
  showPoints: boolean;
}

export function FrameView({ picture }: { picture: PictureKey }) {
  const identity = useJobs((state) => state.identity);
  const frame = useJobs((state) => (picture === 'identity' ? undefined : state.frames[picture.frame]));
  const frameCount = useStory((state) => state.story.frames.length);
  const [overlays, setOverlays] = useState<Overlays>({ showMask: true, opacity: 0.45, showPoints: true });
  const title = pictureLabel(picture);
  const shown = picture === 'identity' ? identity : frame;
  if (!shown) return null;
  return (
    <section className="frame-view panel-inset" aria-labelledby="frame-view-heading">
      <h3 id="frame-view-heading">{title}, up close</h3>
      <p className="prompt-text">
        <span className="muted">Prompt:</span> {shown.result.prompt} <span className="muted">· seed {shown.result.seed} · {shown.result.width} × {shown.result.height}</span>
      </p>
      <OverlayControls overlays={overlays} onChange={setOverlays} hasPoints={frame !== undefined} />
      {frame && identity ? (
        <FrameWithPoints title={title} frame={frame.result} identity={identity.result} overlays={overlays} />
      ) : (
        <figure className="single">
          <PictureStack picture={shown.result} alt={`${title}: ${shown.result.prompt}`} mask={overlays.showMask ? maskOf(shown.result) : undefined} maskOpacity={overlays.opacity} />
          <figcaption>{maskInWords(shown.result)}</figcaption>
        </figure>
      )}
      {frame && <FlagList frame={frame.result} />}
      <StageList stages={shown.stages} frameCount={frameCount} />
    </section>
  );
}

function OverlayControls({ overlays, onChange, hasPoints }: { overlays: Overlays; onChange(overlays: Overlays): void; hasPoints: boolean }) {
  return (
    <div className="overlay-controls">
      <label className="check">
        <input type="checkbox" checked={overlays.showMask} onChange={(event) => onChange({ ...overlays, showMask: event.target.checked })} />
        Show mask
      </label>
      <label className="range">
        Mask opacity
        <input
          type="range"
          min={0}
          max={100}
          value={Math.round(overlays.opacity * 100)}
          disabled={!overlays.showMask}
          aria-valuetext={`${Math.round(overlays.opacity * 100)}%`}
          onChange={(event) => onChange({ ...overlays, opacity: Number(event.target.value) / 100 })}
        />
      </label>
      {hasPoints && (
        <label className="check">
          <input type="checkbox" checked={overlays.showPoints} onChange={(event) => onChange({ ...overlays, showPoints: event.target.checked })} />
          Show matched points
        </label>
      )}
    </div>
  );
}

function FrameWithPoints({ title, frame, identity, overlays }: { title: string; frame: StoryFramePictureResult; identity: StoryPictureResult; overlays: Overlays }) {
  const [active, setActive] = useState(0);
  const points = overlays.showPoints ? frame.points : [];
  const current = points[Math.min(active, points.length - 1)];
  const frameGrid = gridOf(frame);
  const identityGrid = gridOf(identity);
  return (
    <>
      <div className="compare">
        <figure>
          <PictureStack picture={frame} alt={`${title}: ${frame.prompt}`} mask={overlays.showMask ? maskOf(frame) : undefined} maskOpacity={overlays.opacity}>
            {points.length > 0 && <PointPicker title={title} points={points} grid={frameGrid} identityGrid={identityGrid} active={active} onActive={setActive} />}
          </PictureStack>
          <figcaption>
            {title} · {maskInWords(frame)}
          </figcaption>
        </figure>
        <figure>
          <PictureStack picture={identity} alt={`Identity: ${identity.prompt}`} mask={overlays.showMask ? maskOf(identity) : undefined} maskOpacity={overlays.opacity}>
            {points.length > 0 && <IdentityPoints points={points} grid={identityGrid} active={current} />}
          </PictureStack>
          <figcaption>Identity · {maskInWords(identity)}</figcaption>
        </figure>
      </div>
      <p className="point-readout" aria-hidden="true">
        {!overlays.showPoints
          ? 'Matched points are hidden.'
          : current
            ? `Point ${Math.min(active, points.length - 1) + 1} of ${points.length}: ${describePoint(current, frameGrid, identityGrid)}. Hover or tap the frame, or focus it and use the arrow keys.`
            : 'No matched points: no part of this frame’s character was matched to the identity.'}
      </p>
    </>
  );
}

interface Grid {
  rows: number;
  cols: number;
}

const gridOf = (picture: { width: number; height: number }): Grid => ({ rows: picture.height / TOKEN_PIXELS, cols: picture.width / TOKEN_PIXELS });
const maskOf = (picture: StoryPictureResult): Mask => ({ mask: picture.mask, ...gridOf(picture) });
const cell = (token: number, grid: Grid) => ({ row: Math.floor(token / grid.cols), col: token % grid.cols });

function describePoint(point: Point, frameGrid: Grid, identityGrid: Grid): string {
  const at = (token: number, grid: Grid) => {
    const { row, col } = cell(token, grid);
    return `row ${row + 1}, column ${col + 1}`;
  };
  return `frame ${at(point.frameToken, frameGrid)} matches identity ${at(point.identityToken, identityGrid)}, similarity ${point.similarity.toFixed(2)}`;
}

/** The matched points on the frame, one focusable slider over them (arrows, Home, End, Page keys), and hover/tap picking. */
function PointPicker({ title, points, grid, identityGrid, active, onActive }: { title: string; points: Point[]; grid: Grid; identityGrid: Grid; active: number; onActive(index: number): void }) {
  const index = Math.min(active, points.length - 1);
  const step = (delta: number) => onActive(Math.max(0, Math.min(points.length - 1, index + delta)));
  const keys: Record<string, () => void> = {
    ArrowRight: () => step(1), ArrowDown: () => step(1), ArrowLeft: () => step(-1), ArrowUp: () => step(-1),
    PageDown: () => step(10), PageUp: () => step(-10), Home: () => onActive(0), End: () => onActive(points.length - 1),
  };
  const onKeyDown = (event: KeyboardEvent) => {
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  };
  const pick = (event: PointerEvent<SVGSVGElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * grid.cols;
    const y = ((event.clientY - box.top) / box.height) * grid.rows;
    const nearest = nearestPoint(points, grid, x, y);
    if (nearest !== undefined) onActive(nearest);
  };
  return (
    <svg
      className="points"
      viewBox={`0 0 ${grid.cols} ${grid.rows}`}
      preserveAspectRatio="none"
      role="slider"
      tabIndex={0}
      aria-label={`Matched points of ${title.toLowerCase()}`}
      aria-valuemin={1}
      aria-valuemax={points.length}
      aria-valuenow={index + 1}
      aria-valuetext={`Point ${index + 1} of ${points.length}: ${describePoint(points[index], grid, identityGrid)}`}
      onKeyDown={onKeyDown}
      onPointerMove={pick}
      onPointerDown={pick}
    >
      {points.map((point, i) => {
        const { row, col } = cell(point.frameToken, grid);
        return <circle key={i} cx={col + 0.5} cy={row + 0.5} r={pointRadius(grid, i === index)} className={i === index ? 'active' : undefined} data-frame-token={point.frameToken} data-identity-token={point.identityToken} />;
      })}
    </svg>
  );
}

/** The identity's matched points; the one of the frame's active point lit. */
function IdentityPoints({ points, grid, active }: { points: Point[]; grid: Grid; active: Point | undefined }) {
  return (
    <svg className="points" viewBox={`0 0 ${grid.cols} ${grid.rows}`} preserveAspectRatio="none" aria-hidden="true" data-active-identity-token={active?.identityToken}>
      {[...new Set(points.map((point) => point.identityToken))].map((token) => {
        const { row, col } = cell(token, grid);
        const lit = token === active?.identityToken;
        return <circle key={token} cx={col + 0.5} cy={row + 0.5} r={pointRadius(grid, lit)} className={lit ? 'active' : undefined} />;
      })}
    </svg>
  );
}

/** In token units, so a point looks the same size on any grid (pictures are shown at about the same width). */
const pointRadius = (grid: Grid, active: boolean) => Math.max(grid.cols, grid.rows) / (active ? 40 : 110);

/** The point nearest to (x, y) in token units, if one is within two tokens. */
function nearestPoint(points: Point[], grid: Grid, x: number, y: number): number | undefined {
  let best: number | undefined;
  let bestDistance = 4;
  points.forEach((point, i) => {
    const { row, col } = cell(point.frameToken, grid);
    const distance = (col + 0.5 - x) ** 2 + (row + 0.5 - y) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  return best;
}

function maskInWords(picture: StoryPictureResult): string {
  const character = picture.mask.reduce((count, value) => count + (value ? 1 : 0), 0);
  return `mask: ${character} of ${picture.mask.length} tokens are the character`;
}

function FlagList({ frame }: { frame: StoryFramePictureResult }) {
  const flags = raisedFlags(frame.flags);
  return (
    <div className="flag-list">
      <h4>How this frame went</h4>
      {flags.length === 0 ? (
        <p className="ok">The character was found and matched: {frame.points.length} matched points; background shared where the mode asks for it.</p>
      ) : (
        <ul>
          {flags.map((flag) => (
            <li key={flag}>{FLAG_WORDS[flag].long}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function StageList({ stages, frameCount }: { stages: StageTime[]; frameCount: number }) {
  if (stages.length === 0) return null;
  const batch = stages.find((stage) => stage.frames.length > 1)?.frames;
  return (
    <div className="stage-list">
      <h4>Time per stage</h4>
      <p>
        {stageTotals(stages)
          .map(({ stage, ms }) => `${STAGE_NAMES[stage]}: ${formatMs(ms)}`)
          .join(' · ')}
        {batch && <span className="muted"> (one batch: {framesInWords(batch, frameCount)})</span>}
      </p>
    </div>
  );
}
