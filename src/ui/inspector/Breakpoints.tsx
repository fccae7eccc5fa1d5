// Run until: breakpoints on a function, a component (a diagram node), a device, an interrupt, a path,
// an outcome or an errno. Run and Play stop on the first hop that matches (the token of that hop lands,
// then the cursor stops); one definition of matching for the worker and the page (worker/breakpoints.ts).

import { useState } from 'react';
import type { TraceOutcome, TracePath } from '../../engine/index.ts';
import type { Breakpoint } from '../../worker/api.ts';
import { describe } from '../../worker/breakpoints.ts';
import { actions, useApp } from '../../store/index.ts';
import { Section } from './parts.tsx';

type Kind = 'fn' | 'node' | 'device' | 'irq' | 'path' | 'outcome' | 'errno';
const KINDS: { k: Kind; label: string; hint: string }[] = [
  { k: 'fn', label: 'function', hint: 'vfio_msihandler' },
  { k: 'node', label: 'component', hint: 'iommu, vfio:nic0, lapic:1' },
  { k: 'device', label: 'device', hint: 'nic0' },
  { k: 'irq', label: 'interrupt', hint: 'irq id, e.g. 3' },
  { k: 'path', label: 'path', hint: 'direct | posted | intercepted | emulated | control' },
  { k: 'outcome', label: 'outcome', hint: 'dropped | pending | coalesced | delivered' },
  { k: 'errno', label: 'errno', hint: 'EINVAL' },
];

function make(kind: Kind, value: string): Omit<Breakpoint, 'id'> | null {
  const v = value.trim();
  if (!v) return null;
  if (kind === 'irq') return Number.isInteger(Number(v)) ? { irq: Number(v) } : null;
  if (kind === 'path') return { path: v as TracePath };
  if (kind === 'outcome') return { outcome: v as TraceOutcome };
  return { [kind]: v };
}

export function Breakpoints() {
  const bps = useApp((s) => s.playback.breakpoints);
  const stopAtExpect = useApp((s) => s.playback.stopAtExpect);
  const hit = useApp((s) => s.cursor.hit);
  const [kind, setKind] = useState<Kind>('fn');
  const [value, setValue] = useState('');
  const add = () => {
    const bp = make(kind, value);
    if (bp) actions.addBreakpoint(bp);
    setValue('');
  };
  return (
    <Section title="Run until (breakpoints)">
      <form
        className="bp-form"
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <select
          data-testid="bp-kind"
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as Kind);
            e.currentTarget.blur();
          }}
        >
          {KINDS.map((k) => (
            <option key={k.k} value={k.k}>
              {k.label}
            </option>
          ))}
        </select>
        <input
          data-testid="bp-value"
          value={value}
          placeholder={KINDS.find((k) => k.k === kind)?.hint}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit" className="small" data-testid="bp-add">
          add
        </button>
      </form>
      <div className="bp-quick">
        <button
          className="small"
          data-testid="bp-quick-msihandler"
          onClick={() => actions.addBreakpoint({ fn: 'vfio_msihandler' })}
        >
          + vfio_msihandler
        </button>
        <button
          className="small"
          data-testid="bp-quick-dropped"
          onClick={() => actions.addBreakpoint({ outcome: 'dropped' })}
        >
          + any drop
        </button>
        <label className="check">
          <input
            type="checkbox"
            checked={stopAtExpect}
            onChange={(e) => actions.setStopAtExpect(e.target.checked)}
          />
          Play stops after steps with expectations
        </label>
      </div>
      {bps.length === 0 ? (
        <p className="muted">none: Run and Play go to the end</p>
      ) : (
        <ul className="bp-list" data-testid="bp-list">
          {bps.map((b) => (
            <li key={b.id} className={hit?.bp === describe(b) ? 'bp-hit' : ''}>
              <span>● {describe(b)}</span>
              <button className="small" onClick={() => actions.removeBreakpoint(b.id)} aria-label="remove">
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
