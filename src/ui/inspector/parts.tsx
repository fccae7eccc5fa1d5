// Building blocks of the inspector: a key/value list and a compact table, both monospace.

import { useState, type ReactNode } from 'react';
import type { Command } from '../../engine/index.ts';
import { actions } from '../../store/index.ts';

export function KV({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Table({
  head,
  rows,
  testid,
  empty = 'none',
  wrap = false,
}: {
  head: string[];
  rows: ReactNode[][];
  testid?: string;
  empty?: string;
  /** Let long text (reasons, messages) wrap instead of keeping each row on one line. */
  wrap?: boolean;
}) {
  if (rows.length === 0) return <p className="muted">{empty}</p>;
  return (
    // A table wider than the inspector scrolls sideways inside it rather than being cut at its edge.
    <div className="itable-scroll">
      <table className={wrap ? 'itable wrap' : 'itable'} data-testid={testid}>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="isection">
      <h3>{title}</h3>
      {children}
    </section>
  );
}

export const flag = (b: boolean, on = 'yes', off = 'no') => (
  <span className={b ? 'on' : 'off'}>{b ? on : off}</span>
);

/**
 * A cell you can act on: the click is one engine command (so it can be recorded), applied to the state
 * the page shows; a refusal shows its errno inline, next to the cell. `value` is keyed so a change
 * remounts the text and it flashes.
 */
export function Act({
  cmd,
  children,
  title,
  testid,
}: {
  cmd: Command;
  children: ReactNode;
  title: string;
  testid?: string;
}) {
  const [err, setErr] = useState<string | null>(null);
  return (
    <span className="act-wrap">
      <button
        className="act"
        data-testid={testid}
        title={`${title}: ${JSON.stringify(cmd)}`}
        onClick={(e) => {
          e.stopPropagation();
          setErr(null);
          void actions.apply(cmd).then((u) => {
            const r = u?.result;
            if (r && !r.ok) setErr(`-${r.errno}${r.field ? ` (${r.field})` : ''}: ${r.message}`);
          });
        }}
      >
        {children}
      </button>
      {err && (
        <span className="act-err" data-testid="act-errno" title={err}>
          {err.split(':')[0]}
        </span>
      )}
    </span>
  );
}

/**
 * A value that flashes when it changes (the cursor passed the hop that changed it). `path`, its dotted
 * path in the state, lets the recorder offer "expect this" on it (src/ui/record/ExpectHover.tsx).
 */
export function Flash({
  v,
  children,
  path,
}: {
  v: string | number | boolean;
  children?: ReactNode;
  path?: string;
}) {
  return (
    <span key={String(v)} className="flash" data-expect={path}>
      {children ?? String(v)}
    </span>
  );
}
