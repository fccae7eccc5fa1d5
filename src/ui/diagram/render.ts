// Draws the static part of the diagram with d3 data joins: column headers, the user space / kernel
// line, every edge of the topology (quiet, or used once the cursor passed a hop on it), and the nodes with their state lines and table cells.
// This module owns its SVG: React never touches these elements.

import { select, type Selection } from 'd3';
import { PATH_COLOR } from '../theme.ts';
import { ADVANCE, HEADER, SHORT_COLUMNS, type Layout, type LayoutNode } from './layout.ts';
import { curvePath, type Curve } from './geometry.ts';
import type { Edge } from './edges.ts';

export type { Edge };

/** Parallel edges between the same two boxes (a control call and a data hop) sit a few px apart. */
function offsetCurve(c: Curve, k: number): Curve {
  if (k === 0) return c;
  const d = k * 4;
  return { ...c, y0: c.y0 + d, c1y: c.c1y + d, c2y: c.c2y + d, y1: c.y1 + d };
}

type G = Selection<SVGGElement, unknown, null, undefined>;

export class StaticLayer {
  private readonly root: G;
  private readonly cols: G;
  private readonly edges: G;
  private readonly nodes: G;

  constructor(
    svg: SVGSVGElement,
    private readonly onSelect: (id: string) => void,
  ) {
    const s = select(svg);
    this.root = s.append('g');
    this.cols = this.root.append('g').attr('class', 'cols');
    this.edges = this.root.append('g').attr('class', 'edges');
    this.nodes = this.root.append('g').attr('class', 'nodes');
  }

  /**
   * `path`: edge keys (`from>to`) and node ids on the selected interrupt's way, drawn highlighted;
   * `used`: edge keys (`from>to>path`) the cursor has passed, drawn stronger than the quiet rest.
   */
  draw(
    l: Layout,
    edges: Edge[],
    selected: string | null,
    path: ReadonlySet<string>,
    used: ReadonlySet<string>,
    routes: ReadonlyMap<string, Curve>,
  ): void {
    this.drawColumns(l);
    this.drawEdges(edges, path, used, routes);
    this.drawNodes(l, selected, path);
  }

  private drawColumns(l: Layout): void {
    const c = this.cols.selectAll<SVGGElement, Layout['columns'][number]>('g.col').data(l.columns);
    const enter = c.enter().append('g').attr('class', 'col');
    enter.append('rect').attr('class', 'col-bg');
    enter.append('text').attr('class', 'col-title');
    const all = enter.merge(c);
    all
      .select('rect')
      .attr('x', (d) => d.x - 4)
      .attr('y', 4)
      .attr('width', (d) => d.w + 8)
      .attr('height', l.height - 8)
      .attr('rx', 6);
    all
      .select<SVGTextElement>('text')
      .attr('x', (d) => d.x + d.w / 2)
      .attr('y', HEADER - 6)
      .text((d) => d.title)
      .each(function (d, i) {
        // measured, since the type scales with the window: a title wider than its column takes its short form
        for (const short of SHORT_COLUMNS[i] ?? [])
          if (this.getComputedTextLength() > d.w) this.textContent = short;
      });
    const k = l.kernelLine;
    const line = this.cols
      .selectAll<SVGGElement, NonNullable<Layout['kernelLine']>>('g.kline')
      .data(k ? [k] : []);
    line.exit().remove();
    const le = line.enter().append('g').attr('class', 'kline');
    le.append('line');
    // One label above the line: below it the next box starts, at any type size.
    le.append('text').attr('class', 'kline-u').text('user space ↑  kernel ↓');
    const lm = le.merge(line);
    lm.select('line')
      .attr('x1', (d) => d.x1)
      .attr('x2', (d) => d.x2)
      .attr('y1', (d) => d.y)
      .attr('y2', (d) => d.y);
    lm.select('.kline-u')
      .attr('x', (d) => d.x2 - 2)
      .attr('y', (d) => d.y - 3);
  }

  private drawEdges(
    edges: Edge[],
    path: ReadonlySet<string>,
    used: ReadonlySet<string>,
    routes: ReadonlyMap<string, Curve>,
  ): void {
    const drawable = edges.filter((e) => routes.has(`${e.from}>${e.to}`));
    const rank = new Map<string, number>();
    const offsets = new Map<Edge, number>();
    for (const e of drawable) {
      const k = `${e.from}>${e.to}`;
      const n = rank.get(k) ?? 0;
      rank.set(k, n + 1);
      offsets.set(e, n);
    }
    this.edges
      .selectAll<SVGPathElement, Edge>('path')
      .data(drawable, (e) => `${e.from}>${e.to}>${e.path}`)
      .join('path')
      .attr('d', (e) => curvePath(offsetCurve(routes.get(`${e.from}>${e.to}`)!, offsets.get(e) ?? 0)))
      .attr('stroke', (e) => PATH_COLOR[e.path])
      .attr('data-edge', (e) => `${e.from}>${e.to}`)
      .attr('data-path', (e) => e.path)
      .attr('class', (e) => `edge p-${e.path}`)
      .classed('used', (e) => used.has(`${e.from}>${e.to}>${e.path}`))
      .classed('hl', (e) => path.has(`${e.from}>${e.to}`));
  }

