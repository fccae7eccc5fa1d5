// The engine core: state, virtual clock, event queue, trace and per-interrupt bookkeeping. Modules
// (hw, linux, qemu, guest) are functions over an Engine; they register the handlers of the data-path
// events they own with `on` (the events are declared in datapath.ts), and record each hop with `hop`.

import type { CostModel } from './cost.ts';
import type { Fate, InterruptRecord, SystemState } from './types.ts';
import { EventQueue, type QueuedEvent } from './sim/queue.ts';
import { Trace, PATH, PATHS, OUT } from './sim/trace.ts';
import { HOP, HOPS, hopFn } from './hops.ts';
import type { RngState } from './sim/rng.ts';
import { raiseTool } from './errno.ts';
import { EV, EVENTS, EVENT_BY_ID, type EventKey } from './datapath.ts';

export type EventHandler = (e: Engine, irq: number, a: number, b: number) => void;

// Handlers by event id (datapath.ts: EVENTS); each module registers its own with `on` at load.
const handlers: EventHandler[] = [];

/** Registers the handler of data-path event `key` (declared in datapath.ts). A second handler is refused. */
export function on(key: EventKey, fn: EventHandler): void {
  const id = EV[key];
  if (id === undefined) throw new Error(`event '${key}' is not declared in src/engine/datapath.ts`);
  if (handlers[id] !== undefined)
    throw new Error(`event '${key}' has two handlers (on('${key}') called twice)`);
  handlers[id] = fn;
}

/** Every event datapath.ts declares has its handler (system.ts calls this once every module loaded). */
export function checkEvents(): void {
  const missing = EVENTS.filter((d) => handlers[d.id] === undefined).map((d) => `'${d.key}' (${d.at})`);
  if (missing.length)
    throw new Error(
      `data-path events without a handler: ${missing.join(', ')}: register them with on(key, fn)`,
    );
}

let nextPlaceSite = 1;
/** A call site of Engine.place: each module takes its own at load. */
export function placeSite(): number {
  return nextPlaceSite++;
}

/** How many event kinds the data path declares (a queued event's kind is below this). */
export function eventCount(): number {
  return EVENT_BY_ID.length;
}

export function eventName(kind: number): string {
  return EVENT_BY_ID[kind]?.key ?? `event#${kind}`;
}

export type PathName = keyof typeof PATH;
/** The guest driver and MSI-X entry that own an (APIC id, vector), and its handler row's detail id. */
export interface GuestOwner {
  device: string;
  nr: number;
  detail: number;
}
export interface SavedIrqs {
  next: number;
  cols: [Uint8Array, Uint32Array, Int32Array, Uint32Array, Uint8Array];
}

/** Diagram nodes that exist once per device (by ordinal) or per vCPU. */
export const NODE_KINDS = [
  'dev',
  'msix',
  'msi',
  'intx',
  'ims',
  'vfio',
  'vfio/msix',
  'vfio/msi',
  'vfio/intx',
  'vfio/ims',
  'vfio/emulated',
  'vdev',
  'lapic',
  'pi',
] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
/** Each node kind's code, for Engine.nodeId. */
export const NK = Object.fromEntries(NODE_KINDS.map((k, i) => [k, i])) as Record<NodeKind, number>;
export type OutcomeName = keyof typeof OUT;

const FATE_CODES: readonly Fate[] = ['in-flight', 'pending', 'delivered', 'coalesced', 'dropped'];
const FATE = { 'in-flight': 0, pending: 1, delivered: 2, coalesced: 3, dropped: 4 } as const;

export class Engine {
  readonly queue: EventQueue;
  readonly trace: Trace;
  private readonly ev: QueuedEvent = { time: 0, seq: 0, kind: 0, irq: 0, a: 0, b: 0 };

