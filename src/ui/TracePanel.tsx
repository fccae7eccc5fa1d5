// The trace, newest first: time, interrupt, hop (from → to), the function and its source file, outcome.
// Only the rows in view are rendered (fixed row height, absolute positioning), so a window of
// thousands of events costs a few dozen DOM rows.

import { useLayoutEffect, useRef, useState } from 'react';
import type { TraceEvent } from '../engine/index.ts';
import { actions, useApp } from '../store/index.ts';
import { fmtTime } from './format.ts';
import { PATH_COLOR } from './theme.ts';

const ROW_H = 22;
const OVERSCAN = 8;

export function TracePanel() {
  const trace = useApp((s) => s.engine.trace);
  const total = useApp((s) => s.engine.traceLength);
  const queued = useApp((s) => s.engine.queued);
  const selIrq = useApp((s) => s.selection.irq);
  const selEvent = useApp((s) => s.selection.event);
  const [onlyIrq, setOnlyIrq] = useState(false);
  const [hideControl, setHideControl] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 300 });

  useLayoutEffect(() => {
    const el = scroller.current!;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  let rows: readonly TraceEvent[] = trace;
  if (onlyIrq && selIrq !== null) rows = rows.filter((e) => e.irq === selIrq);
  if (hideControl) rows = rows.filter((e) => e.irq !== 0);
  const n = rows.length;
  const first = Math.max(0, Math.floor(view.top / ROW_H) - OVERSCAN);
  const last = Math.min(n, Math.ceil((view.top + view.height) / ROW_H) + OVERSCAN);
  const visible: { e: TraceEvent; i: number }[] = [];
  for (let i = first; i < last; i++) visible.push({ e: rows[n - 1 - i], i });

  return (
    <section className="panel trace-panel" data-testid="trace-panel">
      <div className="panel-head">
        <h2>Trace</h2>
        <span className="muted" data-testid="trace-count">
          {total} events{total > trace.length ? ` (newest ${trace.length} kept)` : ''}, {queued} queued
        </span>
        <label className="check">
          <input type="checkbox" checked={hideControl} onChange={(e) => setHideControl(e.target.checked)} />
          hide control plane
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={onlyIrq}
            disabled={selIrq === null}
            onChange={(e) => setOnlyIrq(e.target.checked)}
          />
          only irq {selIrq ?? '–'}
        </label>
      </div>
      <div className="trace-header trace-row">
        <span>#</span>
        <span>time</span>
        <span>irq</span>
        <span>hop</span>
        <span>function</span>
        <span>file</span>
        <span>outcome</span>
      </div>
      <div
        className="trace-scroll"
        ref={scroller}
        data-testid="trace-rows"
        onScroll={(ev) => setView({ top: ev.currentTarget.scrollTop, height: ev.currentTarget.clientHeight })}
      >
        {n === 0 && (
          <p className="muted empty" data-testid="trace-empty">
            No events yet. Apply the scenario's next command (n) or a command from the palette, then Step (s)
            or Run (space).
          </p>
        )}
        <div style={{ height: n * ROW_H, position: 'relative' }}>
          {visible.map(({ e, i }) => (
            <div
              // Keyed by position, not seq: new events shift rows down, and React then updates text in
              // place instead of remounting every visible row on each batch.
              key={i - first}
              className={`trace-row${e.seq === selEvent ? ' sel' : ''}${selIrq !== null && e.irq === selIrq ? ' same-irq' : ''} o-${e.outcome}`}
              style={{ top: i * ROW_H }}
              data-testid="trace-row"
              data-hop={e.hop}
              data-from={e.from}
              onClick={() => actions.selectEvent(e.seq, e.irq === 0 ? null : e.irq)}
              title={`${e.hop}: ${e.fn} (${e.file})${e.detail ? '\n' + e.detail : ''}`}
            >
              <span className="muted">{e.seq}</span>
              <span>{fmtTime(e.time)}</span>
              <span>{e.irq === 0 ? 'ctl' : e.irq}</span>
              <span className="hop">
                <i className="path-dot" style={{ background: PATH_COLOR[e.path] }} />
                {e.from} → {e.to}
              </span>
              <span className="fn">{e.fn}</span>
              <span className="file">{e.file}</span>
              <span className={`outcome o-${e.outcome}`}>{e.outcome}</span>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
