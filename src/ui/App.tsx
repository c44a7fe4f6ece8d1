import { useEffect, type ReactElement } from 'react';
import { startGpu } from './engine-client';
import { GpuPanel } from './GpuPanel';
import { HistoryPanel } from './history/HistoryPanel';
import { ModelPanel } from './models/ModelPanel';
import { useGenerationModels } from './models/models-store';
import { StoryImports } from './share/StoryImport';
import { useEngineState } from './store';
import { Studio } from './studio/Studio';

/**
 * The page: a bar with the sections and their status, the studio as the main area, then the
 * panels people visit less often (models, history, GPU), each reachable from the bar.
 */
export function App() {
  useEffect(() => {
    void startGpu();
  }, []);
  return (
    <div className="app">
      <TopBar />
      <StoryImports />
      <main id="studio" tabIndex={-1}>
        <Studio />
      </main>
      <div className="docks">
        <div id="models" className="dock" tabIndex={-1}>
          <ModelPanel />
        </div>
        <div id="history" className="dock" tabIndex={-1}>
          <HistoryPanel />
        </div>
        <div id="gpu" className="dock" tabIndex={-1}>
          <GpuPanel />
        </div>
      </div>
    </div>
  );
}

/** The page's sections, each with its status where it has one. */
const SECTIONS: { id: string; name: string; Status?: () => ReactElement }[] = [
  { id: 'studio', name: 'Studio' },
  { id: 'models', name: 'Models', Status: ModelsStatus },
  { id: 'history', name: 'History' },
  { id: 'gpu', name: 'GPU', Status: GpuStatus },
];

function TopBar() {
  return (
    <header className="topbar">
      <a className="skip-link" href="#story-heading">
        Skip to the story
      </a>
      <div className="brand">
        <img src="icon.svg" alt="" width={32} height={32} />
        <div>
          <h1>CharaConsist</h1>
          <p className="tagline">The same character in every frame, drawn by FLUX.1 on your own GPU.</p>
        </div>
      </div>
      <nav aria-label="Sections">
        <ul>
          {SECTIONS.map(({ id, name, Status }) => (
            <li key={id}>
              <a href={`#${id}`}>
                {name} {Status && <Status />}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  );
}

function ModelsStatus() {
  const models = useGenerationModels();
  return <StatusDot tone={models.ready ? 'ok' : 'warn'} words={models.ready ? 'ready' : 'needed'} />;
}

function GpuStatus() {
  const gpu = useEngineState((state) => state.gpu);
  const words = { starting: ['starting', 'busy'], ready: ['ready', 'ok'], failed: ['unavailable', 'bad'], lost: ['lost', 'bad'] }[gpu.kind];
  const software = gpu.kind === 'ready' && gpu.report.isSoftware;
  return <StatusDot tone={software ? 'warn' : words[1]} words={software ? 'software' : words[0]} />;
}

/** A coloured dot and a word; on narrow screens only the dot shows (the word stays for screen readers). */
function StatusDot({ tone, words }: { tone: string; words: string }) {
  return (
    <span className={`status-dot ${tone}`}>
      <span className="status-word">{words}</span>
    </span>
  );
}
