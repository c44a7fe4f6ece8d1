// The engine's status as the UI last heard it (zustand). The story and the running jobs have
// their own stores (studio/story-store.ts, studio/jobs-store.ts).

import { create } from 'zustand';
import type { EngineErrorInfo, GpuReport, SelfCheckResult } from '../engine-api';

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