  // Per-interrupt bookkeeping, columnar (an interrupt storm has millions).
  nextIrq = 1;
  fate = new Uint8Array(1024);
  where = new Uint32Array(1024);
  into = new Int32Array(1024);
  source = new Uint32Array(1024);
  /** Path the interrupt travels (PATH code), set at the source, switched when it goes posted. */
  ipath = new Uint8Array(1024);

  /** Requester id (bdf) per interrupt source string id, for source-id verification. */
  readonly bdfBySource = new Map<number, string | null>();

  /** Which guest driver owns each (APIC id, vector): built on first use, dropped when the guest reprograms. */
  guestIndex: (GuestOwner | undefined)[] | null = null;

  /** PCI devices then virtual devices, in topology order: the ordinal events carry. */
  deviceNames: string[];

  constructor(
    public state: SystemState,
    public readonly cost: CostModel,
    public rng: RngState,
    queue?: EventQueue,
    trace?: Trace,
  ) {
    this.queue = queue ?? new EventQueue();
    this.trace = trace ?? new Trace();
    const str = this.trace.strings;
    this.ids = {
      iommu: str.id('iommu'),
      hostirq: str.id('hostirq'),
      eventfd: str.id('eventfd'),
      irqfd: str.id('irqfd'),
      kvm: str.id('kvm'),
      vmm: str.id('vmm'),
      guest: str.id('guest'),
    };
    this.deviceNames = [...Object.keys(state.devices), ...Object.keys(state.vdevs)];
  }

  deviceOrdinal(name: string): number {
    return this.deviceNames.indexOf(name);
  }

  get now(): number {
    return this.state.time;
  }

  schedule(delay: number, kind: number, irq: number, a = 0, b = 0): void {
    this.queue.push(this.state.time + delay, kind, irq, a, b);
  }

  /** Runs the earliest event; false when the queue is empty. */
  stepOne(): boolean {
    const ev = this.ev;
    if (!this.queue.pop(ev)) return false;
    this.state.time = ev.time;
    handlers[ev.kind](this, ev.irq, ev.a, ev.b);
    return true;
  }

  /** How many events the last runEvents ran before it returned or an event threw. */
  ran = 0;

  /**
   * Runs events in order while fewer than `max` have run, the next is not later than `until` and the
   * trace holds fewer than `rows`; returns how many ran. System.run's loop, in one call (a Step runs one
   * event with stepOne instead, so it still stops after every hop).
   */
  runEvents(max: number, until: number, rows: number): number {
    const q = this.queue;
    const t = this.trace;
    const ev = this.ev;
    let n = 0;
    try {
      while (n < max && t.length < rows && q.popUntil(ev, until)) {
        this.state.time = ev.time;
        handlers[ev.kind](this, ev.irq, ev.a, ev.b);
        n++;
      }
    } finally {
      this.ran = n;
    }
    return n;
  }

  /** Records one hop. `fn` overrides the hop table's function (control-plane calls name their own). */
  hop(
    key: string,
    irq: number,
    from: string,
    to: string,
    outcome: OutcomeName = 'forwarded',
    detail = '',
    fn?: string,
  ): void {
    const h = HOP[key];
    const s = this.trace.strings;
    const fnId = fn === undefined ? this.fnId(h) : s.id(fn);
    this.hopf(h, irq, s.id(from), s.id(to), OUT[outcome], 0, detail === '' ? 0 : s.id(detail), 0, 0, fnId);
  }

  /**
   * Records one hop from interned ids: the hot path. `fmt` is a detail formatter (sim/trace.ts:
   * defineDetail) applied to a, b, c when the trace is read; 0 means a is a string id.
   */
  hopf(
    hop: number,
    irq: number,
    from: number,
    to: number,
    outcome: number,
    fmt: number,
    a: number,
    b: number,
    c: number,
    fn = this.fnId(hop),
  ): void {
    const path = irq > 0 ? this.ipath[irq] : PATH.control;
    this.trace.push(this.state.time, irq, hop, path, outcome, from, to, fn, fmt, a, b, c);
  }

