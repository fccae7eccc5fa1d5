// The diagram's controller outside React: owns the SVG (static layer) and the canvas (tokens), follows
// the store with `store.subscribe`. Everything it draws is a function of the state at the cursor, the
// trace up to the cursor and the tokens in flight: boxes from the cursor's state, every edge of the
// topology (quiet until the cursor has passed a hop on it), tokens from the player.

import type { StoreApi } from 'zustand/vanilla';
import type { AppState } from '../../store/index.ts';
import type { SystemState, TraceEvent } from '../../engine/index.ts';
import { layout, type Layout } from './layout.ts';
import { nodeText } from './nodes.ts';
import { StaticLayer } from './render.ts';
import { routeEdges } from './geometry.ts';
import { topologyEdges, type Edge } from './edges.ts';
import { DotLayer, type TokenSource } from './dots.ts';

/** Drops stay marked while the cursor is within this many hops after them. */
const MARK_HOPS = 60;

export class DiagramView {
  private readonly svg: SVGSVGElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly layer: StaticLayer;
  private readonly dots: DotLayer;
  private readonly unsubscribe: () => void;
  private readonly resizeObserver: ResizeObserver;
  /** Edges the trace used that the topology table lacks. */
  private extraEdges = new Map<string, Edge>();
  private seen = new Set<string>();
  private l: Layout | null = null;
  /** What was last drawn: redraw only when it changes (a run changes time far more often than boxes). */
  private drawn = '';
  private width = 0;
  private height = 0;

  constructor(
    private readonly host: HTMLDivElement,
    private readonly store: StoreApi<AppState>,
    tokens: TokenSource,
    onSelect: (id: string | null) => void,
  ) {
    this.svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    this.svg.classList.add('diagram-svg');
    this.svg.setAttribute('role', 'group');
    this.svg.setAttribute('aria-label', 'topology: device, IOMMU, host kernel, KVM, vCPUs, guest');
    this.svg.addEventListener('click', () => onSelect(null));
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'diagram-dots';
    this.canvas.dataset.testid = 'dots';
    this.canvas.dataset.inFlight = '0';
    host.append(this.svg, this.canvas);
    this.layer = new StaticLayer(this.svg, onSelect);
    this.dots = new DotLayer(this.canvas, tokens);
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
    if (s.engine.batch !== prev.engine.batch) {
      if (!s.engine.batch.animate) this.extraEdges.clear();
      this.addEdges(s.engine.batch.events);
    }
    if (s.cursor.moving && !prev.cursor.moving) this.dots.wake();
    if (
      s.engine.state !== prev.engine.state ||
      s.cursor.at !== prev.cursor.at ||
      s.engine.batch !== prev.engine.batch ||
      s.selection.node !== prev.selection.node ||
      s.selection.irq !== prev.selection.irq ||
      s.presentation.theme !== prev.presentation.theme
    )
      this.relayout();
    if (s.cursor.moving) this.dots.wake();
  }

  private relayout(): void {
    const s = this.store.getState();
    const state: SystemState | null = s.engine.state;
    if (!state || this.width === 0) return;
    const k = Number(getComputedStyle(document.documentElement).getPropertyValue('--k')) || 1;
    // Laying out tries several scales: skip it when no box's text changed (a storm moves the clock
    // every frame, the boxes far less often).
    const key = this.textKey(state, k);
    const l = key === this.lastKey && this.l ? this.l : layout(state, this.width, this.height, this.seen, k);
    this.lastKey = key;
    const moved =
      !this.l ||
      this.l.width !== l.width ||
      this.l.height !== l.height ||
      l.nodes.some((n) => {
        const o = this.l!.byId.get(n.id);
        return !o || o.x !== n.x || o.y !== n.y || o.w !== n.w || o.h !== n.h;
      });
    this.l = l;
    if (moved) {
      this.svg.setAttribute('width', String(l.width));
      this.svg.setAttribute('height', String(l.height));
      this.dots.resize(l.width, l.height);
      this.dots.setLayout(l);
    }
    const passed = this.passed(s);
    const path = this.irqPath(s, passed);
    const used = new Set<string>();
    for (const e of passed) used.add(`${e.from}>${e.to}>${e.path}`);
    const devices = [...Object.keys(state.devices), ...Object.keys(state.vdevs)];
    const edges = topologyEdges(l, devices, state.kvm.vcpus.length);
    const have = new Set(edges.map((e) => `${e.from}>${e.to}>${e.path}`));
    for (const [k, e] of this.extraEdges) if (!have.has(k)) edges.push(e);
    const sig = JSON.stringify([
      l.width,
      l.height,
      l.metrics.scale,
      l.nodes.map((n) => [n.id, n.x, n.y, n.h, n.title, n.lines, n.cells, n.pending]),
      edges.length,
      [...used],
      s.selection.node,
      [...path],
      s.presentation.theme,
    ]);
    if (sig !== this.drawn) {
      this.drawn = sig;
      const routes = routeEdges(l.byId, edges);
      this.dots.setRoutes(routes);
      this.layer.draw(l, edges, s.selection.node, path, used, routes);
    }
    const at = s.cursor.at;
    this.dots.setMarks(
      passed.filter((e) => (e.outcome === 'dropped' || e.outcome === 'failed') && e.seq >= at - MARK_HOPS),
    );
    this.host.dataset.nodes = String(l.nodes.length);
    this.host.dataset.edges = String(edges.length);
    this.host.dataset.used = String(used.size);
    this.host.dataset.scale = String(l.metrics.scale);
  }

  private lastKey = '';

  private textKey(state: SystemState, k: number): string {
    const ids = this.l ? this.l.nodes.map((n) => n.id) : [];
    const parts: unknown[] = [this.width, this.height, k, this.seen.size, Object.keys(state.vfio).length];
    for (const id of ids) {
      const t = nodeText(state, id);
      parts.push(t.title, t.lines, t.cells, t.pending);
    }
    return JSON.stringify(parts);
  }

  /** The events of the page's window the cursor has passed. */
  private passed(s: AppState): TraceEvent[] {
    const t = s.engine.trace;
    if (t.length === 0) return [];
    const n = Math.max(0, Math.min(t.length, s.cursor.at - t[0].seq));
    return t.slice(0, n);
  }

  /** Edges and nodes the selected interrupt went through, up to the cursor. */
  private irqPath(s: AppState, passed: readonly TraceEvent[]): Set<string> {
    const out = new Set<string>();
    const irq = s.selection.irq;
    if (irq === null) return out;
    for (const e of passed) {
      if (e.irq !== irq) continue;
      out.add(`${e.from}>${e.to}`);
      out.add(e.from);
      out.add(e.to);
    }
    return out;
  }

  private addEdges(events: readonly TraceEvent[]): void {
    for (const e of events) {
      // A node id the engine got wrong must not take the diagram down: skip it (the trace still shows it).
      if (typeof e.from !== 'string' || typeof e.to !== 'string') continue;
      // A refused command names what the user typed (`dev:nosuchdev`): no box for it.
      if (e.outcome === 'failed') continue;
      const key = `${e.from}>${e.to}>${e.path}`;
      if (!this.extraEdges.has(key)) this.extraEdges.set(key, { from: e.from, to: e.to, path: e.path });
      this.seen.add(e.from);
      this.seen.add(e.to);
    }
  }
}
