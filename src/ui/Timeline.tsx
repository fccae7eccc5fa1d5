// The timeline: virtual time left to right, a lane per component (the diagram's columns), every hop a
// mark in its path's colour, the hops of one interrupt joined into a line. Hops past the cursor are
// faint. The wheel zooms around the pointer, a drag pans; a click moves the cursor to the last hop at
// or before that point. One canvas, redrawn when the trace, the cursor or the view changes.

import { useEffect, useRef, useState } from 'react';
import type { TraceEvent } from '../engine/index.ts';
import { actions, useApp } from '../store/index.ts';
import { COLUMNS, columnOf } from './diagram/layout.ts';
import { fmtTime } from './format.ts';
import { pathColor } from './theme.ts';

/** The window's type scale (--k, styles/base.css): labels, marks and the label column grow with it. */
const typeScale = () => Number(getComputedStyle(document.documentElement).getPropertyValue('--k')) || 1;

type Axis = 'time' | 'order';

export function Timeline() {
  const trace = useApp((s) => s.engine.trace);
  const at = useApp((s) => s.cursor.at);
  const theme = useApp((s) => s.presentation.theme);
  const ref = useRef<HTMLCanvasElement>(null);
  const [axis, setAxis] = useState<Axis>('order');
  // The visible span as fractions of the whole [0, 1].
  const [view, setView] = useState({ a: 0, b: 1 });
  const [size, setSize] = useState({ w: 600, h: 160 });
  const drag = useRef<{ x: number; a: number; b: number; moved: boolean } | null>(null);
  // Read per render: a resize that changes --k also resizes the canvas (size), which re-renders.
  const k = typeScale();
  const LABEL_W = Math.round(96 * k);

  useEffect(() => {
    const c = ref.current!;
    const ro = new ResizeObserver(() => setSize({ w: c.clientWidth, h: c.clientHeight }));
    ro.observe(c);
    return () => ro.disconnect();
  }, []);

  const first = trace[0];
  const last = trace[trace.length - 1];
  const t0 = axis === 'time' ? (first?.time ?? 0) : (first?.seq ?? 0);
  const t1 = axis === 'time' ? (last?.time ?? 1) : (last?.seq ?? 1);
  const span = Math.max(1, t1 - t0);
  const value = (e: TraceEvent) => (axis === 'time' ? e.time : e.seq);
  const plotW = Math.max(10, size.w - LABEL_W - 8);
  const xOf = (v: number) => LABEL_W + (((v - t0) / span - view.a) / (view.b - view.a)) * plotW;
  const vOf = (x: number) => t0 + (view.a + ((x - LABEL_W) / plotW) * (view.b - view.a)) * span;

  useEffect(() => {
    const c = ref.current!;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(size.w * dpr);
    c.height = Math.round(size.h * dpr);
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, size.w, size.h);
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue('--muted').trim() || '#888';
    const border = css.getPropertyValue('--border').trim() || '#333';
    const accent = css.getPropertyValue('--accent').trim() || '#4c9dff';
    const foot = 14 * k;
    const laneH = (size.h - foot) / COLUMNS.length;
    ctx.font = `${11 * k}px system-ui, sans-serif`;
    COLUMNS.forEach((name, i) => {
      const y = 4 + i * laneH;
      ctx.fillStyle = muted;
      ctx.fillText(name, 6, y + laneH / 2 + 4 * k);
      ctx.strokeStyle = border;
      ctx.beginPath();
      ctx.moveTo(LABEL_W, y + laneH);
      ctx.lineTo(size.w, y + laneH);
      ctx.stroke();
    });
    const yOf = (e: TraceEvent) => 4 + columnOf(e.to) * laneH + laneH / 2;
    // Lines: each interrupt's hops joined.
    const lastOf = new Map<number, [number, number]>();
    ctx.lineWidth = k;
    for (const e of trace) {
      const x = xOf(value(e));
      const y = yOf(e);
      if (e.irq !== 0) {
        const p = lastOf.get(e.irq);
        if (p && x >= LABEL_W - 50 && p[0] <= size.w + 50) {
          ctx.globalAlpha = e.seq < at ? 0.45 : 0.12;
          ctx.strokeStyle = pathColor(e.path);
          ctx.beginPath();
          ctx.moveTo(p[0], p[1]);
          ctx.lineTo(x, y);
          ctx.stroke();
        }
        lastOf.set(e.irq, [x, y]);
      }
    }
    for (const e of trace) {
      const x = xOf(value(e));
      if (x < LABEL_W - 3 || x > size.w + 3) continue;
      ctx.globalAlpha = e.seq < at ? 1 : 0.25;
      ctx.fillStyle = pathColor(e.path);
      ctx.fillRect(x - 1.5 * k, yOf(e) - 4 * k, 3 * k, 8 * k);
    }
    ctx.globalAlpha = 1;
    // The cursor: after its last hop.
    const cur = trace.find((e) => e.seq === at - 1);
    if (cur) {
      const x = xOf(value(cur)) + 2;
      ctx.strokeStyle = accent;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, 2);
      ctx.lineTo(x, size.h - foot + 2);
      ctx.stroke();
    }
    ctx.fillStyle = muted;
    const lo = vOf(LABEL_W);
    const hi = vOf(size.w - 8);
    ctx.fillText(axis === 'time' ? fmtTime(Math.max(0, lo)) : `#${Math.round(lo)}`, LABEL_W, size.h - 2);
    const label = axis === 'time' ? fmtTime(Math.max(0, hi)) : `#${Math.round(hi)}`;
    ctx.fillText(label, size.w - 8 - ctx.measureText(label).width, size.h - 2);
    c.dataset.cursor = String(at);
    // xOf/vOf are derived from the values listed here.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [trace, at, size, view, axis, theme, k]);

  // The cursor goes after the hop drawn nearest the click (several hops share a virtual time).
  const seekAt = (x: number) => {
    let target: TraceEvent | undefined;
    let best = Infinity;
    for (const e of trace) {
      const d = Math.abs(xOf(value(e)) - x);
      if (d <= best) {
        best = d;
        target = e;
      }
    }
    actions.seek(target ? target.seq + 1 : (first?.seq ?? 0));
  };

  return (
    <div className="timeline">
      <div className="timeline-bar">
        <label className="check">
          <input
            type="radio"
            checked={axis === 'order'}
            onChange={() => setAxis('order')}
            data-testid="timeline-order"
          />
          hop order
        </label>
        <label className="check">
          <input
            type="radio"
            checked={axis === 'time'}
            onChange={() => setAxis('time')}
            data-testid="timeline-time"
          />
          virtual time
        </label>
        <button className="small" onClick={() => setView({ a: 0, b: 1 })}>
          zoom to fit
        </button>
        <span className="muted">wheel: zoom · drag: pan · click: move the cursor there</span>
      </div>
      <canvas
        ref={ref}
        className="timeline-canvas"
        data-testid="timeline"
        onWheel={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const f = Math.max(0, Math.min(1, (e.clientX - r.left - LABEL_W) / plotW));
          const mid = view.a + f * (view.b - view.a);
          const k = e.deltaY > 0 ? 1.25 : 0.8;
          const w = Math.min(1, Math.max(0.002, (view.b - view.a) * k));
          const a = Math.max(0, Math.min(1 - w, mid - f * w));
          setView({ a, b: a + w });
        }}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, a: view.a, b: view.b, moved: false };
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          const dx = e.clientX - d.x;
          if (Math.abs(dx) > 3) d.moved = true;
          if (!d.moved) return;
          const w = d.b - d.a;
          const a = Math.max(0, Math.min(1 - w, d.a - (dx / plotW) * w));
          setView({ a, b: a + w });
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d && !d.moved) {
            const r = e.currentTarget.getBoundingClientRect();
            seekAt(e.clientX - r.left);
          }
        }}
      />
    </div>
  );
}