  private drawNodes(l: Layout, selected: string | null, path: ReadonlySet<string>): void {
    const m = l.metrics;
    const titleAdv = m.titleFont * ADVANCE.title;
    const lineAdv = m.lineFont * ADVANCE.line;
    const titleY = Math.round(m.titleH * 0.72);
    const j = this.nodes.selectAll<SVGGElement, LayoutNode>('g.node').data(l.nodes, (n) => n.id);
    j.exit().remove();
    const enter = j
      .enter()
      .append('g')
      .attr('class', (n) => `node ${n.kind}`)
      .attr('data-node-id', (n) => n.id)
      .attr('data-testid', (n) => `node-${n.id}`)
      .attr('tabindex', 0)
      .attr('role', 'button')
      .on('click', (ev: MouseEvent, n) => {
        ev.stopPropagation();
        this.onSelect(n.id);
      })
      .on('keydown', (ev: KeyboardEvent, n) => {
        if (ev.key !== 'Enter') return;
        ev.preventDefault();
        this.onSelect(n.id);
      });
    enter.append('title');
    enter.append('rect').attr('class', 'frame').attr('rx', 4);
    enter.append('text').attr('class', 'title');
    enter.append('g').attr('class', 'lines');
    enter.append('g').attr('class', 'cells');
    enter.append('circle').attr('class', 'badge').attr('r', 4);
    const all = enter.merge(j);
    all
      .attr('transform', (n) => `translate(${n.x},${n.y})`)
      .classed('selected', (n) => n.id === selected)
      .classed('on-path', (n) => path.has(n.id))
      .classed('has-pending', (n) => !!n.pending)
      .attr('aria-label', (n) => [n.title, ...n.lines].join(', '));
    // The full text as a tooltip: a narrow column truncates its lines.
    all.select('title').text((n) => [n.title, ...n.lines].join('\n'));
    all
      .select<SVGRectElement>('rect.frame')
      .attr('width', (n) => n.w)
      .attr('height', (n) => n.h);
    all
      .select('text.title')
      .attr('x', 7)
      .attr('y', titleY)
      .style('font-size', `${m.titleFont}px`)
      .text((n) => fit(n.title, n.w - (n.pending ? 24 : 12), titleAdv));
    all
      .select('g.lines')
      .selectAll<SVGTextElement, string>('text')
      .data((n) => n.lines)
      .join('text')
      .attr('x', 7)
      .attr('y', (_, i) => m.titleH + Math.round(m.lineH * 0.64) + i * m.lineH)
      .style('font-size', `${m.lineFont}px`)
      .text(function (d) {
        const n = select<SVGGElement, LayoutNode>(this.parentNode as SVGGElement).datum();
        return fit(d, n.w - 12, lineAdv);
      });
    all
      .select('circle.badge')
      .attr('cx', (n) => n.w - 8)
      .attr('cy', Math.round(titleY * 0.7))
      .attr('display', (n) => (n.pending ? null : 'none'));
    all.select<SVGGElement>('g.cells').each(function (n) {
      const top = m.titleH + n.lines.length * m.lineH + Math.round(6 * m.scale);
      select(this)
        .selectAll<SVGRectElement, number>('rect')
        .data(n.cells ?? [])
        .join('rect')
        .attr('x', (_, i) => 7 + (i % n.cellsPerRow) * (n.cellSize + 2))
        .attr('y', (_, i) => top + Math.floor(i / n.cellsPerRow) * (n.cellSize + 2))
        .attr('width', n.cellSize)
        .attr('height', n.cellSize)
        .attr('rx', 2)
        .attr('class', (c) => (c === 2 ? 'cell pending' : c === 1 ? 'cell unmasked' : 'cell masked'));
    });
  }
}

/** Truncates a label to the box width (monospace: a fixed advance per character) with an ellipsis. */
function fit(text: string, width: number, advance: number): string {
  const max = Math.floor(width / advance);
  return text.length <= max ? text : text.slice(0, Math.max(1, max - 1)) + '…';
}
