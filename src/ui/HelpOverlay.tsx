// The `?` overlay: every keyboard shortcut, from the same registry the key handler uses.

import { useEffect, useRef } from 'react';
import { actions, useApp } from '../store/index.ts';
import { SHORTCUTS, shortcutKeys } from './shortcuts.ts';

export function HelpOverlay() {
  const open = useApp((s) => s.presentation.help);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) ref.current?.focus();
  }, [open]);
  if (!open) return null;
  return (
    <div className="overlay" data-testid="help-overlay" onClick={() => actions.toggleHelp(false)}>
      <div
        className="overlay-box"
        role="dialog"
        aria-modal="true"
        aria-label="Keyboard shortcuts"
        tabIndex={-1}
        ref={ref}
        onClick={(e) => e.stopPropagation()}
      >
        <h2>Keyboard shortcuts</h2>
        <table className="shortcuts">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.label} data-testid="shortcut">
                <td>
                  {shortcutKeys(s).map((k) => (
                    <kbd key={k}>{k}</kbd>
                  ))}
                </td>
                <td>{s.label}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="muted">
          Diagram boxes take focus with Tab; Enter inspects one. Pickers give the keyboard back to the page
          once you choose.
        </p>
        <button onClick={() => actions.toggleHelp(false)}>Close (Esc)</button>
      </div>
    </div>
  );
}
