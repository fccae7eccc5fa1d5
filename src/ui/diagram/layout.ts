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
}

export interface Layout {
  width: number;
  height: number;
  columns: { title: string; x: number; w: number }[];
  nodes: LayoutNode[];
  byId: Map<string, LayoutNode>;
  /** The user space / kernel boundary in the host column. */
  kernelLine: { x1: number; x2: number; y: number } | null;
}

export const COLUMNS = ['Hardware', 'IOMMU', 'Host kernel', 'eventfd / irqfd', 'vCPU LAPIC', 'Guest'];
const WEIGHTS = [1.45, 1.05, 1.35, 0.95, 1.0, 0.8];
const HEADER = 26;
const GAP = 12;
const PAD = 8;
const TITLE_H = 18;
const LINE_H = 14;
const CELL = 11;

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

function boxHeight(t: NodeText, w: number): { h: number; perRow: number } {
  let h = TITLE_H + t.lines.length * LINE_H + 6;
  const perRow = Math.max(1, Math.floor((w - 2 * PAD + 2) / (CELL + 2)));
  if (t.cells && t.cells.length > 0)
    h += Math.ceil(Math.min(t.cells.length, MAX_CELLS) / perRow) * (CELL + 2) + 4;
  return { h, perRow };
}

export function layout(s: SystemState, width: number, height: number, extra: Iterable<string> = []): Layout {
  const cols = specs(s);
  const known = new Set(cols.flat().flatMap((sp) => [sp.id, ...(sp.children ?? [])]));
  for (const id of extra) {
    if (!id || known.has(id)) continue;
    cols[columnOf(id)].push({ id });
    known.add(id);
  }

  const total = WEIGHTS.reduce((a, b) => a + b, 0);
  const usable = width - GAP * (COLUMNS.length + 1);
  let x = GAP;
  const columns = COLUMNS.map((title, i) => {
    const w = (usable * WEIGHTS[i]) / total;
    const c = { title, x, w };
    x += w + GAP;
    return c;
  });

  const nodes: LayoutNode[] = [];
  let maxBottom = height;
  let kernelLine: Layout['kernelLine'] = null;
  cols.forEach((col, ci) => {
    const { x: cx, w: cw } = columns[ci];
    const placed: LayoutNode[] = [];
    let y = 0;
    for (const sp of col) {
      if (sp.id === 'hostirq') y += 22; // room for the user space / kernel line under QEMU
      const t = nodeText(s, sp.id);
      if (sp.children) {
        const top = y;
        let cy = y + TITLE_H + t.lines.length * LINE_H + 4;
        const kids: LayoutNode[] = [];
        for (const kid of sp.children) {
          const kt = nodeText(s, kid);
          const kw = cw - 2 * PAD;
          const { h, perRow } = boxHeight(kt, kw);
          kids.push({
            ...kt,
            id: kid,
            kind: 'box',
            x: cx + PAD,
            y: cy,
            w: kw,
            h,
            cellSize: CELL,
            cellsPerRow: perRow,
          });
          cy += h + 6;
        }
        const gh = cy - top + (kids.length ? 2 : 6);
        placed.push(
          { ...t, id: sp.id, kind: 'group', x: cx, y: top, w: cw, h: gh, cellSize: CELL, cellsPerRow: 1 },
          ...kids,
        );
        y = top + gh + GAP;
      } else {
        const { h, perRow } = boxHeight(t, cw);
        placed.push({
          ...t,
          id: sp.id,
          kind: 'box',
          x: cx,
          y,
          w: cw,
          h,
          cellSize: CELL,
          cellsPerRow: perRow,
        });
        y += h + GAP;
      }
    }
    // Centre the column's stack under the header; a tall column grows the drawing instead.
    const used = y - GAP;
    const room = height - HEADER - GAP;
    const dy = HEADER + GAP + Math.max(0, (room - used) / 2);
    for (const n of placed) n.y += dy;
    maxBottom = Math.max(maxBottom, HEADER + GAP + used + GAP);
    const host = placed.find((n) => n.id === 'hostirq');
    if (host) kernelLine = { x1: cx, x2: cx + cw, y: host.y - 11 };
    nodes.push(...placed);
  });
  return { width, height: maxBottom, columns, nodes, byId: new Map(nodes.map((n) => [n.id, n])), kernelLine };
}

export { HEADER };
