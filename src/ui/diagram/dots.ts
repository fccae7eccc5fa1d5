// The moving part of the diagram, on one canvas in one animation loop (d3.timer): the tokens in flight
// (from the player), each on the curve of its hop, shaped and coloured by path; the edge under a token
// lit in its colour; and the marks the cursor has passed: a dropped interrupt stopped where it dropped
// with its reason, a delivered one's burst. A thousand tokens cost one draw per frame, not a DOM node
// or a React render each.

import { timer, type Timer } from 'd3';
import type { TraceEvent, TracePath } from '../../engine/index.ts';
import type { Token } from '../../store/player.ts';
import { outcomeColor, pathColor } from '../theme.ts';
import type { Layout } from './layout.ts';
import { curveBetween, pointAt, type Curve } from './geometry.ts';

/** Token shapes by path: the legend draws the same (Legend.tsx). */
export const SHAPE: Record<TracePath, 'circle' | 'diamond' | 'square' | 'triangle' | 'ring'> = {
  direct: 'circle',
  posted: 'diamond',
  intercepted: 'square',
  emulated: 'triangle',
  control: 'ring',
};

export interface TokenSource {
  readonly tokens: readonly Token[];
}

export class DotLayer {
  private loop: Timer | null = null;
  private readonly ctx: CanvasRenderingContext2D;
  private lastCount = -1;
  private dpr = 1;
  private l: Layout | null = null;
  private curves = new Map<string, Curve | null>();
  /** Drops (and recent deliveries) the cursor has passed, drawn until the cursor moves away. */
  private marks: TraceEvent[] = [];
  /** The window's type scale (--k): mark labels grow with the page's type. */
  private k = 1;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly source: TokenSource,
  ) {
    this.ctx = canvas.getContext('2d')!;
  }

  resize(width: number, height: number): void {
    this.dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * this.dpr);
    this.canvas.height = Math.round(height * this.dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
  }

  setLayout(l: Layout): void {
    this.l = l;
    this.k = Number(getComputedStyle(document.documentElement).getPropertyValue('--k')) || 1;
    this.curves.clear();
    this.draw();
  }

  setMarks(marks: TraceEvent[]): void {
    this.marks = marks;
    this.draw();
  }

  /** Starts the loop (tokens are leaving); it stops by itself when none is in flight. */
  wake(): void {
    if (this.loop) return;
    this.loop = timer(() => {
      this.draw();
      if (this.source.tokens.length === 0) {
        this.loop?.stop();
        this.loop = null;
        this.draw();
      }
    });
  }

  destroy(): void {
    this.loop?.stop();
    this.loop = null;
  }

  /** The curves the static layer draws (routeEdges), so tokens run on the lines the user sees. */
  setRoutes(routes: ReadonlyMap<string, Curve>): void {
    this.routes = routes;
    this.curves.clear();
  }

  private routes: ReadonlyMap<string, Curve> = new Map();

  private curve(e: TraceEvent): Curve | null {
    const key = `${e.from}>${e.to}`;
    let c = this.curves.get(key);
    if (c === undefined) {
      const a = this.l?.byId.get(e.from);
      const b = this.l?.byId.get(e.to);
      c = this.routes.get(key) ?? (a && b && a !== b ? curveBetween(a, b) : null);
      this.curves.set(key, c);
    }
    return c;
  }

  private draw(): void {
    const ctx = this.ctx;
    const l = this.l;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!l) return;
    const now = performance.now();
    for (const m of this.marks) this.drawMark(m);
    const tokens = this.source.tokens;
    // The edges under tokens, lit once per edge.
    const lit = new Map<string, { c: Curve; color: string }>();
    const colors = {} as Record<TracePath, string>;
    for (const p of Object.keys(SHAPE) as TracePath[]) colors[p] = pathColor(p);
    for (const t of tokens) {
      const c = this.curve(t.e);
      if (c) lit.set(`${t.e.from}>${t.e.to}>${t.e.path}`, { c, color: colors[t.e.path] });
    }
    // A storm (more than CROWD tokens): the same shapes and colours as the legend, smaller, and a circle
    // or ring as an octagon (straight segments, no arc), batched into one path per colour, so a
    // thousand tokens rasterise within the frame and a dot still reads as a dot, not as another path.
    const crowd = tokens.length > CROWD;
    ctx.lineWidth = 3;
    ctx.globalAlpha = 0.55;
    for (const { c, color } of lit.values()) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      ctx.moveTo(c.x0, c.y0);
      ctx.bezierCurveTo(c.c1x, c.c1y, c.c2x, c.c2y, c.x1, c.y1);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // Tokens, batched by path (one fill per colour).
    let drawn = 0;
    /** In a storm, how many tokens each edge carries: piled tokens read as a number. */
    const perEdge = new Map<string, { c: Curve; n: number }>();
    for (const path of Object.keys(SHAPE) as TracePath[]) {
      const shape = SHAPE[path];
      const drawAs = crowd && (shape === 'circle' || shape === 'ring') ? 'octagon' : shape;
      ctx.fillStyle = colors[path];
      ctx.strokeStyle = colors[path];
      ctx.lineWidth = crowd ? 1.5 : 2;
      const at = new Set<number>();
      ctx.beginPath();
      for (const t of tokens) {
        if (t.e.path !== path) continue;
        const k = Math.max(0, Math.min(1, (now - t.start) / t.dur));
        const c = this.curve(t.e);
        let x: number;
        let y: number;
        if (c) {
          if (crowd) {
            const key = `${t.e.from}>${t.e.to}`;
            const pe = perEdge.get(key);
            if (pe) pe.n++;
            else perEdge.set(key, { c, n: 1 });
          }
          [x, y] = pointAt(c, easeInOut(k));
          // A storm spreads its tokens across the edge's width (a stream, not one pile of dots).
          y += (crowd ? spread(t.e.irq) : jitter(t.e.irq)) * Math.sin(Math.PI * k);
        } else {
          const b = l.byId.get(t.e.to);
          if (!b) continue;
          x = b.x + b.w - 10;
          y = b.y + b.anchor;
        }
        drawn++;
        // Tokens on the same half pixel would paint the same pixels again: a storm draws each once.
        if (crowd) {
          const key = ((Math.round(x * 2) & 0xffff) << 16) | (Math.round(y * 2) & 0xffff);
          if (at.has(key)) continue;
          at.add(key);
        }
        addShape(ctx, drawAs, x, y, crowd ? CROWD_R : t.e.irq === 0 ? 3.5 : 5);
      }
      if (shape === 'ring') ctx.stroke();
      else ctx.fill();
    }
    if (crowd) this.drawCounts(perEdge);
    if (drawn !== this.lastCount) {
      this.lastCount = drawn;
      this.canvas.dataset.inFlight = String(drawn);
    }
  }

  /** A storm's count per edge (`×1,000`), on a pill at the edge's middle, above its tokens. */
  private drawCounts(perEdge: Map<string, { c: Curve; n: number }>): void {
    const ctx = this.ctx;
    const fs = 11 * this.k;
    ctx.font = `600 ${fs}px ui-monospace, monospace`;
    for (const { c, n } of perEdge.values()) {
      if (n < CROWD / 8) continue;
      const text = `×${n.toLocaleString('en-US')}`;
      const w = ctx.measureText(text).width + 8;
      const [px, py] = this.pillAt(c, w, fs * 1.5, fs);
      ctx.fillStyle = cssVarColor('--panel');
      ctx.globalAlpha = 0.92;
      roundRect(ctx, px, py, w, fs * 1.5, 4);
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.fillStyle = cssVarColor('--text');
      ctx.fillText(text, px + 4, py + fs * 1.1);
    }
  }

  /**
   * Where a count pill goes: above (or below) the edge near its middle, at the first spot that covers no
   * box's text (an edge between neighbouring columns is shorter than its pill); else the least covering.
   */
  private pillAt(c: Curve, w: number, h: number, fs: number): [number, number] {
    const l = this.l;
    const width = l?.width ?? 0;
    let best: [number, number] = [0, 0];
    let bestCover = Infinity;
    for (const t of [0.5, 0.35, 0.65, 0.2, 0.8])
      for (const dy of [-fs * 1.9, fs * 0.6]) {
        const [mx, my] = pointAt(c, t);
        const px = Math.max(2, Math.min(mx - w / 2, width - w - 2));
        const py = Math.max(2, my + dy);
        let cover = 0;
        for (const n of l?.nodes ?? []) {
          // a group's own text is its header; its children are boxes of their own
          const nh = n.kind === 'group' ? n.anchor * 2 : n.h;
          const ox = Math.min(px + w, n.x + n.w) - Math.max(px, n.x);
          const oy = Math.min(py + h, n.y + nh) - Math.max(py, n.y);
          if (ox > 0 && oy > 0) cover += ox * oy;
        }
        if (cover === 0) return [px, py];
        if (cover < bestCover) [best, bestCover] = [[px, py], cover];
      }
    return best;
  }

  /** Where a hop's outcome shows: the end of its edge, or the box for a hop inside one. */
  private drawMark(e: TraceEvent): void {
    const ctx = this.ctx;
    const l = this.l!;
    const c = this.curve(e);
    const b = l.byId.get(e.to);
    if (!b) return;
    const x = c ? c.x1 - 2 : b.x + b.w - 12;
    const y = c ? c.y1 : b.y + b.anchor;
    const color = outcomeColor(e.outcome);
    if (e.outcome === 'dropped' || e.outcome === 'failed') {
      ctx.strokeStyle = color;
      ctx.lineWidth = 3;
      const r = 6;
      ctx.beginPath();
      ctx.moveTo(x - r, y - r);
      ctx.lineTo(x + r, y + r);
      ctx.moveTo(x + r, y - r);
      ctx.lineTo(x - r, y + r);
      ctx.stroke();
      // The reason, on a pill under the box where it dropped (not over its title), kept in the drawing.
      const fs = 11 * this.k;
      ctx.font = `600 ${fs}px ui-monospace, monospace`;
      const room = Math.max(120, b.w + 8);
      let text = `✕ ${e.outcome}: ${shortReason(e.detail)}`;
      while (text.length > 12 && ctx.measureText(text).width + 10 > room) text = text.slice(0, -2) + '…';
      if (text.endsWith('……')) text = text.slice(0, -1);
      const w = ctx.measureText(text).width + 10;
      const px = Math.max(4, Math.min(b.x, l.width - w - 4));
      const py = Math.min(b.y + b.h + 3, l.height - fs * 1.8);
      ctx.fillStyle = outcomeColor('failed');
      ctx.globalAlpha = 0.95;
      roundRect(ctx, px, py, w, fs * 1.55, 4);
      ctx.fill();
      ctx.globalAlpha = 1;
      ctx.fillStyle = '#fff';
      ctx.fillText(text, px + 5, py + fs * 1.14);
    } else if (e.outcome === 'delivered') {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 8, 0, Math.PI * 2);
      ctx.stroke();
    }
  }
}

