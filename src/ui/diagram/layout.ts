// Where diagram nodes go: six columns left to right (Hardware | IOMMU | Host kernel | eventfd/irqfd |
// vCPU LAPICs | Guest), QEMU on top of the host kernel column. A pure function of the snapshot (and
// of node ids seen in the trace that the snapshot does not name), so the picture follows the state.

import type { SystemState, VfioBackend } from '../../engine/index.ts';
import { MAX_CELLS, nodeText, type NodeText } from './nodes.ts';

export interface LayoutNode extends NodeText {
  id: string;
  kind: 'group' | 'box';
  x: number;
  y: number;
  w: number;
  h: number;
  /** Cells geometry (when the node has cells). */
  cellSize: number;
  cellsPerRow: number;
  /** Where hops leave and enter the box, from its top (the title line). */
  anchor: number;
}

/** Sizes the drawing uses, scaled together so the boxes fill the height the diagram has. */
export interface Metrics {
  scale: number;
  titleH: number;
  lineH: number;
  titleFont: number;
  lineFont: number;
  cell: number;
  gap: number;
}

export interface Layout {
  width: number;
  height: number;
  columns: { title: string; x: number; w: number }[];
  nodes: LayoutNode[];
  byId: Map<string, LayoutNode>;
  /** The user space / kernel boundary in the host column. */
  kernelLine: { x1: number; x2: number; y: number } | null;
  metrics: Metrics;
}

export const COLUMNS = ['Hardware', 'IOMMU', 'Host kernel', 'eventfd / irqfd', 'vCPU LAPIC', 'Guest'];
/** The titles a narrow column falls back to, in order (a side panel open at 1280 px), so no two overlap. */
export const SHORT_COLUMNS = [['HW'], [], ['Host'], ['eventfd/irqfd', 'irqfd'], ['LAPIC'], []];
const WEIGHTS = [1.45, 1.05, 1.35, 0.95, 1.0, 0.8];
const HEADER = 26;
const GAP = 12;
const PAD = 8;
/** Room kept above the boxes for the arcs that go back over the columns (guest to QEMU, replies). */
const ARC_ROOM = 34;
/** How far the boxes may grow to fill the height; fonts grow less, since the columns' widths do not. */
const MAX_SCALE = 1.8;
const MAX_FONT_SCALE = 1.2;
/** A topology taller than the diagram shrinks to this before the diagram scrolls (1280x720). */
const MIN_SCALE = 0.8;

export function metricsFor(scale: number, k = 1): Metrics {
  return {
    scale,
    titleH: Math.round(18 * scale),
    lineH: Math.round(14 * Math.min(scale, 1.35 * k)),
    titleFont: 12,
    lineFont: 11,
    cell: Math.round(11 * Math.min(scale, 1.3 * k)),
    gap: Math.round(GAP * scale),
  };
}

/** Monospace advance per character, as a fraction of the font size. */
export const ADVANCE = { title: 0.61, line: 0.605 };

/**
 * Grows the fonts with the scale, at most as far as every title and line that fits its box at the base
 * size still fits: a bigger font must never cut a name the base size showed whole.
 */
function fitFonts(nodes: LayoutNode[], m: Metrics, k: number): Metrics {
  // Below scale 1 (a projector) the type shrinks with the boxes; above, it grows with the window (k)
  // and a little with the boxes, never past what the line height holds.
  const floor = Math.min(1, m.scale);
  let f = Math.min(MAX_FONT_SCALE * k, Math.max(floor, k + (m.scale - k) * 0.5), (m.lineH * 0.86) / 11);
  for (const n of nodes) {
    const tw = (n.w - (n.pending ? 24 : 12)) / (n.title.length * ADVANCE.title * 12);
    if (tw >= floor) f = Math.min(f, tw);
    for (const line of n.lines) {
      const lw = (n.w - 12) / (line.length * ADVANCE.line * 11);
      if (lw >= floor) f = Math.min(f, lw);
    }
  }
  f = Math.max(floor, Math.floor(f * 20) / 20);
  return { ...m, titleFont: +(12 * f).toFixed(2), lineFont: +(11 * f).toFixed(2) };
}

interface Spec {
  id: string;
  children?: string[];
}

const BACKEND_ORDER: VfioBackend[] = ['msix', 'msi', 'intx', 'ims', 'emulated'];

