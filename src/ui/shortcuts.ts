// Keyboard shortcuts: s step, b back, n next scenario command, space run/pause, r reset.
// Ignored while typing in a form field.

import { useEffect } from 'react';
import { actions, store } from '../store/index.ts';

export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
      const playing = store.getState().playback.playing;
      const act: Record<string, () => void> = {
        s: () => void actions.step(),
        b: () => void actions.back(),
        n: () => void actions.nextStep(),
        r: () => void actions.reset(),
        ' ': () => (playing ? actions.pause() : actions.play()),
      };
      const f = act[e.key];
      if (f) {
        e.preventDefault();
        f();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
