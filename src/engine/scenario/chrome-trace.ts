// A trace in the Chrome trace event format (the JSON Perfetto's importer and chrome://tracing read):
// one track (thread) per component, named by metadata events and ordered along the data path; each hop
// a complete slice on the track of the component that performs it, with its function, source file,
// path, outcome, kernel profile and design in args; the hops of one interrupt joined by one flow
// (s, t..., f events with the interrupt's id) so the viewer draws its journey as arrows.

import type { DesignGeneration, KernelProfile, TraceEvent } from '../types.ts';

export interface ChromeTraceEvent {
  ph: 'M' | 'X' | 's' | 't' | 'f';
  name: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: 'e';
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ns';
  metadata: Record<string, string>;
}

// Tracks in the order an interrupt crosses them: hardware, IOMMU, host kernel, KVM, guest, then QEMU.
const ORDER = [
  'dev',
  'msix',
  'msi',
  'intx',
  'ims',
  'iommu',
  'hostirq',
  'vfio',
  'eventfd',
  'irqfd',
  'kvm',
  'pi',
  'lapic',
  'guest',
  'vmm',
  'vdev',
];
const PID = 1;
/** A hop with no next hop of its interrupt still gets a visible width (virtual ns). */
const MIN_NS = 50;

function rank(node: string): number {
  const kind = node.split(':')[0];
  const i = ORDER.indexOf(kind);
  return i < 0 ? ORDER.length : i;
}

export function chromeTrace(
  hops: TraceEvent[],
  meta: { name: string; profile: KernelProfile; design: DesignGeneration },
): ChromeTrace {
  const nodes = [...new Set(hops.map((h) => h.to))].sort(
    (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0),
  );
  const tid = new Map(nodes.map((n, i) => [n, i + 1]));
  const out: ChromeTraceEvent[] = [
    { ph: 'M', name: 'process_name', pid: PID, tid: 0, args: { name: `irqflow: ${meta.name}` } },
  ];
  nodes.forEach((n, i) => {
    out.push({ ph: 'M', name: 'thread_name', pid: PID, tid: i + 1, args: { name: n } });
    out.push({ ph: 'M', name: 'thread_sort_index', pid: PID, tid: i + 1, args: { sort_index: i } });
  });
  // each interrupt's hops in order, to size slices and draw flows
  const byIrq = new Map<number, TraceEvent[]>();
  for (const h of hops) if (h.irq > 0) (byIrq.get(h.irq) ?? byIrq.set(h.irq, []).get(h.irq)!).push(h);
  const next = new Map<number, TraceEvent>();
  for (const list of byIrq.values())
    for (let i = 0; i + 1 < list.length; i++) next.set(list[i].seq, list[i + 1]);
  const us = (ns: number): number => ns / 1000;
  for (const h of hops) {
    const after = next.get(h.seq);
    const dur = Math.max(MIN_NS, after ? after.time - h.time : MIN_NS);
    out.push({
      ph: 'X',
      name: h.fn || h.hop,
      cat: h.path,
      pid: PID,
      tid: tid.get(h.to)!,
      ts: us(h.time),
      dur: us(dur),
      args: {
        hop: h.hop,
        function: h.fn,
        file: h.file,
        from: h.from,
        to: h.to,
        path: h.path,
        outcome: h.outcome,
        detail: h.detail,
        interrupt: h.irq,
        profile: meta.profile,
        design: meta.design,
      },
    });
  }
  // one flow per interrupt: it starts at its first hop's slice and ends at its last (bp 'e' binds the
  // end to the enclosing slice, as the flow's other points bind to theirs)
  for (const [irq, list] of byIrq) {
    if (list.length < 2) continue;
    list.forEach((h, i) => {
      const ph = i === 0 ? 's' : i === list.length - 1 ? 'f' : 't';
      const e: ChromeTraceEvent = {
        ph,
        name: `interrupt #${irq}`,
        cat: h.path,
        id: irq,
        pid: PID,
        tid: tid.get(h.to)!,
        ts: us(h.time),
      };
      if (ph === 'f') e.bp = 'e';
      out.push(e);
    });
  }
  return {
    traceEvents: out,
    displayTimeUnit: 'ns',
    metadata: { scenario: meta.name, profile: meta.profile, design: meta.design, generator: 'irqflow' },
  };
}
