// The recording's steps: each with its command, an editable caption and its expectations; the name
// and title of the recording; and the expectations the page offers beyond table cells (the last
// command's errno, the selected interrupt's path and fate). Captions are text, never HTML.

import type { Command } from '../../engine/index.ts';
import { useApp } from '../../store/index.ts';
import { journeyOf } from './checks.ts';
import {
  addMark,
  expectBlocked,
  removeMark,
  renameRecording,
  setCaption,
  toggleDrawer,
  useRecorder,
} from './recorder.ts';

function argText(cmd: Command): string {
  const { op: _op, ...args } = cmd as Command & Record<string, unknown>;
  return Object.entries(args)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
}

export function RecordDrawer() {
  const recording = useRecorder((s) => s.recording);
  const built = useRecorder((s) => s.built);
  const marks = useRecorder((s) => s.marks);
  const history = useRecorder((s) => s.history);
  const last = useApp((s) => s.engine.last);
  const irq = useApp((s) => s.selection.irq);
  const trace = useApp((s) => s.engine.trace);
  const at = useApp((s) => s.cursor.at);
  // re-evaluated on each render: the cursor and the engine's state decide
  useApp((s) => s.cursor.moving);
  useApp((s) => s.engine.traceLength);
  const blocked = expectBlocked();
  const journey = irq ? journeyOf(trace, irq, at) : null;

  return (
    <aside className="rec-drawer" data-testid="record-drawer" aria-label="Recording">
      <div className="rec-drawer-head">
        <b>{recording ? 'Recording' : 'Not recording'}</b>
        <button className="icon" onClick={() => toggleDrawer(false)} aria-label="Close the recording panel">
          ×
        </button>
      </div>
      {!recording && (
        <p className="muted">
          Record captures every command you give (the command form, inspector cells, Step and Run) from the
          loaded scenario's topology. While recording, hover a value in the inspector for “expect this”.
        </p>
      )}
      {recording && (
        <>
          <div className="rec-names">
            <label>
              <span>name</span>
              <input
                data-testid="rec-name"
                className="mono"
                value={recording.name}
                onChange={(e) => renameRecording(e.currentTarget.value, recording.title)}
              />
            </label>
            <label>
              <span>title</span>
              <input
                data-testid="rec-title"
                value={recording.title}
                onChange={(e) => renameRecording(recording.name, e.currentTarget.value)}
              />
            </label>
          </div>
          <div className="rec-offers" data-testid="rec-offers">
            {last && !last.result.ok && (
              <button
                className="small"
                data-testid="expect-errno"
                disabled={blocked !== null}
                title={blocked ?? 'the last command fails with this errno'}
                onClick={() => {
                  if (!last.result.ok)
                    addMark({ ok: false, errno: last.result.errno }, `errno ${last.result.errno}`);
                }}
              >
                expect errno {last.result.errno}
              </button>
            )}
            {journey && journey.functions.length > 0 && (
              <>
                <button
                  className="small"
                  data-testid="expect-path"
                  disabled={blocked !== null}
                  title={blocked ?? journey.functions.join(' → ')}
                  onClick={() =>
                    addMark(
                      { path: [{ irq: irq!, functions: journey.functions }] },
                      `interrupt ${irq}: ${journey.functions.length} functions in order`,
                    )
                  }
                >
                  expect this path (interrupt {irq}, {journey.functions.length} functions)
                </button>
                {journey.fate && (
                  <button
                    className="small"
                    data-testid="expect-fate"
                    disabled={blocked !== null}
                    title={blocked ?? `interrupts.${irq}.fate`}
                    onClick={() =>
                      addMark(
                        { snapshot: { [`interrupts.${irq}.fate`]: journey.fate } },
                        `interrupt ${irq} ${journey.fate}`,
                      )
                    }
                  >
                    expect its fate: {journey.fate}
                  </button>
                )}
              </>
            )}
            {!journey && !(last && !last.result.ok) && (
              <span className="muted">
                Select an interrupt in the trace for its path; hover an inspector value for “expect this”.
              </span>
            )}
          </div>
          <ol className="rec-steps" data-testid="rec-steps">
            {(built?.steps ?? []).map((b, i) => (
              <li key={b.opStart} data-testid={`rec-step-${i + 1}`}>
                <div className="rec-cmd">
                  <span className="step-n">{i + 1}</span>
                  <code>
                    <b>{b.step.command.op}</b> {argText(b.step.command as Command)}
                  </code>
                </div>
                <input
                  className="rec-caption"
                  data-testid={`rec-caption-${i + 1}`}
                  placeholder="caption: what happens and why"
                  value={b.step.caption ?? ''}
                  onChange={(e) => setCaption(b.opStart, e.currentTarget.value)}
                />
                {marks.map((m, k) =>
                  m.ops === b.opEnd ? (
                    <div key={k} className="rec-mark" data-testid="rec-mark">
                      <span>expect {m.label}</span>
                      <button
                        className="icon"
                        aria-label={`Remove the expectation ${m.label}`}
                        onClick={() => removeMark(k)}
                      >
                        ×
                      </button>
                    </div>
                  ) : null,
                )}
              </li>
            ))}
            {(built?.steps.length ?? 0) === 0 && (
              <li className="muted">No command yet ({history} operations).</li>
            )}
          </ol>
        </>
      )}
    </aside>
  );
}
