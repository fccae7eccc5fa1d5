// The page's handle on the engine worker: a Comlink proxy whose methods return promises, and the
// Worker itself (so the page can notice that it died and replace it).

import { wrap, type Remote } from 'comlink';
import type { EngineApi } from './api.ts';

export type EngineClient = Remote<EngineApi>;

export interface WorkerHandle {
  api: EngineClient;
  /** Fires when the worker reports an error it did not catch, or cannot read a message. */
  onDeath(f: (why: string) => void): void;
  terminate(): void;
}

export function createEngineClient(): WorkerHandle {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  const api = wrap<EngineApi>(worker);
  return {
    api,
    onDeath(f) {
      worker.addEventListener('error', (e) => f(`worker error: ${e.message || 'the worker failed'}`));
      worker.addEventListener('messageerror', () => f('worker message could not be read'));
    },
    terminate: () => worker.terminate(),
  };
}

export type {
  Breakpoint,
  EngineApi,
  Frame,
  Scenario,
  ScenarioStep,
  LoadOverrides,
  Update,
  TraceChunk,
} from './api.ts';
