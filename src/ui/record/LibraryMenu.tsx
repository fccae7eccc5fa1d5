// The library menu: the built-in scenarios and the user's own (recorded or imported, kept in
// IndexedDB), each opened with a click; the user's can be removed.

import { useEffect, useRef, useState } from 'react';
import { actions, useApp } from '../../store/index.ts';
import { open, removeSaved, useRecorder } from './recorder.ts';

export function LibraryMenu() {
  const [show, setShow] = useState(false);
  const list = useApp((s) => s.scenario.list);
  const user = useRecorder((s) => s.user);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!show) return;
    const away = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) setShow(false);
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setShow(false);
    };
    window.addEventListener('pointerdown', away);
    window.addEventListener('keydown', esc);
    return () => {
      window.removeEventListener('pointerdown', away);
      window.removeEventListener('keydown', esc);
    };
  }, [show]);
  return (
    <div className="lib-menu" ref={box}>
      <button data-testid="btn-library" className="small" aria-expanded={show} onClick={() => setShow(!show)}>
        Library ▾
      </button>
      {show && (
        <div className="lib-pop" data-testid="library-menu" role="menu">
          <h4>Yours ({user.length})</h4>
          {user.length === 0 && (
            <p className="muted">Recorded and opened scenarios are kept here, in this browser.</p>
          )}
          {user.map((u) => (
            <div key={u.name} className="lib-row">
              <button
                role="menuitem"
                className="lib-item"
                data-testid={`library-user-${u.name}`}
                title={u.scenario.description}
                onClick={() => {
                  setShow(false);
                  void open(u.scenario, `user:${u.name}`);
                }}
              >
                <span className="lib-title">{u.title}</span>
                <span className="muted mono">
                  {u.name} · {u.origin} · {u.scenario.steps.length} steps
                </span>
              </button>
              <button
                className="icon"
                data-testid={`library-delete-${u.name}`}
                aria-label={`Remove ${u.name}`}
                title={`Remove ${u.name} from this browser`}
                onClick={() => void removeSaved(u.name)}
              >
                ×
              </button>
            </div>
          ))}
          <h4>Built in ({list.length})</h4>
          {list.map((e) => (
            <button
              key={e.file}
              role="menuitem"
              className="lib-item"
              data-testid={`library-builtin-${e.file.replace(/\.json$/, '')}`}
              title={e.description}
              onClick={() => {
                setShow(false);
                void actions.load(e.file);
              }}
            >
              <span className="lib-title">{e.name}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
