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
import { EngineError, fail, ok } from './errno.ts';
import { rngCreate } from './sim/rng.ts';
import { EventQueue } from './sim/queue.ts';
import { COMMAND_BY_OP, checkArgs } from './commands.ts';
import { buildState, topologyErrors } from './topology.ts';

export interface SystemOptions {
  seed?: number;
  cost?: Partial<CostModel>;
}

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
}

export class TopologyError extends Error {
  constructor(readonly errors: string[]) {
    super(`invalid topology: ${errors.join('; ')}`);
  }
}

export function createSystem(topology: Topology, options: SystemOptions = {}): System {
  const errors = topologyErrors(topology);
  if (errors.length) throw new TopologyError(errors);
  const cost = { ...DEFAULT_COST, ...options.cost };
  const seed = options.seed ?? 1;
  return new SystemImpl(topology, () => new Engine(buildState(topology), cost, rngCreate(seed)));
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
type JournalEntry = { apply: Command } | { run: RunOptions } | { step: true };
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
  ) {
    this.engine = initial();
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
      this.engine = e;
    } else {
      trace.truncate(0, 1);
      const e = this.initial();
      this.engine = new Engine(e.state, e.cost, e.rng, e.queue, trace);
    }
    this.journal = [];
    for (const j of journal) {
      if ('apply' in j) this.apply(j.apply);
      else if ('run' in j) this.run(j.run);
      else this.step();
    }
  }

  apply(cmd: Command): CommandResult {
    if (typeof cmd !== 'object' || cmd === null || typeof cmd.op !== 'string')
      return fail('EINVAL', 'a command is an object with an op', 'op');
    if (cmd.op === 'run') return this.runCommand(cmd);
    const spec = COMMAND_BY_OP[cmd.op];
    if (!spec) return fail('ENOTTY', `unknown command '${cmd.op}'`, 'op');
    try {
      const value = spec.run(this.engine, checkArgs(this.engine, spec, cmd));
      this.record({ apply: cmd });
      return ok(value === undefined ? undefined : (value as Json));
    } catch (err) {
      // An errno is the kernel's answer: what the kernel changed before failing stays changed.
      if (err instanceof EngineError) {
        this.record({ apply: cmd });
        return fail(err.errno, err.message, err.field);
      }
      this.rollback();
      return fail('EIO', `internal error in ${cmd.op}, state restored: ${(err as Error).message}`);
    }
  }

  private runCommand(cmd: Command): CommandResult {
    const until = cmd.until;
    const maxEvents = cmd.maxEvents;
    if (until !== undefined && (typeof until !== 'number' || until < 0))
      return fail('EINVAL', "'until' must be a virtual time in ns", 'until');
    if (
      maxEvents !== undefined &&
      (typeof maxEvents !== 'number' || !Number.isInteger(maxEvents) || maxEvents < 0)
    )
      return fail('EINVAL', "'maxEvents' must be a non-negative integer", 'maxEvents');
    try {
      const r = this.run({ until: until as number | undefined, maxEvents: maxEvents as number | undefined });
      return ok({ events: r.events, time: r.time, idle: r.idle });
    } catch (err) {
      return fail('EIO', (err as Error).message);
    }
  }

  step(): TraceEvent[] {
    const before = this.engine.trace.length;
    this.record({ step: true });
    try {
      this.engine.stepOne();
    } catch (err) {
      this.journal.pop();
      this.rollback();
      throw new Error(`internal error in step, state restored: ${(err as Error).message}`, { cause: err });
    }
    return this.engine.trace.slice(before);
  }

  run(opts: RunOptions = {}): RunResult {
    this.record({ run: opts });
    const e = this.engine;
    const until = opts.until ?? Infinity;
    const max = opts.maxEvents ?? 10_000_000;
    let n = 0;
    try {
      while (n < max && e.queue.peekTime() <= until && e.stepOne()) n++;
    } catch (err) {
      this.journal.pop();
      this.rollback();
      throw new Error(`internal error in run, state restored: ${(err as Error).message}`, { cause: err });
    }
    if (until !== Infinity && e.queue.peekTime() > until && e.state.time < until) e.state.time = until;
    return { events: n, time: e.state.time, idle: e.queue.size === 0 };
  }

  idle(): boolean {
    return this.engine.queue.size === 0;
  }

  snapshot(): Snapshot {
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
    return this.engine.trace.length;
  }

  traceSlice(start: number, end: number): TraceEvent[] {
    return this.engine.trace.slice(start, end);
  }
}
