// The files of the chosen bundle: each one's size and state (stored, downloading with bytes, rate,
// time left and phase, paused, failed), pause / resume / cancel, a file from this computer in its
// place, and the button that downloads what is missing.

import type { DownloadPhase, ModelComponent, StoredModelFile } from '../../engine-api';
import { MODEL_COMPONENTS, type Bundle, type Catalog, type CatalogFile } from '../../schema/catalog';
import { ErrorCard } from '../ErrorCard';
import { duration, gigabytes, rate } from './format';
import { cancelDownload, downloadBundle, forgetLocalFile, pauseDownload, pickLocalFile } from './model-actions';
import { catalogFile, useModels, type DownloadView, type LocalFile } from './models-state';

const COMPONENT_NAMES: Record<ModelComponent, string> = { transformer: 'Transformer', t5: 'T5 text encoder', clip: 'CLIP text encoder', vae: 'VAE' };
/** the same, inside a sentence */
const COMPONENT_WORDS: Record<ModelComponent, string> = { transformer: 'transformer', t5: 'T5 text encoder', clip: 'CLIP text encoder', vae: 'VAE' };
const PHASE_WORDS: Record<DownloadPhase, string> = {
  probe: 'asking the server',
  header: 'checking the file header',
  download: 'downloading',
  verify: 'verifying (size, sha256, structure)',
  ready: 'verified',
};

