// The model panel: the bundles of the catalog with their sizes, licences and the capability
// verdict; the licence screen FLUX.1 [dev] needs before its files are offered; downloads with
// their progress; files picked from this computer; what the browser stores; the catalog address.

import { useEffect, useId, useState } from 'react';
import { MODEL_COMPONENTS, type Bundle, type Catalog, type Licence } from '../../schema/catalog';
import { useEngineState } from '../store';
import { BundleFiles } from './BundleFiles';
import { CapabilityView } from './CapabilityView';
import { gigabytes } from './format';
import { acceptLicence, checkCapabilities, selectBundle, setCatalogUrl, startModels } from './model-actions';
import { catalogFile, pendingLicences, selectedBundle, useModels } from './models-state';
import { StoredFiles } from './StoredFiles';
import './models.css';

export function ModelPanel() {
  const catalog = useModels((state) => state.catalog);
  const bundle = useModels(selectedBundle);
  const gpu = useEngineState((state) => state.gpu.kind);
  useEffect(() => void startModels(), []);
  useEffect(() => {
    if (gpu === 'ready' && catalog.kind === 'ready') void checkCapabilities();
  }, [gpu, catalog]);
  return (
    <section className="panel models-panel" aria-labelledby="models-heading" data-testid="model-panel">
      <h2 id="models-heading">Models</h2>
      {catalog.kind === 'loading' && <p className="muted">Reading the model catalog…</p>}
      {catalog.kind === 'ready' && (
        <>
          {catalog.problem && (
            <p className="models-problem" role="alert">
              {catalog.problem}
            </p>
          )}
          <BundleChoice catalog={catalog.catalog} selected={bundle!} />
          <SelectedBundle catalog={catalog.catalog} bundle={bundle!} />
          <StoredFiles />
          <CatalogSettings from={catalog.from} />
        </>
      )}
    </section>
  );
}

function BundleChoice({ catalog, selected }: { catalog: Catalog; selected: Bundle }) {
  const verdicts = useModels((state) => (state.capability.kind === 'done' ? state.capability.verdicts : undefined));
  return (
    <fieldset className="bundle-choice">
      <legend>Bundle</legend>
      {catalog.bundles.map((bundle) => {
        const verdict = verdicts?.[bundle.id];
        return (
          <label key={bundle.id} className={`bundle-option${bundle.id === selected.id ? ' selected' : ''}`}>
            <input type="radio" name="bundle" value={bundle.id} checked={bundle.id === selected.id} onChange={() => selectBundle(bundle.id)} />
            <span className="bundle-name">{bundle.name}</span>
            <span className="bundle-facts">
              {gigabytes(bundleBytes(catalog, bundle))} · {bundleLicences(catalog, bundle).map((licence) => licence.name).join(', ')}
              {bundle.noise && <span className="badge warn">test models: they draw noise</span>}
              {verdict && <span className={`badge ${verdict.runnable ? 'ok' : 'bad'}`}>{verdict.runnable ? `runs here${verdict.largestSide ? ` up to ${verdict.largestSide}²` : ''}` : 'cannot run here'}</span>}
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}

function SelectedBundle({ catalog, bundle }: { catalog: Catalog; bundle: Bundle }) {
  const acceptedLicences = useModels((state) => state.acceptedLicences);
  const pending = pendingLicences({ acceptedLicences }, catalog, bundle);
  return (
    <div className="panel-inset" aria-label={`${bundle.name}: files, licence and what runs here`}>
      <h3>{bundle.name}</h3>
      {bundle.description && <p className="muted">{bundle.description}</p>}
      <p className="muted">
        Schedule: {bundle.schedule === 'dev-50' ? '50 steps (the paper\'s setting)' : '4 steps (schnell)'}. Licences:{' '}
        {bundleLicences(catalog, bundle).map((licence, i) => (
          <span key={licence.id}>
            {i > 0 && ', '}
            <a href={licence.url} target="_blank" rel="noreferrer noopener">
              {licence.name}
            </a>
          </span>
        ))}
        .
      </p>
      <CapabilityView bundle={bundle} />
      {pending.length ? <LicenceScreen licence={pending[0]} bundle={bundle} /> : <BundleFiles catalog={catalog} bundle={bundle} />}
    </div>
  );
}

/** A licence that must be accepted before the bundle's files are offered (FLUX.1 [dev]'s). */
function LicenceScreen({ licence, bundle }: { licence: Licence; bundle: Bundle }) {
  const [agreed, setAgreed] = useState(false);
  const id = useId();
  return (
    <section className="licence-screen" aria-labelledby={`${id}-title`} data-testid="licence-screen">
      <h4 id={`${id}-title`}>Licence: {licence.name}</h4>
      <p>{licence.summary}</p>
      <p>
        <a href={licence.url} target="_blank" rel="noreferrer noopener">
          Read the whole licence
        </a>{' '}
        before you accept it. The files of {bundle.name} are offered once you have.
      </p>
      <label className="check">
        <input type="checkbox" checked={agreed} onChange={(event) => setAgreed(event.target.checked)} />I have read the {licence.name} and accept it.
      </label>
      <button type="button" className="primary" disabled={!agreed} onClick={() => acceptLicence(licence.id)}>
        Accept the licence
      </button>
    </section>
  );
}

function CatalogSettings({ from }: { from: string }) {
  const saved = useModels((state) => state.customCatalogUrl);
  const [address, setAddress] = useState(saved);
  const fromQuery = new URLSearchParams(location.search).has('catalog');
  return (
    <details className="catalog-settings">
      <summary>Catalog</summary>
      <p className="muted">
        In use: {from}. A mirror, or your own server, can stand in for the default hosts with a catalog file (the format:{' '}
        <code>src/schema/catalog.ts</code>).{fromQuery && ' This page was opened with a ?catalog= address, which wins over the setting.'}
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void setCatalogUrl(address);
        }}
      >
        <label>
          Catalog address
          <input type="url" value={address} placeholder="https://example.org/catalog.json" onChange={(event) => setAddress(event.target.value)} />
        </label>
        <div className="row">
          <button type="submit" className="secondary">
            Use this catalog
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setAddress('');
              void setCatalogUrl('');
            }}
          >
            Use the built-in catalog
          </button>
        </div>
      </form>
    </details>
  );
}

function bundleBytes(catalog: Catalog, bundle: Bundle): number {
  return MODEL_COMPONENTS.reduce((sum, component) => sum + catalogFile(catalog, bundle.files[component]).bytes, 0);
}

function bundleLicences(catalog: Catalog, bundle: Bundle): Licence[] {
  const ids = new Set(MODEL_COMPONENTS.map((component) => catalogFile(catalog, bundle.files[component]).licence));
  return catalog.licences.filter((licence) => ids.has(licence.id));
}
