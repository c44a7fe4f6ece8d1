// What this browser stores: each model file with its size and state, delete, "free space", the
// storage estimate and whether the browser keeps the files when disk space runs low.

import type { StoredModelFile } from '../../engine-api';
import { ErrorCard } from '../ErrorCard';
import { gigabytes } from './format';
import { deleteStored, freeSpace, requestPersistence } from './model-actions';
import { useModels } from './models-state';

export function StoredFiles() {
  const stored = useModels((state) => state.stored);
  const storage = useModels((state) => state.storage);
  const persisted = useModels((state) => state.persisted);
  const error = useModels((state) => state.storageError);
  return (
    <section className="stored-files" aria-labelledby="stored-files-heading">
      <h3 id="stored-files-heading">Stored in this browser</h3>
      {storage && (
        <p className="muted" data-testid="storage-estimate">
          Models take {gigabytes(storage.modelBytes)}; this site uses {gigabytes(storage.usageBytes)} of the {gigabytes(storage.quotaBytes)} the browser allows it.
        </p>
      )}
      <p className="muted">
        {persisted ? 'The browser keeps these files when disk space runs low.' : 'The browser may delete these files when disk space runs low.'}{' '}
        {!persisted && (
          <button type="button" className="link" onClick={() => void requestPersistence()}>
            Ask the browser to keep them
          </button>
        )}
      </p>
      {error && <ErrorCard error={error} />}
      {stored.length === 0 ? (
        <p className="muted">No model files yet.</p>
      ) : (
        <>
          <ul className="stored-list" aria-label="Stored model files">
            {stored.map((file) => (
              <li key={file.fileId}>
                <StoredEntry file={file} />
              </li>
            ))}
          </ul>
          <button type="button" className="secondary" onClick={() => void freeSpace()}>
            Free space
          </button>
          <span className="muted"> deletes partial downloads and every file the chosen bundle does not use.</span>
        </>
      )}
    </section>
  );
}

function StoredEntry({ file }: { file: StoredModelFile }) {
  return (
    <>
      <span className="file-name">{file.name}</span>{' '}
      <span className="number">{gigabytes(file.bytes)}</span>{' '}
      <span className={file.status === 'ready' ? 'ok' : 'muted'}>{file.status === 'ready' ? 'verified' : `partial (${gigabytes(file.bytes)} of ${gigabytes(file.totalBytes)})`}</span>{' '}
      <button type="button" className="secondary small" aria-label={`Delete ${file.name}`} onClick={() => void deleteStored(file.fileId)}>
        Delete
      </button>
      {file.notes.map((note) => (
        <p key={note} className="muted note">
          {note}
        </p>
      ))}
    </>
  );
}
