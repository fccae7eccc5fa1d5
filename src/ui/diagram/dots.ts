// The moving part of the diagram: one dot per trace event, from its `from` node to its `to` node,
// coloured by path; on arrival a mark by outcome (pending ring, coalesced double ring, dropped red X,
// delivered burst). Drawn on one canvas in one requestAnimationFrame loop (d3.timer), so a thousand
// interrupts in flight cost one draw per frame, not a DOM node or a React render each.

import { timer, type Timer } from 'd3';
import type { TraceEvent, TraceOutcome } from '../../engine/index.ts';
import { OUTCOME_COLOR, PATH_COLOR } from '../theme.ts';
import type { Layout } from './layout.ts';
import { curveBetween, pointAt, type Curve } from './geometry.ts';

interface Dot {
  curve: Curve | null;
  /** Where the mark goes on arrival (the `to` node's anchor) and the node box for the arrival glow. */
  tx: number;
  ty: number;
  box: { x: number; y: number; w: number; h: number } | null;
  start: number;
  dur: number;
  color: string;
  outcome: TraceOutcome;
  control: boolean;
  /** A small sideways offset per interrupt, so a burst on one edge reads as many dots, not one line. */
  jitter: number;
}

interface Mark {
  x: number;
  y: number;
  outcome: TraceOutcome;
  start: number;
  dur: number;
  box: Dot['box'];
  color: string;
}

const MARK_MS: Partial<Record<TraceOutcome, number>> = {
  pending: 1800,
  coalesced: 1400,
  dropped: 2600,
  delivered: 900,
};
/** Beyond this many queued dots, the oldest are dropped from the animation (the trace keeps them all). */
const MAX_DOTS = 4000;

export class DotLayer {
  private dots: Dot[] = [];
  private marks: Mark[] = [];
  private loop: Timer | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  private lastCount = -1;
  private dpr = 1;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.ctx = canvas.getContext('2d')!;
  }

  resize(width: number, height: number): void {
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * this.dpr);
    this.canvas.height = Math.round(height * this.dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  /**
   * Queues a batch. Hops start one after another `hopMs` apart, squeezed so the whole batch starts
   * within `spanMs` (the time until the next batch while playing).
   */
  add(events: readonly TraceEvent[], l: Layout, hopMs: number, spanMs: number): void {
    const now = performance.now();
    const n = events.length;
    const spacing = n > 0 ? Math.min(hopMs * 0.85, spanMs / n) : 0;
    const dur = Math.max(40, Math.min(hopMs, spanMs * 1.5));
    const first = Math.max(0, n - MAX_DOTS);
    for (let i = first; i < n; i++) {
      const e = events[i];
      const a = l.byId.get(e.from);
      const b = l.byId.get(e.to);
      if (!b) continue;
      const curve = a && a !== b ? curveBetween(a, b) : null;
      this.dots.push({
        curve,
        tx: curve ? curve.x1 : b.x + b.w / 2,
        ty: curve ? curve.y1 : b.y + b.anchor,
        box: b,
        start: now + (i - first) * spacing,
        dur: curve ? dur : dur * 0.6,
        color: PATH_COLOR[e.path],
        outcome: e.outcome,
        control: e.irq === 0,
        jitter: e.irq === 0 ? 0 : ((e.irq * 7) % 9) - 4,
      });
    }
    if (this.dots.length > MAX_DOTS) this.dots.splice(0, this.dots.length - MAX_DOTS);
    this.ensureLoop();
  }

  clear(): void {
    this.dots = [];
    this.marks = [];
    this.draw(performance.now());
  }

  destroy(): void {
    this.loop?.stop();
    this.loop = null;
  }

  /** Dots currently moving or waiting to start (a test and benchmark hook). */
  get inFlight(): number {
    return this.dots.length;
  }

  private ensureLoop(): void {
    if (this.loop) return;
    this.loop = timer(() => {
      const now = performance.now();
      this.draw(now);
      if (this.dots.length === 0 && this.marks.length === 0) {
        this.loop?.stop();
        this.loop = null;
      }
    });
  }

  private draw(now: number): void {
    const ctx = this.ctx;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const alive: Dot[] = [];
    for (const d of this.dots) {
      const t = (now - d.start) / d.dur;
      if (t >= 1) {
        this.arrive(d, now);
        continue;
      }
      alive.push(d);
      if (t < 0) continue;
      const [x, y0] = d.curve ? pointAt(d.curve, easeInOut(t)) : [d.tx, d.ty];
      // Jitter fades out towards both ends so dots still leave and reach the boxes' edges.
      const y = y0 + d.jitter * Math.sin(Math.PI * t);
      ctx.globalAlpha = d.curve ? 1 : 1 - t;
      ctx.fillStyle = d.color;
      ctx.beginPath();
      ctx.arc(x, y, d.control ? 3 : 4.5, 0, Math.PI * 2);
      ctx.fill();
    }
    this.dots = alive;
    ctx.globalAlpha = 1;
    this.marks = this.marks.filter((m) => now - m.start < m.dur);
    for (const m of this.marks) drawMark(ctx, m, (now - m.start) / m.dur);
    if (alive.length !== this.lastCount) {
      this.lastCount = alive.length;
      this.canvas.dataset.inFlight = String(alive.length);
    }
  }

  private arrive(d: Dot, now: number): void {
    const dur = MARK_MS[d.outcome] ?? 280;
    this.marks.push({ x: d.tx, y: d.ty, outcome: d.outcome, start: now, dur, box: d.box, color: d.color });
    if (this.marks.length > 600) this.marks.splice(0, this.marks.length - 600);
  }
}

function easeInOut(t: number): number {
  return t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t);
}

function drawMark(ctx: CanvasRenderingContext2D, m: Mark, t: number): void {
  const fade = 1 - t;
  ctx.globalAlpha = Math.max(0, fade);
  ctx.lineWidth = 2;
  const c = OUTCOME_COLOR[m.outcome];
  switch (m.outcome) {
    case 'pending':
      ctx.strokeStyle = c;
      ring(ctx, m.x, m.y, 7);
      break;
    case 'coalesced':
      ctx.strokeStyle = c;
      ring(ctx, m.x, m.y, 6);
      ring(ctx, m.x, m.y, 10);
      break;
    case 'dropped': {
      ctx.globalAlpha = Math.min(1, fade * 1.5);
      ctx.strokeStyle = c;
      ctx.lineWidth = 3;
      const r = 7;
      ctx.beginPath();
      ctx.moveTo(m.x - r, m.y - r);
      ctx.lineTo(m.x + r, m.y + r);
      ctx.moveTo(m.x + r, m.y - r);
      ctx.lineTo(m.x - r, m.y + r);
      ctx.stroke();
      ctx.fillStyle = c;
      ctx.font = 'bold 11px ui-monospace, monospace';
      ctx.fillText('dropped', m.x + 10, m.y - 8);
      break;
    }
    case 'delivered':
      ctx.strokeStyle = c;
      ring(ctx, m.x, m.y, 5 + 14 * t);
      break;
    default:
      break;
  }
  // Arrival glow on the destination box, in the path's colour.
  if (m.box && t < 1) {
    ctx.globalAlpha = Math.max(0, 0.7 * (1 - t));
    ctx.strokeStyle = m.outcome === 'dropped' ? c : m.color;
    ctx.lineWidth = 2;
    ctx.strokeRect(m.box.x - 1, m.box.y - 1, m.box.w + 2, m.box.h + 2);
  }
  ctx.globalAlpha = 1;
}

function ring(ctx: CanvasRenderingContext2D, x: number, y: number, r: number): void {
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.stroke();
}