  private fnIds: Int32Array = new Int32Array(HOPS.length).fill(-1);
  // The hit path of each cache below is a separate, small function, so that it inlines where it is
  // called (with a constant kind, one property load) and the miss, which builds a string, does not.
  private fnId(hop: number): number {
    const id = this.fnIds[hop];
    return id < 0 ? this.fnIdMiss(hop) : id;
  }
  private fnIdMiss(hop: number): number {
    return (this.fnIds[hop] = this.trace.strings.id(hopFn(hop, this.state.design, this.state.profile)));
  }

  /** Interned id of a fixed node name ('iommu', 'hostirq', ...). */
  sid(s: string): number {
    return this.trace.strings.id(s);
  }

  // By kind code (NK), then device ordinal or vCPU: arrays indexed by small integers, so that a hot
  // call site with a constant code hashes no string (issue 14: the string-keyed lookup was 5-7%).
  private nodeIds: number[][] = NODE_KINDS.map(() => []);
  /** Interned id of a per-device or per-vCPU node, e.g. node('msix', ordinal) = 'msix:nic0'. */
  node(kind: NodeKind, i: number): number {
    return this.nodeId(NK[kind], i);
  }
  /** node() by kind code (NK.msix, ...): the data path's form. */
  nodeId(k: number, i: number): number {
    const id = this.nodeIds[k][i];
    return id === undefined ? this.nodeMiss(k, i) : id;
  }
  private nodeMiss(k: number, i: number): number {
    const kind = NODE_KINDS[k];
    const name = kind === 'lapic' || kind === 'pi' ? String(i) : this.deviceNames[i];
    const text = kind.startsWith('vfio/') ? `vfio:${name}/${kind.slice(5)}` : `${kind}:${name}`;
    return (this.nodeIds[k][i] = this.trace.strings.id(text));
  }

  /** Interned ids of the nodes that exist once (the IOMMU, the host IRQ layer, KVM, ...). */
  readonly ids: Record<'iommu' | 'hostirq' | 'eventfd' | 'irqfd' | 'kvm' | 'vmm' | 'guest', number>;

  /** Per site, per a, per b: arrays, not a Map (no hashing per interrupt). */
  private placeCache: number[][][] = [];
  /**
   * Interned id of a place or reason built from small integers (a < 32768, b < 65536) by a module-level
   * function (no closure per call: this is on the hot path), built once per engine.
   */
  place(site: number, a: number, b: number, build: (e: Engine, a: number, b: number) => string): number {
    const id = this.placeCache[site]?.[a]?.[b];
    return id === undefined ? this.placeMiss(site, a, b, build) : id;
  }
  private placeMiss(
    site: number,
    a: number,
    b: number,
    build: (e: Engine, a: number, b: number) => string,
  ): number {
    const bySite = (this.placeCache[site] ??= []);
    return ((bySite[a] ??= [])[b] = this.trace.strings.id(build(this, a, b)));
  }

  // ---- interrupts and their fates (conservation)

  /** The system's interrupt limit (Limits.interrupts): device.raise refuses a count that passes it. */
  maxIrqs = Infinity;

  /** Refuses, naming the limit, a command that would raise `n` more interrupts than the system may hold. */
  reserveIrqs(n: number, field: string): void {
    const used = this.nextIrq - 1;
    if (used + n > this.maxIrqs)
      raiseTool(
        'ENOSPC',
        `raising ${n} more interrupts would pass the limit of ${this.maxIrqs} (options.limits.interrupts; ${used} raised so far): raise the limit in the scenario's options, or raise fewer`,
        field,
      );
  }

  /** A new interrupt from `source` (a name, or its interned id: a batch interns it once). */
  newIrq(source: string | number, path: PathName): number {
    const id = this.nextIrq++;
    if (id >= this.fate.length) this.growIrqs();
    this.fate[id] = FATE['in-flight'];
    this.source[id] = typeof source === 'number' ? source : this.trace.strings.id(source);
    this.ipath[id] = PATH[path];
    this.state.counters.raised++;
    return id;
  }

