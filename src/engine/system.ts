// The engine contract (DESIGN.md): createSystem, apply, step, run, snapshot, restore. Commands in, trace
// events out, state derived. apply never throws: bad input is an errno result, and an internal error
// restores the state the command started from.

import type {
  Command,
  CommandResult,
  Json,
  RunOptions,
  RunResult,
  Snapshot,
  SystemState,
  Topology,
  TraceEvent,
} from './types.ts';
import { Engine, type SavedIrqs } from './engine.ts';
import { DEFAULT_COST, type CostModel } from './cost.ts';
import { EngineError, fail, failTool, ok } from './errno.ts';
import { rngCreate } from './sim/rng.ts';
import { EventQueue } from './sim/queue.ts';
import { COMMAND_BY_OP, RUN_SPEC, checkArgs, describeValue, type CommandSpec } from './commands.ts';
import { buildState, topologyErrors } from './topology.ts';
import { checkEvents, eventName } from './engine.ts';
import { eventfdWaitersMissing } from './linux/fs/eventfd.ts';
import { irqBypassMissing } from './linux/virt/lib/irqbypass.ts';
import { HOP } from './hops.ts';
import { OUT, PATH } from './sim/trace.ts';
import { snapshotErrors } from './snapshot.ts';
import { DESIGNS } from './linux/drivers/vfio/pci/designs.ts';

// Every module with a data-path handler is loaded by now (commands.ts imports them): each declared event has one.
checkEvents();
{
  const missing = [...eventfdWaitersMissing(), irqBypassMissing()].filter((m) => m !== null);
  if (missing.length) throw new Error(`engine modules not registered: ${missing.join('; ')}`);
}

export interface SystemOptions {
  seed?: number;
  cost?: Partial<CostModel>;
  limits?: Partial<Limits>;
}

/**
 * What one system may hold, so that a small scenario cannot exhaust memory (a trace row is 40 bytes, an
 * interrupt 14): reaching a limit stops the run with an error naming it, and the state stays consistent.
 */
export interface Limits {
  /** Interrupts raised over the system's life. */
  interrupts: number;
  /** Trace rows (hop events) held. */
  trace_events: number;
}
export const DEFAULT_LIMITS: Limits = { interrupts: 1_000_000, trace_events: 4_000_000 };
const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];
// A hop costs at most this many virtual ns: a clock pushed to Infinity would stop meaning anything.
export const MAX_COST_NS = 1e12;

export interface System {
  readonly topology: Topology;
  readonly engine: Engine;
  apply(cmd: Command): CommandResult;
  /** Runs the earliest queued event; returns the hops it recorded (empty when idle). */
  step(): TraceEvent[];
  run(opts?: RunOptions): RunResult;
  snapshot(): Snapshot;
  restore(s: Snapshot): void;
  traceLength(): number;
  traceSlice(start: number, end: number): TraceEvent[];
  idle(): boolean;
  /**
   * The owner drops this system: its trace's memory goes to the next system this process creates
   * (sim/trace.ts: the chunk pool). Any later call throws.
   */
  dispose(): void;
}

const HOP_FAILED_FN = 'irqflow: checkArgs@src/engine/commands.ts';

/** restore() refused a snapshot: nothing changed. */
export class SnapshotError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid snapshot, nothing restored: ${errors.slice(0, 5).join('; ')}`);
  }
}

export class TopologyError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid topology: ${errors.join('; ')}`);
  }
}

export function createSystem(topology: Topology, options: SystemOptions = {}): System {
  const errors = [...topologyErrors(topology), ...optionErrors(options)];
  if (errors.length) throw new TopologyError(errors);
  const cost = { ...DEFAULT_COST, ...options.cost };
  const seed = options.seed ?? 1;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return new SystemImpl(
    topology,
    () => {
      const e = new Engine(buildState(topology), cost, rngCreate(seed));
      e.maxIrqs = limits.interrupts;
      return e;
    },
    limits,
  );
}

