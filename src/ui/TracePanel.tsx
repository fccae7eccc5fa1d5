// The trace, newest first. Each hop takes two lines: time, interrupt, hop (from → to), the function
// that performs it and the outcome; under them what the hop did (its detail) and the function's source
// file. Only the rows in view are rendered (fixed row height, absolute positioning), so a window of
// thousands of events costs a few dozen DOM rows. The page keeps the newest TRACE_WINDOW events; older
// ones are fetched from the worker a page at a time.

import { useLayoutEffect, useRef, useState } from 'react';
import type { TraceEvent } from '../engine/index.ts';
import { actions, TRACE_WINDOW, useApp } from '../store/index.ts';
import { fmtTime } from './format.ts';
import { PATH_COLOR } from './theme.ts';
import { Timeline } from './Timeline.tsx';
import { hopLink } from './sourceLinks.ts';

const ROW_BASE = 36;

/** Rows grow with the type (--k in styles/base.css), so the virtual list uses the same height. */
function rowHeight(): number {
  const k = Number(getComputedStyle(document.documentElement).getPropertyValue('--k')) || 1;
  return Math.round(ROW_BASE * k);
}
const OVERSCAN = 6;

const n0 = (n: number) => n.toLocaleString('en-US');

function Paging() {
  const trace = useApp((s) => s.engine.trace);
  const total = useApp((s) => s.engine.traceLength);
  const page = useApp((s) => s.engine.tracePage);
  const first = page ? page.start : trace.length > 0 ? trace[0].seq : total;
  const last = page ? page.start + page.events.length : total;
  if (first === 0 && !page) return null;
  return (
    <span className="paging" data-testid="trace-paging" data-page-start={page ? page.start : ''}>
      <span
        className={page ? 'page-note older' : 'page-note'}
        data-testid="trace-range"
        title={
          page
            ? undefined
            : `the trace window holds the newest events; ${n0(first)} older ones are in the engine`
        }
      >
        {page ? 'older page: ' : 'newest '}#{n0(first)}–{n0(Math.max(first, last - 1))}
        {page ? '' : `; ${n0(first)} older not shown`}
      </span>
      <button
        className="small"
        data-testid="trace-older"
        disabled={first === 0}
        onClick={() => void actions.tracePage(Math.max(0, first - TRACE_WINDOW))}
        title={`show the ${n0(TRACE_WINDOW)} events before #${n0(first)} (from the engine)`}
      >
        ◀ older
      </button>
      {page && (
        <>
          <button
            className="small"
            data-testid="trace-newer"
            onClick={() => void actions.tracePage(page.start + TRACE_WINDOW)}
          >
            newer ▶
          </button>
          <button className="small" data-testid="trace-live" onClick={() => void actions.tracePage(null)}>
            newest
          </button>
        </>
      )}
    </span>
  );
}

/** A failed command's row: refused by irqflow itself (malformed, unknown device), not by the kernel. */
export const isToolRow = (e: TraceEvent) => e.outcome === 'failed' && e.fn.startsWith('irqflow');
const errnoOf = (e: TraceEvent) => /^E[A-Z]+/.exec(e.detail)?.[0] ?? 'failed';

