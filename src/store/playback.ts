// The Run loop: while playing, ask the worker for a batch of events sized to the speed, at most
// TICKS_PER_SECOND times a second, so the page re-renders per batch, never per event.

import type { StoreApi } from 'zustand/vanilla';
import type { Update } from '../worker/api.ts';
import type { AppState } from './slices.ts';

const TICKS_PER_SECOND = 15;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPlayback(
  store: StoreApi<AppState>,
  run: (maxEvents: number) => Promise<Update | null>,
): Promise<void> {
  while (store.getState().playback.playing) {
    const t0 = performance.now();
    const speed = store.getState().playback.speed;
    // Slow speeds: one event per tick, ticks spaced 1/speed apart; fast: speed/TICKS events per tick.
    const perTick = Math.max(1, Math.round(speed / TICKS_PER_SECOND));
    const interval = perTick === 1 ? 1000 / speed : 1000 / TICKS_PER_SECOND;
    const u = await run(perTick);
    if (!u || u.idle) {
      store.setState((s) => ({ playback: { ...s.playback, playing: false } }));
      return;
    }
    await sleep(Math.max(0, interval - (performance.now() - t0)));
  }
}