/** Cost keys, limits and the seed, checked like a topology: every message names the option. */
export function optionErrors(o: SystemOptions): string[] {
  const errs: string[] = [];
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) errs.push('options.seed must be an integer');
  for (const [k, v] of Object.entries(o.cost ?? {})) {
    if (!Object.hasOwn(DEFAULT_COST, k))
      errs.push(`options.cost.${k} is not a cost of the model (${Object.keys(DEFAULT_COST).join(', ')})`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_COST_NS)
      errs.push(`options.cost.${k} must be 0..${MAX_COST_NS} virtual ns (got ${describeValue(v)})`);
  }
  for (const [k, v] of Object.entries(o.limits ?? {})) {
    if (!LIMIT_KEYS.includes(k as keyof Limits))
      errs.push(`options.limits.${k} is not a limit (${LIMIT_KEYS.join(', ')})`);
    else if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 2 ** 31 - 1)
      errs.push(`options.limits.${k} must be an integer 1..${2 ** 31 - 1} (got ${describeValue(v)})`);
  }
  return errs;
}

interface Checkpoint {
  state: SystemState;
  queue: Snapshot['queue'];
  nextSeq: number;
  irqs: SavedIrqs;
  rng: number;
  traceLength: number;
  strings: number;
}

/** What changed the system since the journal's base, to replay after an internal error. */
type JournalEntry = { apply: Command } | { run: RunOptions } | { step: true } | { drop: string };
// Every Step's entry is the same: one object, not one per Step.
const STEP_ENTRY: JournalEntry = Object.freeze({ step: true as const });
// A new base every so many entries bounds the replay; snapshots cost O(state), so not too often.
const JOURNAL_LENGTH = 65536;

class SystemImpl implements System {
  engine: Engine;
  /** Where the journal starts: a checkpoint, or null for the initial state (rebuilt from the topology). */
  private base: Checkpoint | null = null;
  private journal: JournalEntry[] = [];

  constructor(
    readonly topology: Topology,
    private readonly initial: () => Engine,
    private readonly limits: Limits,
  ) {
    this.engine = initial();
  }

  private disposed = false;
  dispose(): void {
    this.disposed = true;
    this.engine.trace.release();
  }
  private live(): void {
    if (this.disposed)
      throw new Error('irqflow: this system was disposed (System.dispose): create a new one');
  }

  /**
   * Records what the system did, so an internal error (a bug, never bad input) can be undone by
   * restoring the base snapshot and replaying: the engine is deterministic, so replay is exact.
   */
  private record(entry: JournalEntry): void {
    if (this.journal.length >= JOURNAL_LENGTH) {
      this.base = this.checkpoint();
      this.journal = [];
    }
    this.journal.push(entry);
  }

  private rollback(): void {
    const journal = this.journal;
    const trace = this.engine.trace;
    if (this.base) {
      const b = this.base;
      trace.truncate(b.traceLength, b.strings);
      const e = new Engine(
        structuredClone(b.state),
        this.engine.cost,
        { s: b.rng },
        EventQueue.fromJSON(b.queue, b.nextSeq),
        trace,
      );
      e.loadIrqs(b.irqs);
      e.maxIrqs = this.limits.interrupts;
      this.engine = e;
    } else {
      trace.truncate(0, 1);
      const e = this.initial();
      this.engine = new Engine(e.state, e.cost, e.rng, e.queue, trace);
      this.engine.maxIrqs = this.limits.interrupts;
    }
    this.journal = [];
    for (const j of journal) {
      if ('apply' in j) this.apply(j.apply);
      else if ('run' in j) this.run(j.run);
      else if ('drop' in j) this.dropEvent(j.drop);
      else this.step();
    }
  }

