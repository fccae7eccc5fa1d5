// Engine throughput in an interrupt storm: 1,024 MSI-X vectors of one passthrough device, each routed
// to its own (vCPU, guest vector), all raised at once (one batch raise), round after round, so 1,024
// interrupts are in flight through every hop of the direct path. One full storm warms the JIT up; then
// at least five storms, each on a fresh system, give the median and the minimum. The floor is what any
// engine of this shape must pay per event, measured in the same process: a frozen copy of the event
// queue, one handler dispatch through a table and one trace row into the same columnar Trace per event,
// with the storm's hop timing. GC time comes from the runtime's own gc performance entries, the part of each
// pause that falls inside a timed storm (not the pauses while the next storm's system is built).

import { createSystem, type System, type Topology } from '../src/engine/index.ts';
import { PerformanceObserver } from 'node:perf_hooks';
import { EventQueue } from './floor-queue.ts';
import { DEFAULT_COST } from '../src/engine/cost.ts';
import { Trace } from '../src/engine/sim/trace.ts';

export const VECTORS = 1024;
const VCPUS = 8;

export function stormSystem(): System {
  const topology: Topology = {
    profile: '6.12',
    iommu: { interrupt_remapping: true, posted_interrupts: false },
    vm: { vcpus: VCPUS },
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: VECTORS } }],
  };
  const sys = createSystem(topology);
  const ok = (r: ReturnType<System['apply']>) => {
    if (!r.ok) throw new Error(`${r.errno}: ${r.message}`);
  };
  ok(sys.apply({ op: 'guest.msixEnable', device: 'nic0' }));
  for (let v = 0; v < VECTORS; v++) {
    ok(
      sys.apply({
        op: 'guest.program',
        device: 'nic0',
        vector: v,
        guest_vector: 0x30 + (v >> 3),
        vcpu: v % VCPUS,
      }),
    );
    ok(sys.apply({ op: 'guest.unmask', device: 'nic0', vector: v }));
  }
  return sys;
}

/** Raises every vector once per round (one batch raise) and runs to idle; returns the hop events recorded. */
function storm(sys: System, rounds: number): number {
  const before = sys.traceLength();
  for (let r = 0; r < rounds; r++) {
    const raised = sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, vectors: VECTORS });
    if (!raised.ok) throw new Error(`${raised.errno}: ${raised.message}`);
    sys.run();
  }
  return sys.traceLength() - before;
}

/**
 * The floor: the same number of events through the frozen queue, each dispatched through a handler
 * table and recording one trace row, with 1,024 interrupts in flight and the storm's hop timing.
 */
function floorLoop(events: number): number {
  const q = new EventQueue();
  const trace = new Trace();
  const ev = { time: 0, seq: 0, kind: 0, irq: 0, a: 0, b: 0 };
  const c = DEFAULT_COST;
  const delays = [
    0,
    c.msi_write,
    c.iommu,
    c.host_irq,
    c.vfio_handler,
    c.eventfd,
    c.irqfd,
    c.vm_entry,
    c.eoi,
    c.guest_handler,
  ];
  const handlers: ((time: number, irq: number, kind: number) => void)[] = delays.map(
    (_, k) => (time, irq) => {
      trace.push(time, irq, k, 0, 0, 1, 2, 3, 0, irq, 0, 0);
      if (k + 1 < delays.length) q.push(time + delays[k + 1], k + 1, irq, 0, 0);
    },
  );
  let done = 0;
  const t0 = performance.now();
  while (done < events) {
    for (let i = 0; i < VECTORS; i++) q.push(ev.time, 0, i + 1, 0, 0);
    while (done < events && q.pop(ev)) {
      done++;
      handlers[ev.kind](ev.time, ev.irq, ev.kind);
    }
  }
  const ms = performance.now() - t0;
  trace.release();
  return ms;
}

export interface EngineFigures {
  /** Median over the storms (hop events per second), and the slowest storm. */
  eventsPerSecond: number;
  eventsPerSecondMin: number;
  nsPerEvent: number;
  floorNsPerEvent: number;
  /** Engine ns per event over the floor's. */
  floorRatio: number;
  /** Bytes the trace holds per event (its columns' capacity over its rows), and the columns' own size. */
  traceBytesPerEvent: number;
  traceColumnBytesPerEvent: number;
  /** Share of the storms' time spent in garbage collection. */
  gcShare: number;
  storms: number;
  events: number;
  inFlight: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchEngine(rounds = 60, storms = 5): Promise<EngineFigures> {
  // JIT warm-up: one full storm. Each storm's system is disposed after it, as the worker drops a system
  // when it loads the next, so the next one writes its trace into memory this process already has
  // (sim/trace.ts: the chunk pool); the floor's trace does the same.
  const warm = stormSystem();
  storm(warm, rounds);
  warm.dispose();
  // GC inside the storms only: a pause while the next storm's system is built is not the storm's
  const pauses: { start: number; end: number }[] = [];
  const windows: { start: number; end: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const rates: number[] = [];
  const nsPer: number[] = [];
  let events = 0;
  let held = 0;
  let totalMs = 0;
  for (let k = 0; k < storms; k++) {
    const sys = stormSystem();
    const t0 = performance.now();
    events = storm(sys, rounds);
    const t1 = performance.now();
    const ms = t1 - t0;
    windows.push({ start: t0, end: t1 });
    totalMs += ms;
    rates.push(events / (ms / 1000));
    nsPer.push((ms * 1e6) / events);
    held = sys.engine.trace.bytes() / sys.engine.trace.length;
    sys.dispose();
  }
  // gc entries are delivered asynchronously: let the observer run before reading the total
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  let gcMs = 0;
  for (const p of pauses)
    for (const w of windows) gcMs += Math.max(0, Math.min(p.end, w.end) - Math.max(p.start, w.start));
  floorLoop(events); // warm-up
  const floor: number[] = [];
  for (let k = 0; k < storms; k++) floor.push((floorLoop(events) * 1e6) / events);
  const ns = median(nsPer);
  const floorNs = median(floor);
  return {
    eventsPerSecond: Math.round(median(rates)),
    eventsPerSecondMin: Math.round(Math.min(...rates)),
    nsPerEvent: +ns.toFixed(1),
    floorNsPerEvent: +floorNs.toFixed(1),
    floorRatio: +(ns / floorNs).toFixed(2),
    traceBytesPerEvent: +held.toFixed(1),
    traceColumnBytesPerEvent: Trace.BYTES_PER_EVENT,
    gcShare: +(gcMs / totalMs).toFixed(3),
    storms,
    events,
    inFlight: VECTORS,
  };
}
