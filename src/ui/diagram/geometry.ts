// The curve a hop follows between two nodes: a horizontal cubic Bézier (as d3.linkHorizontal draws it)
// from the side of one box facing the other; a vertical one inside a column. Edges and dots share it.

import type { LayoutNode } from './layout.ts';

export interface Curve {
  x0: number;
  y0: number;
  c1x: number;
  c1y: number;
  c2x: number;
  c2y: number;
  x1: number;
  y1: number;
}

export function curveBetween(a: LayoutNode, b: LayoutNode): Curve {
  const ay = a.y + a.anchor;
  const by = b.y + b.anchor;
  if (b.x >= a.x + a.w) return horizontal(a.x + a.w, ay, b.x, by);
  // Backwards (the guest trapping to QEMU, a reply to user space): arc over the columns in between.
  // Next column back (an EOI): a horizontal curve a little lower than the forward one.
  if (b.x + b.w <= a.x && a.x - (b.x + b.w) < 40) return horizontal(a.x, ay + 8, b.x + b.w, by + 8);
  if (b.x + b.w <= a.x) return over(a.x + a.w / 2, a.y, b.x + b.w / 2, b.y);
  // Same column: leave from the right edge and come back in (a loop outside the boxes).
  const x = Math.max(a.x + a.w, b.x + b.w);
  const bulge = 26;
  return { x0: x, y0: ay, c1x: x + bulge, c1y: ay, c2x: x + bulge, c2y: by, x1: x, y1: by };
}

/**
 * The curve of every edge between two boxes, keyed `from>to`. Edges that run forward into the next
 * columns get their own port: a box's outgoing edges leave its right side spread out in the order of
 * their targets' height, its incoming edges arrive on its left side in the order of their sources'
 * height, so a bundle (the VFIO backends, QEMU and the eventfd/irqfd boxes) fans out instead of
 * meeting at one point. Tokens travel on the same curves (dots.ts).
 */
export function routeEdges(
  byId: ReadonlyMap<string, LayoutNode>,
  pairs: readonly { from: string; to: string }[],
): Map<string, Curve> {
  const out = new Map<string, Curve>();
  const forward: [LayoutNode, LayoutNode][] = [];
  for (const { from, to } of pairs) {
    const key = `${from}>${to}`;
    const a = byId.get(from);
    const b = byId.get(to);
    if (!a || !b || a === b || out.has(key)) continue;
    out.set(key, curveBetween(a, b));
    if (b.x >= a.x + a.w) forward.push([a, b]);
  }
  const outs = new Map<LayoutNode, LayoutNode[]>();
  const ins = new Map<LayoutNode, LayoutNode[]>();
  for (const [a, b] of forward) {
    (outs.get(a) ?? outs.set(a, []).get(a)!).push(b);
    (ins.get(b) ?? ins.set(b, []).get(b)!).push(a);
  }
  const portY = (n: LayoutNode, others: LayoutNode[], o: LayoutNode): number => {
    const k = others.length;
    if (k === 1) return n.y + n.anchor;
    const sorted = [...others].sort((p, q) => p.y + p.anchor - (q.y + q.anchor) || p.x - q.x);
    const gap = Math.min(Math.max(4, n.anchor * 0.6), (n.h - 8) / (k - 1));
    // Centred on the title line, then kept inside the box.
    let top = n.y + n.anchor - (gap * (k - 1)) / 2;
    top = Math.min(Math.max(top, n.y + 4), n.y + n.h - 4 - gap * (k - 1));
    return top + gap * sorted.indexOf(o);
  };
  for (const [a, b] of forward)
    out.set(
      `${a.id}>${b.id}`,
      horizontal(a.x + a.w, portY(a, outs.get(a)!, b), b.x, portY(b, ins.get(b)!, a)),
    );
  return out;
}

function over(x0: number, y0: number, x1: number, y1: number): Curve {
  const top = Math.max(30, Math.min(y0, y1) - 70);
  return { x0, y0, c1x: x0, c1y: top, c2x: x1, c2y: top, x1, y1 };
}

function horizontal(x0: number, y0: number, x1: number, y1: number): Curve {
  const mx = (x0 + x1) / 2;
  return { x0, y0, c1x: mx, c1y: y0, c2x: mx, c2y: y1, x1, y1 };
}

export function pointAt(c: Curve, t: number): [number, number] {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const d = 3 * u * t * t;
  const e = t * t * t;
  return [a * c.x0 + b * c.c1x + d * c.c2x + e * c.x1, a * c.y0 + b * c.c1y + d * c.c2y + e * c.y1];
}

export function curvePath(c: Curve): string {
  return `M${c.x0},${c.y0}C${c.c1x},${c.c1y} ${c.c2x},${c.c2y} ${c.x1},${c.y1}`;
}