  apply(cmd: Command): CommandResult {
    this.live();
    if (typeof cmd !== 'object' || cmd === null || Array.isArray(cmd))
      return failTool('EINVAL', 'a command is an object with an op', 'op');
    const op = Object.hasOwn(cmd, 'op') ? cmd.op : undefined;
    if (typeof op !== 'string') return failTool('EINVAL', 'a command needs an op (a string)', 'op');
    if (op === 'run') return this.runCommand(cmd);
    const spec = COMMAND_BY_OP.get(op);
    if (!spec)
      return this.refused(cmd, null, failTool('ENOTTY', `unknown command ${describeValue(op)}`, 'op'));
    try {
      const value = spec.run(this.engine, checkArgs(this.engine, spec, cmd));
      this.record({ apply: cmd });
      return ok(value === undefined ? undefined : (value as Json));
    } catch (err) {
      // An errno is the kernel's answer: what the kernel changed before failing stays changed.
      if (err instanceof EngineError)
        return this.refused(cmd, spec, fail(err.errno, err.message, err.field, err.tool));
      this.rollback();
      return this.refused(
        cmd,
        spec,
        failTool('EIO', `internal error in ${op}, state restored: ${(err as Error).message}`),
      );
    }
  }

  /** A refused command leaves a trace row where it was refused, naming the errno and the field. */
  private refused(cmd: Command, spec: CommandSpec | null, r: CommandResult): CommandResult {
    if (r.ok) return r;
    this.record({ apply: cmd });
    const e = this.engine;
    const node = spec ? spec.node(cmd) : 'vmm';
    // a virtual device's uAPI calls are answered by its variant driver's own ioctl first
    const vdevEntry =
      spec?.group === 'uAPI' && typeof cmd.device === 'string' && Object.hasOwn(e.state.vdevs, cmd.device)
        ? DESIGNS[e.state.design].rules.vdevEntry?.ioctl
        : undefined;
    const fn = r.tool || !spec ? HOP_FAILED_FN : (vdevEntry ?? spec.fn);
    const field = r.field === undefined ? '' : ` ('${r.field}')`;
    const who = r.tool ? 'irqflow' : 'kernel';
    e.hop('ctl.failed', 0, 'vmm', node, 'failed', `${r.errno}${field}, by ${who}: ${r.message}`, fn);
    return r;
  }

  private runCommand(cmd: Command): CommandResult {
    let args;
    try {
      args = checkArgs(this.engine, RUN_SPEC, cmd);
    } catch (err) {
      if (err instanceof EngineError)
        return this.refused(cmd, RUN_SPEC, failTool(err.errno, err.message, err.field));
      throw err;
    }
    const r = this.run({
      until: args.until as number | undefined,
      maxEvents: args.maxEvents as number | undefined,
    });
    if (this.fault) {
      const f = this.fault;
      this.fault = null;
      return failTool('EIO', f);
    }
    if (r.limit) return failTool('ENOSPC', r.limit);
    return ok({ events: r.events, time: r.time, idle: r.idle });
  }

  /** Set when the last run met an internal error (and dropped the event that caused it). */
  private fault: string | null = null;

  step(): TraceEvent[] {
    this.live();
    const before = this.engine.trace.length;
    this.record(STEP_ENTRY);
    try {
      this.engine.stepOne();
    } catch (err) {
      // as in run: undo, then drop the event that threw; its trace row says so (step has no result)
      this.journal.pop();
      this.rollback();
      this.dropEvent((err as Error).message);
    }
    return this.engine.trace.slice(before);
  }

  run(opts: RunOptions = {}): RunResult & { limit?: string } {
    this.live();
    this.record({ run: opts });
    const e = this.engine;
    const until = opts.until ?? Infinity;
    const max = opts.maxEvents ?? 10_000_000;
    const rows = this.limits.trace_events;
    let n: number;
    try {
      n = e.runEvents(max, until, rows);
    } catch (err) {
      n = e.ran;
      // A bug, never bad input: undo the run, replay it up to the event that threw (the engine is
      // deterministic), and drop that event, so the system goes on instead of meeting it again.
      this.journal.pop();
      this.rollback();
      this.run({ ...opts, maxEvents: n });
      this.fault = this.dropEvent((err as Error).message);
      return { events: n, time: this.engine.state.time, idle: this.engine.queue.size === 0 };
    }
    if (until !== Infinity && e.queue.peekTime() > until && e.state.time < until) e.state.time = until;
    const idle = e.queue.size === 0;
    const limit =
      !idle && e.trace.length >= rows && n < max && e.queue.peekTime() <= until
        ? `the trace holds its limit of ${rows} hop events (options.limits.trace_events): the run stopped after ${n} events with ${e.queue.size} still queued; raise the limit in the scenario's options (or irqflow run --max-trace-events N), or raise fewer interrupts`
        : undefined;
    return limit ? { events: n, time: e.state.time, idle, limit } : { events: n, time: e.state.time, idle };
  }

