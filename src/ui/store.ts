// The UI state (zustand): the story being written (persisted, so nothing is lost on reload or
// crash), and the engine's status as the UI last heard it.

import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { EngineErrorInfo, GpuReport, SelfCheckResult } from '../engine-api';

export interface Story {
  environment: string;
  character: string;
  actions: string[];
}

export type GpuStatus =
  | { kind: 'starting' }
  | { kind: 'ready'; report: GpuReport }
  | { kind: 'failed'; error: EngineErrorInfo }
  | { kind: 'lost'; error: EngineErrorInfo };

export type SelfCheckStatus =
  | { kind: 'idle' }
  | { kind: 'running'; stage: string }
  | { kind: 'done'; result: Pick<SelfCheckResult, 'passed' | 'relativeError' | 'gpuMs' | 'sum'> & { length: number } }
  | { kind: 'failed'; error: EngineErrorInfo };

interface StoryState {
  story: Story;
  setEnvironment(value: string): void;
  setCharacter(value: string): void;
  setAction(index: number, value: string): void;
  addAction(): void;
  removeAction(index: number): void;
}

const EXAMPLE_STORY: Story = {
  environment: 'In a quiet harbour town at dawn,',
  character: 'a young woman with short red hair, a green raincoat and a leather satchel',
  actions: ['is buying bread at a market stall.', 'is reading a map on the pier.', 'is riding a bicycle along the sea wall.'],
};

export const useStory = create<StoryState>()(
  persist(
    (set) => ({
      story: EXAMPLE_STORY,
      setEnvironment: (environment) => set(({ story }) => ({ story: { ...story, environment } })),
      setCharacter: (character) => set(({ story }) => ({ story: { ...story, character } })),
      setAction: (index, value) =>
        set(({ story }) => ({ story: { ...story, actions: story.actions.map((a, i) => (i === index ? value : a)) } })),
      addAction: () => set(({ story }) => ({ story: { ...story, actions: [...story.actions, ''] } })),
      removeAction: (index) => set(({ story }) => ({ story: { ...story, actions: story.actions.filter((_, i) => i !== index) } })),
    }),
    { name: 'characonsist.story', version: 1 },
  ),
);

interface EngineState {
  gpu: GpuStatus;
  selfCheck: SelfCheckStatus;
  setGpu(status: GpuStatus): void;
  setSelfCheck(status: SelfCheckStatus): void;
}

export const useEngineState = create<EngineState>()((set) => ({
  gpu: { kind: 'starting' },
  selfCheck: { kind: 'idle' },
  setGpu: (gpu) => set({ gpu }),
  setSelfCheck: (selfCheck) => set({ selfCheck }),
}));
