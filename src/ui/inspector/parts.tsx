// Building blocks of the inspector: a key/value list and a compact table, both monospace.

import type { ReactNode } from 'react';

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