  setPath(irq: number, path: PathName): void {
    this.ipath[irq] = PATH[path];
  }

  pending(irq: number, where: string | number): void {
    this.fate[irq] = FATE.pending;
    this.where[irq] = typeof where === 'number' ? where : this.trace.strings.id(where);
  }

  inFlight(irq: number): void {
    this.fate[irq] = FATE['in-flight'];
  }

  delivered(irq: number, where: string | number): void {
    this.fate[irq] = FATE.delivered;
    this.where[irq] = typeof where === 'number' ? where : this.trace.strings.id(where);
    this.state.counters.delivered++;
  }

  coalesced(irq: number, into: number, where: string | number): void {
    this.fate[irq] = FATE.coalesced;
    this.into[irq] = into;
    this.where[irq] = typeof where === 'number' ? where : this.trace.strings.id(where);
    this.state.counters.coalesced++;
  }

  dropped(irq: number, reason: string | number): void {
    const id = typeof reason === 'number' ? reason : this.trace.strings.id(reason);
    const text = this.trace.strings.list[id];
    this.fate[irq] = FATE.dropped;
    this.where[irq] = id;
    const c = this.state.counters;
    c.dropped++;
    c.drop_reasons[text] = (c.drop_reasons[text] ?? 0) + 1;
  }

  fateOf(irq: number): Fate {
    return FATE_CODES[this.fate[irq]];
  }

  interrupts(): InterruptRecord[] {
    const s = this.trace.strings.list;
    const out: InterruptRecord[] = [];
    for (let id = 1; id < this.nextIrq; id++) {
      const fate = FATE_CODES[this.fate[id]];
      out.push({
        id,
        source: s[this.source[id]],
        path: PATHS[this.ipath[id]],
        fate,
        where: fate === 'in-flight' ? '' : s[this.where[id]],
        into: fate === 'coalesced' ? this.into[id] : 0,
      });
    }
    return out;
  }

  restoreInterrupts(list: InterruptRecord[], nextIrq: number): void {
    this.nextIrq = 1;
    while (this.fate.length <= nextIrq) this.growIrqs();
    this.fate.fill(0);
    const s = this.trace.strings;
    for (const r of list) {
      this.fate[r.id] = FATE[r.fate];
      this.source[r.id] = s.id(r.source);
      this.where[r.id] = s.id(r.where);
      this.into[r.id] = r.into;
      this.ipath[r.id] = PATH[r.path];
    }
    this.nextIrq = nextIrq;
  }

  /** The per-interrupt columns, copied: part of a cheap internal checkpoint. */
  saveIrqs(): SavedIrqs {
    const n = this.nextIrq;
    return {
      next: n,
      cols: [
        this.fate.slice(0, n),
        this.where.slice(0, n),
        this.into.slice(0, n),
        this.source.slice(0, n),
        this.ipath.slice(0, n),
      ],
    };
  }

  loadIrqs(saved: SavedIrqs): void {
    while (this.fate.length <= saved.next) this.growIrqs();
    const [f, w, i, s, p] = saved.cols;
    this.fate.fill(0);
    this.fate.set(f);
    this.where.set(w);
    this.into.set(i);
    this.source.set(s);
    this.ipath.set(p);
    this.nextIrq = saved.next;
  }

  private growIrqs(): void {
    const n = this.fate.length * 2;
    const f = new Uint8Array(n);
    f.set(this.fate);
    this.fate = f;
    const w = new Uint32Array(n);
    w.set(this.where);
    this.where = w;
    const i = new Int32Array(n);
    i.set(this.into);
    this.into = i;
    const s = new Uint32Array(n);
    s.set(this.source);
    this.source = s;
    const p = new Uint8Array(n);
    p.set(this.ipath);
    this.ipath = p;
  }
}
