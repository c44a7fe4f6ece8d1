import { useEffect } from 'react';
import { startGpu } from './engine-session';
import { GpuPanel } from './GpuPanel';
import { StoryPanel } from './StoryPanel';

export function App() {
  useEffect(() => {
    void startGpu();
  }, []);
  return (
    <div className="app">
      <header>
        <h1>CharaConsist</h1>
        <p className="tagline">The same character in every frame, drawn by FLUX.1 on your own GPU.</p>
      </header>
      <main>
        <StoryPanel />
        <GpuPanel />
      </main>
    </div>
  );
}