/** Which column a node id belongs to, by its prefix (also places ids the snapshot does not name). */
export function columnOf(id: string): number {
  const kind = id.split(':')[0];
  if (['dev', 'msix', 'msi', 'intx', 'ims', 'vdev'].includes(kind)) return 0;
  if (kind === 'iommu' || kind === 'pi') return 1;
  if (kind === 'hostirq' || kind === 'vfio' || kind === 'vmm') return 2;
  if (kind === 'lapic') return 4;
  if (kind === 'guest') return 5;
  return 3;
}

function specs(s: SystemState): Spec[][] {
  const cols: Spec[][] = COLUMNS.map(() => []);
  for (const d of Object.values(s.devices)) {
    const children: string[] = [];
    if (d.msix) children.push(`msix:${d.name}`);
    if (d.msi) children.push(`msi:${d.name}`);
    if (d.intx.pin > 0) children.push(`intx:${d.name}`);
    if (d.ims) children.push(`ims:${d.name}`);
    cols[0].push({ id: `dev:${d.name}`, children });
  }
  for (const v of Object.values(s.vdevs)) cols[0].push({ id: `vdev:${v.name}` });
  cols[1].push({ id: 'iommu' });
  if (s.iommu.posted_interrupts) s.kvm.vcpus.forEach((v) => cols[1].push({ id: `pi:${v.id}` }));
  cols[2].push({ id: 'vmm' }, { id: 'hostirq' });
  for (const [name, v] of Object.entries(s.vfio)) {
    const set = new Set<VfioBackend>(Object.values(v.ctx).map((c) => c.backend));
    const d = s.devices[name];
    if (d?.msix) set.add('msix');
    if (d?.msi) set.add('msi');
    if (d && d.intx.pin > 0) set.add('intx');
    s.vdevs[name]?.vectors.forEach((x) => set.add(x.backend));
    const children = BACKEND_ORDER.filter((b) => set.has(b)).map((b) => `vfio:${name}/${b}`);
    cols[2].push({ id: `vfio:${name}`, children });
  }
  cols[3].push({ id: 'eventfd' }, { id: 'irqfd' }, { id: 'kvm' });
  s.kvm.vcpus.forEach((v) => cols[4].push({ id: `lapic:${v.id}` }));
  cols[5].push({ id: 'guest' });
  return cols;
}

/**
 * A state line too long for its box breaks at its commas (`2 present, 0 posted` in a narrow IOMMU
 * column) rather than being cut: every word of it stays readable.
 */
function wrapLines(t: NodeText, w: number, m: Metrics): NodeText {
  const max = Math.floor((w - 12) / (11 * ADVANCE.line * Math.min(1, m.scale)));
  if (t.lines.every((l) => l.length <= max)) return t;
  const lines: string[] = [];
  for (const line of t.lines) {
    if (line.length <= max) {
      lines.push(line);
      continue;
    }
    let cur = '';
    for (const part of line.split(/(?<=,) /)) {
      if (cur && (cur + ' ' + part).length > max) {
        lines.push(cur);
        cur = part;
      } else cur = cur ? `${cur} ${part}` : part;
    }
    if (cur) lines.push(cur);
  }
  return { ...t, lines };
}

function boxHeight(t: NodeText, w: number, m: Metrics): { h: number; perRow: number } {
  let h = m.titleH + t.lines.length * m.lineH + Math.round(6 * m.scale);
  const perRow = Math.max(1, Math.floor((w - 2 * PAD + 2) / (m.cell + 2)));
  if (t.cells && t.cells.length > 0)
    h += Math.ceil(Math.min(t.cells.length, MAX_CELLS) / perRow) * (m.cell + 2) + 4;
  return { h, perRow };
}

/**
 * Lays out at the largest scale (in steps of 0.1) whose tallest column fits the height, so a small
 * topology is drawn large rather than as a thin band in the middle; a topology too tall even at scale
 * 1 grows the drawing (the diagram scrolls).
 */
export function layout(
  s: SystemState,
  width: number,
  height: number,
  extra: Iterable<string> = [],
  k = 1,
): Layout {
  const ids = [...extra];
  let last: Layout | null = null;
  for (let scale = MAX_SCALE * k; scale >= MIN_SCALE - 0.001; scale -= 0.05) {
    const at = layoutAt(s, width, height, ids, metricsFor(+scale.toFixed(2), k), k);
    if (at.used <= at.room) return at.layout;
    last = at.layout;
  }
  return last!;
}

