// The diagram's controller outside React: owns the SVG (static layer) and the canvas (dots), follows
// the store with `store.subscribe`, lays out on state or size changes, animates each answer's batch.

import type { StoreApi } from 'zustand/vanilla';
import type { AppState } from '../../store/index.ts';
import type { SystemState, TraceEvent } from '../../engine/index.ts';
import { layout, type Layout } from './layout.ts';
import { StaticLayer, type Edge } from './render.ts';
import { DotLayer } from './dots.ts';

const STEP_HOP_MS = 450;
const STEP_BATCH_MS = 3000;

export class DiagramView {
  private readonly svg: SVGSVGElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly layer: StaticLayer;
  private readonly dots: DotLayer;
  private readonly unsubscribe: () => void;
  private readonly resizeObserver: ResizeObserver;
  private edges = new Map<string, Edge>();
  private seen = new Set<string>();
  private l: Layout | null = null;
  /** What was last drawn: redraw only when it changes (a run changes time far more often than boxes). */
  private drawn = '';
  private width = 0;
  private height = 0;

  constructor(
    private readonly host: HTMLDivElement,
    private readonly store: StoreApi<AppState>,
    onSelect: (id: string | null) => void,
  ) {
    this.svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.svg.classList.add('diagram-svg');
    this.svg.addEventListener('click', () => onSelect(null));
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'diagram-dots';
    this.canvas.dataset.testid = 'dots';
    this.canvas.dataset.inFlight = '0';
    host.append(this.svg, this.canvas);
    this.layer = new StaticLayer(this.svg, onSelect);
    this.dots = new DotLayer(this.canvas);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(host);
    this.unsubscribe = store.subscribe((s, prev) => this.onChange(s, prev));
    this.resize();
  }

  destroy(): void {
    this.unsubscribe();
    this.resizeObserver.disconnect();
    this.dots.destroy();
    this.svg.remove();
    this.canvas.remove();
  }

  private resize(): void {
    const w = Math.floor(this.host.clientWidth);
    const h = Math.floor(this.host.clientHeight);
    if (w === this.width && h === this.height) return;
    this.width = w;
    this.height = h;
    this.relayout();
  }

  private onChange(s: AppState, prev: AppState): void {
    const batch = s.engine.batch;
    if (batch !== prev.engine.batch) {
      if (!batch.animate) {
        this.dots.clear();
        this.rebuildEdges(s.engine.trace);
      } else this.addEdges(batch.events);
    }
    if (
      s.engine.state !== prev.engine.state ||
      s.selection.node !== prev.selection.node ||
      s.selection.irq !== prev.selection.irq
    )
      this.relayout();
    if (batch !== prev.engine.batch && batch.animate && this.l) {
      const { playing, speed } = s.playback;
      const hopMs = playing ? Math.max(60, Math.min(STEP_HOP_MS, 900 / speed)) : STEP_HOP_MS;
      // Stepping: hops one after another, but a big batch (a `run` command) starts within 3 s.
      const spanMs = playing ? Math.max(1000 / 15, 1000 / speed) : STEP_BATCH_MS;
      this.dots.add(batch.events, this.l, hopMs, spanMs);
    }
  }

  private relayout(): void {
    const s = this.store.getState();
    const state: SystemState | null = s.engine.state;
    if (!state || this.width === 0) return;
    this.l = layout(state, this.width, this.height, this.seen);
    this.svg.setAttribute('width', String(this.l.width));
    this.svg.setAttribute('height', String(this.l.height));
    this.dots.resize(this.l.width, this.l.height);
    const path = this.irqPath(s);
    const sig = JSON.stringify([
      this.l.width,
      this.l.height,
      this.l.metrics.scale,
      this.l.nodes.map((n) => [n.id, n.x, n.y, n.h, n.title, n.lines, n.cells, n.pending]),
      this.edges.size,
      s.selection.node,
      [...path],
    ]);
    if (sig !== this.drawn) {
      this.drawn = sig;
      this.layer.draw(this.l, [...this.edges.values()], s.selection.node, path);
    }
    this.host.dataset.nodes = String(this.l.nodes.length);
    this.host.dataset.scale = String(this.l.metrics.scale);
  }

  /** Edges and nodes the selected interrupt went through (within the page's trace window). */
  private irqPath(s: AppState): Set<string> {
    const out = new Set<string>();
    const irq = s.selection.irq;
    if (irq === null) return out;
    for (const e of s.engine.trace) {
      if (e.irq !== irq) continue;
      out.add(`${e.from}>${e.to}`);
      out.add(e.from);
      out.add(e.to);
    }
    return out;
  }

  private rebuildEdges(trace: readonly TraceEvent[]): void {
    this.edges.clear();
    this.seen.clear();
    this.addEdges(trace);
  }

  private addEdges(events: readonly TraceEvent[]): void {
    for (const e of events) {
      // A node id the engine got wrong must not take the diagram down: skip it (the trace still shows it).
      if (typeof e.from !== 'string' || typeof e.to !== 'string') continue;
      const key = `${e.from}>${e.to}>${e.path}`;
      if (!this.edges.has(key)) this.edges.set(key, { from: e.from, to: e.to, path: e.path });
      this.seen.add(e.from);
      this.seen.add(e.to);
    }
  }
}
