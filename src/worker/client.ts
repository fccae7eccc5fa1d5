// The page's handle on the engine worker: a Comlink proxy whose methods return promises.

import { wrap, type Remote } from 'comlink';
import type { EngineApi } from './api.ts';

export type EngineClient = Remote<EngineApi>;

export function createEngineClient(): EngineClient {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' });
  return wrap<EngineApi>(worker);
}

export type { EngineApi, Scenario, ScenarioStep, LoadOverrides, Update, TraceChunk } from './api.ts';
