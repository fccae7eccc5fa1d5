// The notes editor: the presenter's note of the current step, and annotations on components (at this
// step or at every step), kept in the scenario (steps[i].note, annotations) and so in its file.

import { useState } from 'react';
import { actions, store, useApp } from '../../store/index.ts';
import { setReview, useReview } from './reviewStore.ts';
import { addAnnotation, removeAnnotation, setNote } from './annotations.ts';
import { exportScenario } from './reviewActions.ts';

/** The components the diagram shows, by id (the annotation targets). */
function nodeIds(): string[] {
  return [...document.querySelectorAll('[data-testid="diagram"] [data-node-id]')].map(
    (el) => (el as HTMLElement).dataset.nodeId ?? '',
  );
}

export function Notes() {
  const open = useReview((s) => s.editor);
  if (!open) return null;
  return <NotesView />;
}

function NotesView() {
  const current = useApp((s) => s.scenario.current);
  const stepIndex = useApp((s) => s.scenario.stepIndex);
  const selected = useApp((s) => s.selection.node);
  const step = stepIndex - 1;
  const [note, setNoteText] = useState(current?.steps[step]?.note ?? '');
  const ids = nodeIds();
  const [target, setTarget] = useState(selected ?? ids[0] ?? '');
  const [scope, setScope] = useState<'step' | 'all'>(step >= 0 ? 'step' : 'all');
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  if (!current) return null;
  const edit = (f: Parameters<typeof actions.editScenario>[0]) => {
    try {
      actions.editScenario(f);
      setError('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div className="overlay" onClick={() => setReview({ editor: false })}>
      <div
        className="overlay-box notes-editor"
        role="dialog"
        aria-label="Notes and annotations"
        data-testid="notes-editor"
        onClick={(e) => e.stopPropagation()}
      >
        <h2>Notes and annotations</h2>
        {step >= 0 ? (
          <label className="block">
            <span>Presenter note for step {stepIndex} (shown in presentation mode, not on the slide)</span>
            <textarea
              data-testid="note-text"
              value={note}
              onChange={(e) => setNoteText(e.target.value)}
              onBlur={() => edit((s) => setNote(s, step, note))}
            />
          </label>
        ) : (
          <p className="muted">Apply a step to write its presenter note.</p>
        )}
        <h3>Annotations</h3>
        <ul className="annotations" data-testid="annotation-list">
          {(current.annotations ?? []).map((a, i) => (
            <li key={i}>
              <span className="mono">{a.target}</span>{' '}
              <span className="muted">{a.step === undefined ? 'every step' : `step ${a.step + 1}`}</span>:{' '}
              {a.text}{' '}
              <button className="small" onClick={() => edit((s) => removeAnnotation(s, i))}>
                remove
              </button>
            </li>
          ))}
        </ul>
        <div className="row">
          <select data-testid="annotation-target" value={target} onChange={(e) => setTarget(e.target.value)}>
            {ids.map((id) => (
              <option key={id}>{id}</option>
            ))}
          </select>
          <select value={scope} onChange={(e) => setScope(e.target.value as 'step' | 'all')}>
            {step >= 0 && <option value="step">at step {stepIndex}</option>}
            <option value="all">at every step</option>
          </select>
          <input
            data-testid="annotation-text"
            placeholder="what to say about it"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button
            data-testid="annotation-add"
            onClick={() => {
              edit((s) => addAnnotation(s, { target, text, ...(scope === 'step' ? { step } : {}) }));
              if (text.trim()) setText('');
            }}
          >
            Add
          </button>
        </div>
        {error && <p className="error">{error}</p>}
        <div className="row">
          <button
            onClick={() => {
              edit((s) => (step >= 0 ? setNote(s, step, note) : s));
              exportScenario();
            }}
          >
            Download scenario with notes
          </button>
          <button
            onClick={() => {
              if (step >= 0) edit((s) => setNote(s, step, note));
              setReview({ editor: false });
            }}
          >
            Close
          </button>
        </div>
        <p className="muted">{store.getState().scenario.file}</p>
      </div>
    </div>
  );
}
