// The app's one store: a vanilla zustand store (the worker's answers go in through actions), read by
// React through selectors (`useApp`), and by the d3 diagram through `store.subscribe`.

import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';
import { createEngineClient } from '../worker/client.ts';
import { createActions } from './actions.ts';
import { EngineLink } from './link.ts';
import { initialState, type AppState } from './slices.ts';

export const store = createStore<AppState>()(() => initialState());

/** The link to the engine worker; the recorder (src/ui/record) listens to its answers and asks it for its operations. */
export const link = new EngineLink(createEngineClient);
export const actions = createActions(store, link);

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(store, selector);
}

export type { AppState, Granularity } from './slices.ts';
export { SPEEDS, TRACE_WINDOW } from './slices.ts';