function layoutAt(
  s: SystemState,
  width: number,
  height: number,
  extra: Iterable<string>,
  m: Metrics,
  k: number,
): { layout: Layout; used: number; room: number } {
  const cols = specs(s);
  const known = new Set(cols.flat().flatMap((sp) => [sp.id, ...(sp.children ?? [])]));
  for (const id of extra) {
    if (!id || known.has(id)) continue;
    cols[columnOf(id)].push({ id });
    known.add(id);
  }

  const total = WEIGHTS.reduce((a, b) => a + b, 0);
  // A wide diagram spends some of its width between the columns, where the edges run: the bundle
  // from the VFIO backends and QEMU into eventfd/irqfd needs room to fan out (routeEdges).
  const colGap = Math.round(Math.min(36, GAP + Math.max(0, (width - 900) / 25)));
  const usable = width - GAP * 2 - colGap * (COLUMNS.length - 1);
  let x = GAP;
  const columns = COLUMNS.map((title, i) => {
    const w = (usable * WEIGHTS[i]) / total;
    const c = { title, x, w };
    x += w + colGap;
    return c;
  });

  const nodes: LayoutNode[] = [];
  let maxBottom = height;
  let maxUsed = 0;
  let kernelLine: Layout['kernelLine'] = null;
  const anchor = (h: number) => Math.min(h / 2, Math.round(m.titleH * 0.75));
  const kidGap = Math.round(6 * m.scale);
  const room = height - HEADER - GAP - ARC_ROOM - GAP;
  const stacks: { placed: LayoutNode[]; used: number; cx: number; cw: number }[] = [];
  cols.forEach((col, ci) => {
    const { x: cx, w: cw } = columns[ci];
    const placed: LayoutNode[] = [];
    let y = 0;
    for (const sp of col) {
      if (sp.id === 'hostirq') y += Math.max(22, m.gap + 10); // room for the user space / kernel line under QEMU
      const t = wrapLines(nodeText(s, sp.id), sp.children ? cw : cw, m);
      if (sp.children) {
        const top = y;
        let cy = y + m.titleH + t.lines.length * m.lineH + 4;
        const kids: LayoutNode[] = [];
        for (const kid of sp.children) {
          const kw = cw - 2 * PAD;
          const kt = wrapLines(nodeText(s, kid), kw, m);
          const { h, perRow } = boxHeight(kt, kw, m);
          kids.push({
            ...kt,
            id: kid,
            kind: 'box',
            x: cx + PAD,
            y: cy,
            w: kw,
            h,
            cellSize: m.cell,
            cellsPerRow: perRow,
            anchor: anchor(h),
          });
          cy += h + kidGap;
        }
        const gh = cy - top + (kids.length ? 2 : 6);
        placed.push(
          {
            ...t,
            id: sp.id,
            kind: 'group',
            x: cx,
            y: top,
            w: cw,
            h: gh,
            cellSize: m.cell,
            cellsPerRow: 1,
            anchor: anchor(gh),
          },
          ...kids,
        );
        y = top + gh + m.gap;
      } else {
        const { h, perRow } = boxHeight(t, cw, m);
        placed.push({
          ...t,
          id: sp.id,
          kind: 'box',
          x: cx,
          y,
          w: cw,
          h,
          cellSize: m.cell,
          cellsPerRow: perRow,
          anchor: anchor(h),
        });
        y += h + m.gap;
      }
    }
    const used = y - m.gap;
    maxUsed = Math.max(maxUsed, used);
    stacks.push({ placed, used, cx, cw });
  });
  // Centre each column's stack in the room under the arcs; a tall column grows the drawing instead.
  for (const { placed, used, cx, cw } of stacks) {
    const dy = HEADER + GAP + ARC_ROOM + Math.max(0, (room - used) / 2);
    for (const n of placed) n.y = Math.round(n.y + dy);
    maxBottom = Math.max(maxBottom, HEADER + GAP + ARC_ROOM + used + GAP);
    const host = placed.find((n) => n.id === 'hostirq');
    if (host) kernelLine = { x1: cx, x2: cx + cw, y: host.y - 11 };
    nodes.push(...placed);
  }
  return {
    layout: {
      width,
      height: maxBottom,
      columns,
      nodes,
      byId: new Map(nodes.map((n) => [n.id, n])),
      kernelLine,
      metrics: fitFonts(nodes, m, k),
    },
    used: maxUsed,
    room,
  };
}

export { HEADER };
