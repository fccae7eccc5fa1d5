// Keyboard shortcuts: one registry (key, what it does, the action), read by the key handler and by the
// `?` overlay, so the list shown is the list that works. Ignored while typing in a form field; a
// picker gives focus back to the page once a choice is made (blurAfterPick).

import { useEffect } from 'react';
import { actions, SPEEDS, store, type Granularity } from '../store/index.ts';
import { enterPresentation } from './review/Presentation.tsx';
import { openCompare } from './review/Compare.tsx';

export interface Shortcut {
  keys: string[];
  label: string;
  run: () => void;
}

const GRANULARITIES: Granularity[] = ['hop', 'interrupt', 'command'];

function speedBy(d: number): void {
  const i = SPEEDS.indexOf(store.getState().playback.speed);
  const j = Math.max(0, Math.min(SPEEDS.length - 1, (i < 0 ? 1 : i) + d));
  actions.setSpeed(SPEEDS[j]);
}

export const SHORTCUTS: Shortcut[] = [
  {
    keys: ['s', 'ArrowRight'],
    label: 'Step forward (one hop, interrupt or command)',
    run: () => void actions.step(),
  },
  { keys: ['b', 'ArrowLeft'], label: 'Back (one hop, interrupt or command)', run: () => void actions.back() },
  {
    keys: ['g'],
    label: 'Step by: hop → interrupt → command',
    run: () => {
      const g = store.getState().cursor.granularity;
      actions.setGranularity(GRANULARITIES[(GRANULARITIES.indexOf(g) + 1) % GRANULARITIES.length]);
    },
  },
  {
    keys: [' '],
    label: 'Run the queued events / Pause',
    run: () => (store.getState().playback.playing ? actions.pause() : actions.play('run')),
  },
  {
    keys: ['p'],
    label: 'Play the whole scenario / Pause',
    run: () => (store.getState().playback.playing ? actions.pause() : actions.play('scenario')),
  },
  { keys: ['n'], label: "Apply the scenario's next command", run: () => void actions.nextStep() },
  { keys: ['r'], label: 'Reset the scenario', run: () => void actions.reset() },
  { keys: ['Home'], label: 'Cursor to the start', run: () => actions.seek(0) },
  {
    keys: ['End'],
    label: 'Cursor to the newest hop',
    run: () => actions.seek(store.getState().engine.traceLength),
  },
  { keys: ['['], label: 'Slower', run: () => speedBy(-1) },
  { keys: [']'], label: 'Faster', run: () => speedBy(1) },
  {
    keys: ['t'],
    label: 'Light / dark theme',
    run: () => actions.setTheme(document.documentElement.dataset.theme === 'light' ? 'dark' : 'light'),
  },
  { keys: ['f'], label: 'Presentation mode (captions as slides; Esc leaves)', run: enterPresentation },
  { keys: ['c'], label: 'Side by side: two designs, kernels or paths at this step', run: openCompare },
  { keys: ['?'], label: 'This list', run: () => actions.toggleHelp() },
  {
    keys: ['Escape'],
    label: 'Close this list; clear the selection',
    run: () => {
      if (store.getState().presentation.help) actions.toggleHelp(false);
      else {
        actions.selectNode(null);
        actions.selectEvent(null, null);
      }
    },
  },
];

const keyName = (k: string) => (k === ' ' ? 'space' : k === 'ArrowRight' ? '→' : k === 'ArrowLeft' ? '←' : k);
export const shortcutKeys = (s: Shortcut) => s.keys.map(keyName);

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

export function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (TYPING.has(t.tagName)) {
        // Escape leaves a field, so the next key is a shortcut again.
        if (e.key === 'Escape') t.blur();
        return;
      }
      // Space and Enter on a focused button press it; they are not shortcuts there.
      if ((e.key === ' ' || e.key === 'Enter') && t.tagName === 'BUTTON') return;
      const sc = SHORTCUTS.find((s) => s.keys.includes(e.key));
      if (sc) {
        e.preventDefault();
        sc.run();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

/** After a choice in a picker, focus goes back to the page so the shortcuts work again. */
export function blurAfterPick(el: HTMLElement): void {
  el.blur();
}
