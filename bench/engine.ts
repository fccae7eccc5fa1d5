// Engine throughput in an interrupt storm: 1,024 MSI-X vectors of one passthrough device, each routed
// to its own (vCPU, guest vector), all raised at once, round after round, so 1,024 interrupts are in
// flight through every hop of the direct path. Prints hop events per second, ns per event, the ratio
// to a bare event-queue loop of the same size (same process), and trace bytes per event.

import { createSystem, type System, type Topology } from '../src/engine/index.ts';
import { EventQueue } from '../src/engine/sim/queue.ts';
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

/** Raises every vector once per round and runs to idle; returns the hop events recorded. */
function storm(sys: System, rounds: number): number {
  const before = sys.traceLength();
  for (let r = 0; r < rounds; r++) {
    for (let v = 0; v < VECTORS; v++) sys.apply({ op: 'device.raise', device: 'nic0', vector: v });
    sys.run();
  }
  return sys.traceLength() - before;
}

/**
 * The same number of events through the same queue with handlers that do nothing but schedule the next
 * hop: 1,024 interrupts in flight, each hop re-queued after the engine's cost for it, as the storm does.
 */
function bareLoop(events: number): number {
  const q = new EventQueue();
  const ev = { time: 0, seq: 0, kind: 0, irq: 0, a: 0, b: 0 };
  const c = DEFAULT_COST;
  const hops = [
    0,
    c.msi_write,
    c.iommu,
    c.host_irq,
    c.vfio_handler,
    c.eventfd,
    c.irqfd,
    c.vm_entry,
    c.guest_handler,
    c.eoi,
  ];
  let done = 0;
  let now = 0;
  const t0 = performance.now();
  while (done < events) {
    for (let i = 0; i < VECTORS; i++) q.push(now, 0, i, 0, 0);
    while (q.pop(ev)) {
      done++;
      now = ev.time;
      const next = ev.kind + 1;
      if (next < hops.length) q.push(now + hops[next], next, ev.irq, 0, 0);
    }
  }
  return performance.now() - t0;
}

export interface EngineFigures {
  eventsPerSecond: number;
  nsPerEvent: number;
  bareLoopNsPerEvent: number;
  bareLoopRatio: number;
  traceBytesPerEvent: number;
  traceAllocatedBytesPerEvent: number;
  events: number;
  inFlight: number;
}

export function benchEngine(rounds = 60): EngineFigures {
  const warm = stormSystem();
  storm(warm, 5);
  const sys = stormSystem();
  const t0 = performance.now();
  const events = storm(sys, rounds);
  const ms = performance.now() - t0;
  bareLoop(events); // warm-up
  const bareMs = bareLoop(events);
  const trace = sys.engine.trace;
  return {
    eventsPerSecond: Math.round(events / (ms / 1000)),
    nsPerEvent: +((ms * 1e6) / events).toFixed(1),
    bareLoopNsPerEvent: +((bareMs * 1e6) / events).toFixed(1),
    bareLoopRatio: +(ms / bareMs).toFixed(2),
    traceBytesPerEvent: Trace.BYTES_PER_EVENT,
    traceAllocatedBytesPerEvent: +(trace.bytes() / trace.length).toFixed(1),
    events,
    inFlight: VECTORS,
  };
}