  /**
   * Removes the earliest event without running it, after it threw: its interrupt is dropped with the
   * reason, so conservation still holds. Returns the message a caller reports.
   */
  private dropEvent(message: string): string {
    this.record({ drop: message });
    const e = this.engine;
    const ev = { time: 0, seq: 0, kind: 0, irq: 0, a: 0, b: 0 };
    if (!e.queue.pop(ev)) return `internal error: ${message}`;
    e.state.time = ev.time;
    const name = eventName(ev.kind);
    const reason = `irqflow internal error in ${name}`;
    if (ev.irq > 0 && e.fateOf(ev.irq) === 'in-flight') e.dropped(ev.irq, reason);
    e.trace.push(
      ev.time,
      ev.irq,
      HOP['ctl.failed'],
      ev.irq > 0 ? e.ipath[ev.irq] : PATH.control,
      OUT.dropped,
      e.sid('kvm'),
      e.sid('kvm'),
      e.sid(HOP_FAILED_FN),
      0,
      e.sid(`${reason}: ${message}`),
      0,
      0,
    );
    const who = ev.irq > 0 ? `; interrupt #${ev.irq} is dropped` : '';
    return `internal error in ${name} (${message}): that event was dropped${who}, the rest of the state is as before it; please report this with the scenario`;
  }

  idle(): boolean {
    return this.engine.queue.size === 0;
  }

  snapshot(): Snapshot {
    this.live();
    const e = this.engine;
    return {
      version: 1,
      state: structuredClone(e.state),
      queue: e.queue.toJSON(),
      next_seq: e.queue.nextSeq,
      next_irq: e.nextIrq,
      interrupts: e.interrupts(),
      rng: e.rng.s,
      trace_length: e.trace.length,
      trace_strings: e.trace.strings.list.length,
    };
  }

  restore(s: Snapshot): void {
    this.live();
    // Checked whole before the live state is touched: a bad snapshot changes nothing.
    const errors = snapshotErrors(s, this.engine);
    if (errors.length) throw new SnapshotError(errors);
    const old = this.engine;
    const trace = old.trace;
    if (s.trace_length <= trace.length) trace.truncate(s.trace_length, s.trace_strings);
    else trace.truncate(0, 1);
    const e = new Engine(
      structuredClone(s.state),
      old.cost,
      { s: s.rng },
      EventQueue.fromJSON(s.queue, s.next_seq),
      trace,
    );
    e.restoreInterrupts(s.interrupts, s.next_irq);
    e.maxIrqs = this.limits.interrupts;
    this.engine = e;
    this.base = this.checkpoint();
    this.journal = [];
  }

  /** Everything a later step can change, copied cheaply (typed arrays, no per-interrupt objects). */
  private checkpoint(): Checkpoint {
    const e = this.engine;
    return {
      state: structuredClone(e.state),
      queue: e.queue.toJSON(),
      nextSeq: e.queue.nextSeq,
      irqs: e.saveIrqs(),
      rng: e.rng.s,
      traceLength: e.trace.length,
      strings: e.trace.strings.list.length,
    };
  }

  traceLength(): number {
    this.live();
    return this.engine.trace.length;
  }

  traceSlice(start: number, end: number): TraceEvent[] {
    this.live();
    return this.engine.trace.slice(start, end);
  }
}