export function BundleFiles({ catalog, bundle }: { catalog: Catalog; bundle: Bundle }) {
  const stored = useModels((state) => state.stored);
  const downloads = useModels((state) => state.downloads);
  const localFiles = useModels((state) => state.localFiles);
  const files = MODEL_COMPONENTS.map((component) => ({ component, file: catalogFile(catalog, bundle.files[component]) }));
  const missing = files.filter(({ component, file }) => localFiles[component]?.status !== 'ok' && !isReady(stored, file.id));
  const running = files.some(({ file }) => downloads[file.id]?.state === 'running');
  const missingBytes = missing.reduce((sum, { file }) => sum + file.bytes - (stored.find((entry) => entry.fileId === file.id)?.bytes ?? 0), 0);
  const resumable = missing.some(({ file }) => stored.some((entry) => entry.fileId === file.id) || downloads[file.id]);
  return (
    <>
      <table className="bundle-files">
        <caption className="visually-hidden">Files of {bundle.name}</caption>
        <thead>
          <tr>
            <th scope="col">Part</th>
            <th scope="col">File</th>
            <th scope="col">Size</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {files.map(({ component, file }) => (
            <tr key={component} data-testid={`model-file-${component}`}>
              <th scope="row">{COMPONENT_NAMES[component]}</th>
              <td>
                <span className="file-name">{file.name}</span>
                {file.quantization && <span className="badge">{file.quantization}</span>}
                <LocalFilePicker component={component} local={localFiles[component]} />
              </td>
              <td className="number">{gigabytes(file.bytes)}</td>
              <td>
                <FileState file={file} stored={stored.find((entry) => entry.fileId === file.id)} view={downloads[file.id]} local={localFiles[component]} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {running && <OverallProgress bundle={bundle} files={files.map(({ file }) => file)} stored={stored} downloads={downloads} />}
      {missing.length > 0 && (
        <p className="row">
          <button type="button" className="primary" disabled={running} onClick={() => void downloadBundle()}>
            {resumable ? `Resume downloading ${bundle.name}` : `Download ${bundle.name}`} ({gigabytes(missingBytes)})
          </button>
          <span className="muted">Files are checked before their data is fetched, verified after, and kept in this browser (not the service worker).</span>
        </p>
      )}
      {missing.length === 0 && <p className="ok">Every file of {bundle.name} is ready: the studio can generate.</p>}
    </>
  );
}

/** The whole bundle: bytes of every file, at the rate of the one downloading now. */
function OverallProgress({ bundle, files, stored, downloads }: { bundle: Bundle; files: CatalogFile[]; stored: StoredModelFile[]; downloads: Record<string, DownloadView> }) {
  const doneOf = (file: CatalogFile) => downloads[file.id]?.progress?.doneBytes ?? stored.find((entry) => entry.fileId === file.id)?.bytes ?? 0;
  const totalOf = (file: CatalogFile) => downloads[file.id]?.progress?.totalBytes ?? stored.find((entry) => entry.fileId === file.id)?.totalBytes ?? file.bytes;
  const done = files.reduce((sum, file) => sum + doneOf(file), 0);
  const total = files.reduce((sum, file) => sum + totalOf(file), 0);
  const bytesPerSecond = files.reduce((sum, file) => sum + (downloads[file.id]?.state === 'running' ? (downloads[file.id]?.progress?.bytesPerSecond ?? 0) : 0), 0);
  return (
    <div className="overall" data-testid="overall-progress">
      <progress max={total} value={done} aria-label={`${bundle.name} downloaded`} />
      <span className="number">
        All files: {gigabytes(done)} of {gigabytes(total)}, {rate(bytesPerSecond)}, {duration(bytesPerSecond > 0 ? (total - done) / bytesPerSecond : undefined)} left
      </span>
    </div>
  );
}

function FileState({ file, stored, view, local }: { file: CatalogFile; stored: StoredModelFile | undefined; view: DownloadView | undefined; local: LocalFile | undefined }) {
  if (local?.status === 'ok') return <span className="ok">using {local.file.name} from this computer{local.sameAs ? ' (identical to the catalog file)' : ''}</span>;
  if (stored?.status === 'ready' && !view) return <span className="ok" data-state="ready">stored and verified</span>;
  const done = view?.progress?.doneBytes ?? stored?.bytes ?? 0;
  const total = view?.progress?.totalBytes ?? stored?.totalBytes ?? file.bytes;
  const phase = view?.progress?.phase;
  return (
    <div className="file-state" data-state={view?.state ?? (stored ? 'partial' : 'missing')}>
      {(view || stored) && (
        <>
          <progress max={total} value={done} aria-label={`${file.name} downloaded`} />
          <span className="number">
            {gigabytes(done)} of {gigabytes(total)}
          </span>
        </>
      )}
      {view?.state === 'running' && (
        <>
          <span>{phase ? PHASE_WORDS[phase] : 'starting'}</span>
          {phase === 'download' && (
            <span className="muted">
              {rate(view.progress!.bytesPerSecond)}, {duration(view.progress!.etaSeconds)} left
            </span>
          )}
          <span className="row">
            <button type="button" className="secondary small" aria-label={`Pause ${file.name}`} onClick={() => void pauseDownload(file.id)}>
              Pause
            </button>
            <button type="button" className="secondary small" aria-label={`Cancel ${file.name}`} onClick={() => void cancelDownload(file.id)}>
              Cancel
            </button>
          </span>
        </>
      )}
      {view?.state !== 'running' && stored?.status === 'partial' && (
        <span className="row">
          <span className="muted">{view?.state === 'paused' ? 'paused' : 'stopped'}: resumes where it stopped</span>
          <button type="button" className="secondary small" aria-label={`Resume ${file.name}`} onClick={() => void downloadBundle()}>
            Resume
          </button>
          <button type="button" className="secondary small" aria-label={`Cancel ${file.name}`} onClick={() => void cancelDownload(file.id)}>
            Cancel
          </button>
        </span>
      )}
      {!view && !stored && <span className="muted">not downloaded</span>}
      {view?.state === 'failed' && view.error && <ErrorCard error={view.error} />}
    </div>
  );
}

/** A file of this computer for one part: checked by the engine as downloads are; kept while the tab is open. */
function LocalFilePicker({ component, local }: { component: ModelComponent; local: LocalFile | undefined }) {
  const label = `Use a ${COMPONENT_WORDS[component]} file from this computer`;
  return (
    <div className="local-file">
      {local ? (
        <>
          <span className="muted">
            {local.file.name}: {local.status === 'checking' ? 'checking…' : local.status === 'ok' ? local.report!.summary : 'refused'}
          </span>
          <button type="button" className="link" onClick={() => forgetLocalFile(component)}>
            Stop using {local.file.name}
          </button>
          {local.error && <ErrorCard error={local.error} />}
        </>
      ) : (
        <label className="file-pick">
          {label}
          <input
            type="file"
            accept=".gguf,.safetensors"
            onChange={(event) => {
              const file = event.target.files?.[0];
              if (file) void pickLocalFile(component, file);
              event.target.value = '';
            }}
          />
        </label>
      )}
    </div>
  );
}

function isReady(stored: readonly StoredModelFile[], fileId: string): boolean {
  return stored.some((entry) => entry.fileId === fileId && entry.status === 'ready');
}