export function TracePanel() {
  const live = useApp((s) => s.engine.trace);
  const page = useApp((s) => s.engine.tracePage);
  const total = useApp((s) => s.engine.traceLength);
  const queued = useApp((s) => s.engine.queued);
  const selIrq = useApp((s) => s.selection.irq);
  const selEvent = useApp((s) => s.selection.event);
  const at = useApp((s) => s.cursor.at);
  const profile = useApp((s) => s.engine.state?.profile ?? '6.12');
  const design = useApp((s) => s.engine.state?.design ?? 'merged');
  const [onlyIrq, setOnlyIrq] = useState(false);
  const [tab, setTab] = useState<'trace' | 'timeline'>('trace');
  const [hideControl, setHideControl] = useState(false);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 300 });
  const [ROW_H, setRowH] = useState(ROW_BASE);

  useLayoutEffect(() => {
    const el = scroller.current!;
    const measure = () => {
      setView({ top: el.scrollTop, height: el.clientHeight });
      setRowH(rowHeight());
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A new page starts at its newest event.
  useLayoutEffect(() => {
    const el = scroller.current!;
    el.scrollTop = 0;
    setView({ top: 0, height: el.clientHeight });
  }, [page]);

  // Only what the cursor has passed: hops still to play are not revealed.
  let rows: readonly TraceEvent[] = page
    ? page.events.filter((e) => e.seq < at)
    : live.length > 0 && live[live.length - 1].seq >= at
      ? live.slice(0, Math.max(0, at - live[0].seq))
      : live;
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
        <span className="tabs" role="tablist">
          <button
            className={tab === 'trace' ? 'small on' : 'small'}
            role="tab"
            aria-selected={tab === 'trace'}
            data-testid="tab-trace"
            onClick={() => setTab('trace')}
          >
            Trace
          </button>
          <button
            className={tab === 'timeline' ? 'small on' : 'small'}
            role="tab"
            aria-selected={tab === 'timeline'}
            data-testid="tab-timeline"
            onClick={() => setTab('timeline')}
          >
            Timeline
          </button>
        </span>
        <span className="muted" data-testid="trace-count">
          {n0(at)}
          {at < total ? ` of ${n0(total)}` : ''} events, {n0(queued)} queued
        </span>
        <Paging />
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
      {tab === 'timeline' && <Timeline />}
      <div className="trace-header trace-row" style={tab === 'timeline' ? { display: 'none' } : undefined}>
        <span>#</span>
        <span>time</span>
        <span>irq</span>
        <span>hop: from → to</span>
        <span>
          function <span className="sub">· what it did · source file</span>
        </span>
        <span>outcome</span>
      </div>
      <div
        className={page ? 'trace-scroll paged' : 'trace-scroll'}
        style={tab === 'timeline' ? { display: 'none' } : undefined}
        ref={scroller}
        data-testid="trace-rows"
        onScroll={(ev) => setView({ top: ev.currentTarget.scrollTop, height: ev.currentTarget.clientHeight })}
      >
        {n === 0 && (
          <p className="muted empty" data-testid="trace-empty">
            No events yet. Apply the scenario's next command (n) or a command from the palette, then Step (s)
            or Run (space). Every line of the diagram is a route an interrupt or a control call can take:
            point at a path in the legend (direct, posted, …) to light its edges; the caption above names this
            scenario's route.
          </p>
        )}
        <div style={{ height: n * ROW_H, position: 'relative' }}>
          {visible.map(({ e, i }) => (
            <div
              // Keyed by position, not seq: new events shift rows down, and React then updates text in
              // place instead of remounting every visible row on each batch.
              key={i - first}
              className={`trace-row${e.seq % 2 ? ' alt' : ''}${e.seq === selEvent ? ' sel' : ''}${selIrq !== null && e.irq === selIrq ? ' same-irq' : ''}${e.seq === at - 1 ? ' at-cursor' : ''} o-${e.outcome}`}
              style={{ top: i * ROW_H }}
              data-testid="trace-row"
              data-seq={e.seq}
              data-hop={e.hop}
              data-from={e.from}
              onClick={() => actions.selectEvent(e.seq, e.irq === 0 ? null : e.irq)}
              title={`${e.hop}: ${e.fn} (${e.file})${e.detail ? '\n' + e.detail : ''}`}
            >
              <span className="muted seq">{e.seq}</span>
              <span className="time">{fmtTime(e.time)}</span>
              <span className="irq">{e.irq === 0 ? 'ctl' : e.irq}</span>
              <span className="hop">
                <i className="path-dot" style={{ background: PATH_COLOR[e.path] }} />
                {e.from} → {e.to}
              </span>
              <span className="fn" data-testid="trace-fn">
                {e.fn}
              </span>
              <span
                className={`outcome o-${e.outcome}${isToolRow(e) ? ' tool' : ''}`}
                data-testid="trace-outcome"
                title={isToolRow(e) ? 'refused by irqflow, not by the kernel' : undefined}
              >
                {e.outcome === 'failed' ? (isToolRow(e) ? 'irqflow ✕' : `-${errnoOf(e)}`) : e.outcome}
              </span>
              <span className="line2">
                <span className="detail" data-testid="trace-detail">
                  {e.detail || '–'}
                </span>
                {(() => {
                  const href = hopLink(e, design, profile);
                  return href ? (
                    <a
                      className="file"
                      href={href}
                      target="_blank"
                      rel="noreferrer"
                      data-testid="trace-file-link"
                      title={`read ${e.fn} in ${e.file}`}
                      onClick={(ev) => ev.stopPropagation()}
                    >
                      {e.file}
                    </a>
                  ) : (
                    <span className="file">{e.file}</span>
                  );
                })()}
              </span>
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