const varCache = new Map<string, string>();
let varTheme: string | undefined;
/** A theme colour for the canvas (cached per theme: read once, not every frame). */
function cssVarColor(name: string): string {
  const theme = document.documentElement.dataset.theme;
  if (theme !== varTheme) {
    varCache.clear();
    varTheme = theme;
  }
  let v = varCache.get(name);
  if (v === undefined) {
    v = getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
    varCache.set(name, v);
  }
  return v;
}

function shortReason(detail: string): string {
  const d = detail || 'no reason given';
  return d.length > 48 ? d.slice(0, 47) + '…' : d;
}

/** More tokens than this in flight draw the storm's way (the bench measures 1,000 and 5,000). */
const CROWD = 400;
/** A storm token's radius: smaller than a single one's, the shape still readable. */
const CROWD_R = 3.5;
/** An octagon's corners on the unit circle, for storm dots. */
const OCTAGON = [...Array(8).keys()].map((i) => [Math.cos((i * Math.PI) / 4), Math.sin((i * Math.PI) / 4)]);

function spread(irq: number): number {
  return ((irq * 37) % 17) - 8;
}

function jitter(irq: number): number {
  return irq === 0 ? 0 : ((irq * 7) % 9) - 4;
}

function easeInOut(t: number): number {
  return t < 0.5 ? 2 * t * t : 1 - 2 * (1 - t) * (1 - t);
}

function addShape(ctx: CanvasRenderingContext2D, shape: string, x: number, y: number, r: number): void {
  switch (shape) {
    case 'diamond':
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.2, y);
      ctx.lineTo(x, y + r * 1.2);
      ctx.lineTo(x - r * 1.2, y);
      ctx.closePath();
      break;
    case 'square':
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
      break;
    case 'octagon':
      ctx.moveTo(x + r, y);
      for (let i = 1; i < 8; i++) ctx.lineTo(x + r * OCTAGON[i][0], y + r * OCTAGON[i][1]);
      ctx.closePath();
      break;
    case 'triangle':
      ctx.moveTo(x, y - r * 1.2);
      ctx.lineTo(x + r * 1.1, y + r * 0.9);
      ctx.lineTo(x - r * 1.1, y + r * 0.9);
      ctx.closePath();
      break;
    case 'ring':
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
      break;
    default:
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
  }
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}
