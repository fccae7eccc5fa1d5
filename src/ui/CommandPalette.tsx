// The command palette: pick a command from the engine's registry, fill its generated form (or edit
// the JSON), apply it. The result shows the return value, or the errno and the field it blames.

import { useEffect, useMemo, useRef, useState } from 'react';
import type { Command, CommandResult } from '../engine/index.ts';
import { actions, useApp } from '../store/index.ts';
import { buildCommand, commandDescs, type CommandDesc } from './commandSpec.ts';

/** Refused by irqflow itself (malformed command, unknown device, a limit), not by the modelled kernel. */
export function isTool(r: CommandResult): boolean {
  return !r.ok && (r as { tool?: boolean }).tool === true;
}

function ResultView() {
  const last = useApp((s) => s.engine.last);
  const ref = useRef<HTMLDivElement>(null);
  // Bring the answer into view under a long form.
  useEffect(() => {
    // (scrollIntoView returns a promise in recent Chromium: an effect must not return it)
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [last]);
  if (!last) return <div className="result muted">no command applied yet</div>;
  const r = last.result;
  return (
    <div
      className={`result ${r.ok ? 'ok' : 'err'}`}
      data-testid="command-result"
      data-errno={r.ok ? '' : r.errno}
      data-tool={isTool(r)}
      ref={ref}
    >
      <code className="res-cmd">{last.command ? JSON.stringify(last.command) : ''}</code>
      {r.ok ? (
        <div>
          <b className="ok">0 (success)</b>
          {r.value !== undefined && <code> {JSON.stringify(r.value)}</code>}
        </div>
      ) : isTool(r) ? (
        <div data-testid="tool-error">
          <b className="tool-err">irqflow refused the command</b>
          <span className="muted"> ({r.errno}; not a kernel answer: the kernel never saw it)</span>
          {r.field && (
            <span className="field-name" data-testid="command-field">
              {' '}
              field <code>{r.field}</code>
            </span>
          )}
          <div className="msg">{r.message}</div>
        </div>
      ) : (
        <div>
          <b className="errno" data-testid="command-errno">
            -{r.errno}
          </b>
          {r.field && (
            <span className="field-name" data-testid="command-field">
              {' '}
              field <code>{r.field}</code>
            </span>
          )}
          <div className="msg">{r.message}</div>
        </div>
      )}
    </div>
  );
}

function Form({ desc }: { desc: CommandDesc }) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(desc.fields.map((f) => [f.name, ''])),
  );
  const [json, setJson] = useState<string | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const last = useApp((s) => s.engine.last);
  const blamed = last && !last.result.ok && last.command?.op === desc.op ? last.result.field : undefined;

  const submit = () => {
    let cmd: Command;
    if (json !== null) {
      try {
        cmd = JSON.parse(json) as Command;
      } catch (e) {
        setParseError(String(e));
        return;
      }
    } else cmd = buildCommand(desc, values);
    setParseError(null);
    void actions.apply(cmd);
  };

  return (
    <form
      className="cmd-form"
      data-testid="command-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {desc.help && <p className="muted help">{desc.help}</p>}
      {json === null ? (
        desc.fields.map((f) => (
          <label key={f.name} className={`ffield${blamed === f.name ? ' blamed' : ''}`} title={f.help}>
            <span className="fname">
              {f.name}
              {f.optional ? '?' : ''}
            </span>
            {f.kind === 'boolean' ? (
              <select
                data-testid={`field-${f.name}`}
                value={values[f.name] ?? ''}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              >
                <option value="">–</option>
                <option>true</option>
                <option>false</option>
              </select>
            ) : (
              <input
                data-testid={`field-${f.name}`}
                value={values[f.name] ?? ''}
                placeholder={f.help}
                list={f.options.length ? `opts-${desc.op}-${f.name}` : undefined}
                onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
              />
            )}
            {f.options.length > 0 && f.kind !== 'boolean' && (
              <datalist id={`opts-${desc.op}-${f.name}`}>
                {f.options.map((o) => (
                  <option key={o} value={o} />
                ))}
              </datalist>
            )}
          </label>
        ))
      ) : (
        <textarea
          data-testid="command-json"
          value={json}
          spellCheck={false}
          onChange={(e) => setJson(e.target.value)}
        />
      )}
      {parseError && <p className="errno">{parseError}</p>}
      <div className="form-buttons">
        <button
          type="button"
          className="small"
          data-testid="command-json-toggle"
          onClick={() => setJson(json === null ? JSON.stringify(buildCommand(desc, values), null, 1) : null)}
        >
          {json === null ? 'edit JSON' : 'form'}
        </button>
        <button type="submit" className="primary" data-testid="command-apply">
          Apply
        </button>
      </div>
    </form>
  );
}

export function CommandPalette() {
  // A string, so a new snapshot with the same devices does not rebuild the forms.
  const names = useApp((s) =>
    s.engine.state
      ? [...Object.keys(s.engine.state.devices), ...Object.keys(s.engine.state.vdevs)].join(' ')
      : '',
  );
  const descs = useMemo(() => commandDescs(names ? names.split(' ') : []), [names]);
  const [query, setQuery] = useState('');
  const [op, setOp] = useState<string | null>(null);
  const q = query.toLowerCase();
  const shown = descs.filter((d) => !q || `${d.op} ${d.label} ${d.group}`.toLowerCase().includes(q));
  const desc = descs.find((d) => d.op === op) ?? null;
  return (
    <section className="panel palette" data-testid="command-palette">
      <div className="panel-head">
        <h2>Commands</h2>
        <input
          className="search"
          data-testid="command-search"
          placeholder="filter: mask, eventfd, raise…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <div className="palette-body">
        <ul className="cmd-list" data-testid="command-list">
          {shown.map((d) => (
            <li key={d.op}>
              <button
                className={d.op === op ? 'cmd sel' : 'cmd'}
                data-testid={`command-${d.op}`}
                onClick={() => setOp(d.op)}
                title={d.help}
              >
                <span className="op">{d.op}</span>
                <span className="label">{d.label}</span>
              </button>
            </li>
          ))}
        </ul>
        <div className="cmd-detail">
          {desc ? <Form key={desc.op} desc={desc} /> : <p className="muted">pick a command</p>}
          <ResultView />
        </div>
      </div>
    </section>
  );
}
