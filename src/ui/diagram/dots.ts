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

  private sprites = new Map<string, HTMLCanvasElement>();

  /** A storm token of `path`: its legend shape, outlined with the page colour so neighbours stay apart. */
  private sprite(path: TracePath, color: string): HTMLCanvasElement {
    const key = `${path}|${color}|${this.dpr}`;
    let c = this.sprites.get(key);
    if (!c) {
      const r = CROWD_R;
      const size = Math.ceil((2 * r * 1.3 + 4) * this.dpr);
      c = document.createElement('canvas');
      c.width = size;
      c.height = size;
      const g = c.getContext('2d')!;
      g.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      const mid = size / this.dpr / 2;
      g.beginPath();
      addShape(g, SHAPE[path], mid, mid, r);
      g.lineWidth = 1.5;
      g.strokeStyle = color;
      if (SHAPE[path] === 'ring') g.stroke();
      else {
        g.fillStyle = color;
        g.fill();
        g.strokeStyle = cssBackground();
        g.lineWidth = 0.75;
        g.stroke();
      }
      this.sprites.set(key, c);
    }
    return c;
  }

  private curve(e: TraceEvent): Curve | null {
    const key = `${e.from}>${e.to}`;
    let c = this.curves.get(key);
    if (c === undefined) {
      const a = this.l?.byId.get(e.from);
      const b = this.l?.byId.get(e.to);
      c = a && b && a !== b ? curveBetween(a, b) : null;
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
    // A storm (more than CROWD tokens): the same shapes and colours as the legend, smaller, each stamped
    // from a sprite drawn once per path, so thousands of tokens cost one drawImage each, not a path.
    const crowd = tokens.length > CROWD;
    ctx.lineWidth = crowd ? 2 : 3;
    ctx.globalAlpha = 0.55;
    for (const { c, color } of lit.values()) {
      ctx.strokeStyle = color;
      ctx.beginPath();
      ctx.moveTo(c.x0, c.y0);
      ctx.bezierCurveTo(c.c1x, c.c1y, c.c2x, c.c2y, c.x1, c.y1);
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // Tokens, batched by path (one fill per colour, or one sprite per path in a storm).
    let drawn = 0;
    for (const path of Object.keys(SHAPE) as TracePath[]) {
      const shape = SHAPE[path];
      const sprite = crowd ? this.sprite(path, colors[path]) : null;
      const half = sprite ? sprite.width / this.dpr / 2 : 0;
      ctx.fillStyle = colors[path];
      ctx.strokeStyle = colors[path];
      ctx.lineWidth = 2;
      ctx.beginPath();
      for (const t of tokens) {
        if (t.e.path !== path) continue;
        const k = Math.max(0, Math.min(1, (now - t.start) / t.dur));
        const c = this.curve(t.e);
        let x: number;
        let y: number;
        if (c) {
          [x, y] = pointAt(c, easeInOut(k));
          // A storm spreads its tokens across the edge's width (a stream, not one pile of dots).
          y += (crowd ? spread(t.e.irq) : jitter(t.e.irq)) * Math.sin(Math.PI * k);
        } else {
          const b = l.byId.get(t.e.to);
          if (!b) continue;
          x = b.x + b.w - 10;
          y = b.y + b.anchor;
        }
        if (sprite) ctx.drawImage(sprite, x - half, y - half, 2 * half, 2 * half);
        else addShape(ctx, shape, x, y, t.e.irq === 0 ? 3.5 : 5);
        drawn++;
      }
      if (sprite) continue;
      if (shape === 'ring') ctx.stroke();
      else ctx.fill();
    }
    if (drawn !== this.lastCount) {
      this.lastCount = drawn;
      this.canvas.dataset.inFlight = String(drawn);
    }
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

function shortReason(detail: string): string {
  const d = detail || 'no reason given';
  return d.length > 48 ? d.slice(0, 47) + '…' : d;
}

/** More tokens than this in flight draw as sprites (the bench measures 1,000 and 5,000). */
const CROWD = 400;
/** A storm token's radius: smaller than a single one's, the shape still readable. */
const CROWD_R = 3.2;

function cssBackground(): string {
  return getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() || '#000';
}

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
