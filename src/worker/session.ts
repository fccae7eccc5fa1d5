// One engine session: the loaded scenario, its system, the history that lets Back undo, and the frames
// (the state change of every operation) that let the page show the state at its cursor, hop by hop.
// Plain TypeScript with no worker globals, so Node tests can drive it the way the worker does.

import {
  chromeTrace,
  createSystem,
  runScenario,
  stepFailures,
  type Scenario as EngineScenario,
  type Command,
  type CommandResult,
  type Fate,
  type RunOptions,
  type Snapshot,
  type System,
  type SystemState,
  type TraceEvent,
} from '../engine/index.ts';
import { History, type Op } from './history.ts';
import { diffInto, type Change } from './diff.ts';
import { firstHit } from './breakpoints.ts';
import {
  MAX_EVENTS_PER_UPDATE,
  type Breakpoint,
  type CheckResult,
  type EngineApi,
  type RecordedOp,
  type Frame,
  type LoadOverrides,
  type Scenario,
  type Update,
} from './api.ts';

const FATES: readonly Fate[] = ['in-flight', 'pending', 'delivered', 'coalesced', 'dropped'];
/** A `run` command is played as one op per queued event up to this many; the rest runs in one go. */
const MAX_RUN_FRAMES = 20_000;
/** Beyond this many frames in one answer, one frame per `FRAME_STRIDE` ops (a storm at full speed). */
const FRAME_BUDGET = 1500;
const FRAME_STRIDE = 16;

const FATE_OF: Partial<Record<TraceEvent['outcome'], Fate>> = {
  forwarded: 'in-flight',
  pending: 'pending',
  delivered: 'delivered',
  coalesced: 'coalesced',
  dropped: 'dropped',
};

const zeroFates = (): Record<Fate, number> =>
  Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>;

type Obj = Record<string, unknown>;

export class Session implements EngineApi {
  private scenario: Scenario | null = null;
  private overrides: LoadOverrides = {};
  private sys: System | null = null;
  private history: History | null = null;
  /** Trace length the page has seen; the next update sends events from here on. */
  private sent = 0;
  /** The state as of the last frame, a private copy: frames are its differences with the live state. */
  private shadow: Obj = {};
  private frames: Frame[] = [];
  private opsSinceFrame = 0;
  private group = 0;
  /** Each interrupt's fate as the trace last said, for per-frame fate counts (resynced per answer). */
  private fate = new Map<number, Fate>();
  private fateCount = zeroFates();
  /** Trace length up to which `fate` has read the trace. */
  private fateRead = 0;
  private hit: number | null = null;

  load(scenario: Scenario, overrides: LoadOverrides = {}): Update {
    this.scenario = scenario;
    this.overrides = overrides;
    const topology = { ...scenario.topology, ...withoutUndefined(overrides) };
    const next = createSystem(topology, scenario.options ?? {});
    // after createSystem, which may refuse the topology (the old system stays); the old trace's chunks go
    // to the pool the next trace takes from (System.dispose)
    this.sys?.dispose();
    this.sys = next;
    this.history = new History(this.sys.snapshot());
    this.sent = 0;
    return this.rewind(null);
  }

  loadToStep(scenario: Scenario, overrides: LoadOverrides, last: number): Update {
    this.load(scenario, overrides);
    let failed: Update['result'] = null;
    for (let i = 0; i <= Math.min(last, scenario.steps.length - 1); i++) {
      const u = this.applyNextStep();
      // a step with an expected errno fails on purpose; only a step that expected success stops it
      if (u.result && !u.result.ok && scenario.steps[i].expect === undefined) {
        failed = u.result;
        break;
      }
    }
    const u = this.rewind(null);
    return failed ? { ...u, result: failed } : u;
  }

  reset(): Update {
    if (!this.scenario) throw new Error('irqflow worker: no scenario loaded');
    return this.load(this.scenario, this.overrides);
  }

  ping(): number {
    return this.history?.length ?? 0;
  }

  apply(cmd: Command): Update {
    this.group++;
    const result = this.command(cmd, undefined);
    return this.update(result, cmd, false);
  }

  applyNextStep(): Update {
    const { scenario } = this.ready();
    const i = this.history!.scenarioIndex();
    const step = scenario.steps[i];
    if (!step) {
      return this.update(
        { ok: false, errno: 'ENOENT', message: `the scenario has no step ${i + 1}`, tool: true },
        null,
        false,
      );
    }
    this.group++;
    const before = this.sys!.traceLength();
    const result = this.command(step.command, i);
    const failures = stepFailures(this.sys!, step as EngineScenario['steps'][number], result, before);
    return { ...this.update(result, step.command, false), check: { step: i, failures } };
  }

  step(): Update {
    this.group++;
    this.advance(1, []);
    return this.update(null, null, false);
  }

  run(opts: RunOptions & { breakpoints?: Breakpoint[] }): Update {
    this.group++;
    if (opts.until === undefined)
      this.advance(opts.maxEvents ?? Number.MAX_SAFE_INTEGER, opts.breakpoints ?? []);
    else {
      const { sys } = this.ready();
      sys.run({ until: opts.until, maxEvents: opts.maxEvents });
      this.pushOp({ kind: 'run', until: opts.until, maxEvents: opts.maxEvents });
    }
    return this.update(null, null, false);
  }

  back(): Update {
    const { sys } = this.ready();
    const undo = this.history!.popLast();
    if (!undo) return this.rewind(sys.traceLength());
    sys.restore(undo.from);
    for (const op of undo.replay) this.replay(op);
    return this.rewind(sys.traceLength());
  }

  truncate(at: number): Update {
    const { sys } = this.ready();
    const cut = this.history!.truncateAt(at);
    if (cut) {
      sys.restore(cut.from);
      for (const op of cut.replay) this.replay(op);
    }
    return this.rewind(sys.traceLength());
  }

  snapshot(): Snapshot {
    return this.ready().sys.snapshot();
  }

  trace(start: number, end: number): TraceEvent[] {
    return this.ready().sys.traceSlice(start, end);
  }

  ops(): RecordedOp[] {
    return this.history!.ops.map((op): RecordedOp => {
      if (op.kind === 'run')
        return { kind: 'run', until: op.until === Infinity ? null : op.until, maxEvents: op.maxEvents };
      return op.kind === 'apply' ? { kind: 'apply', cmd: op.cmd, scenarioStep: op.scenarioStep } : op;
    });
  }

  check(scenario: Scenario): CheckResult {
    const r = runScenario(scenario as unknown as EngineScenario);
    return {
      passed: r.passed,
      steps: r.steps.map((st) => ({
        index: st.index,
        op: st.op,
        ok: st.result.ok,
        ...(st.result.ok ? {} : { errno: st.result.errno }),
        failures: st.failures,
      })),
    };
  }

  chromeTrace(): string {
    const { sys, scenario } = this.ready();
    const s = this.live();
    return JSON.stringify(
      chromeTrace(sys.traceSlice(0, sys.traceLength()), {
        name: scenario.name,
        profile: s.profile,
        design: s.design,
      }),
    );
  }

  // ---- internals

  private ready(): { sys: System; scenario: Scenario } {
    if (!this.sys || !this.scenario) throw new Error('irqflow worker: no scenario loaded');
    return { sys: this.sys, scenario: this.scenario };
  }

  /** The engine's state object itself (read only here), else a copy from a snapshot. */
  private live(): SystemState {
    const sys = this.sys!;
    const e = (sys as { engine?: { state?: SystemState } }).engine;
    return e?.state ?? sys.snapshot().state;
  }

  /**
   * One command. A `run` is played as one op per queued event, so that the page can step inside it and
   * the engine can be cut back to any hop of it; the engine checks its fields first (a run of 0 events).
   */
  private command(cmd: Command, scenarioStep: number | undefined): CommandResult {
    const { sys } = this.ready();
    const isRun = cmd.op === 'run' && typeof cmd === 'object';
    const head = isRun ? { ...cmd, maxEvents: 0 } : cmd;
    const result = sys.apply(head);
    this.pushOp({ kind: 'apply', cmd: head, scenarioStep }, { command: cmd, result, scenarioStep });
    if (!isRun || !result.ok) return result;
    const until = typeof cmd.until === 'number' ? cmd.until : undefined;
    const max = typeof cmd.maxEvents === 'number' ? cmd.maxEvents : Number.MAX_SAFE_INTEGER;
    let n = 0;
    for (; n < max && n < MAX_RUN_FRAMES && !sys.idle(); n++) {
      if (until === undefined) {
        sys.step();
        this.pushOp({ kind: 'step' }, { scenarioStep });
      } else {
        const r = sys.run({ until, maxEvents: 1 });
        this.pushOp({ kind: 'run', until, maxEvents: 1 }, { scenarioStep });
        if (r.events === 0) break;
      }
    }
    if (n < max && !sys.idle()) {
      const r = sys.run({ until, maxEvents: max === Number.MAX_SAFE_INTEGER ? undefined : max - n });
      this.pushOp({ kind: 'run', until: until ?? Infinity, maxEvents: max - n }, { scenarioStep });
      n += r.events;
    }
    const s = this.live();
    return { ok: true, value: { events: n, time: s.time, idle: sys.idle() } };
  }

  /** Advances up to n queued events, one history op each, so Back undoes a single event. */
  private advance(n: number, bps: readonly Breakpoint[]): void {
    const { sys } = this.ready();
    for (let i = 0; i < n && !sys.idle(); i++) {
      const hops = sys.step();
      this.pushOp({ kind: 'step' });
      const hit = firstHit(bps, hops);
      if (hit) {
        this.hit = hit.seq;
        break;
      }
    }
  }

  private pushOp(op: Op, frame: Partial<Frame> = {}): void {
    const sys = this.sys!;
    this.history!.push(op, sys.traceLength(), () => sys.snapshot());
    this.opsSinceFrame++;
    // A storm at full speed: keep one frame per FRAME_STRIDE ops (and always a command's).
    if (this.frames.length >= FRAME_BUDGET && !frame.command && this.opsSinceFrame < FRAME_STRIDE) return;
    this.frame(frame);
  }

  private frame(extra: Partial<Frame>): void {
    const changes: Change[] = [];
    diffInto(this.shadow, this.live() as unknown as Obj, changes);
    this.readFates();
    this.opsSinceFrame = 0;
    this.frames.push({
      at: this.sys!.traceLength(),
      changes,
      fates: this.fatesNow(),
      group: this.group,
      ...extra,
    });
  }

  private readFates(): void {
    const sys = this.sys!;
    const len = sys.traceLength();
    if (len <= this.fateRead) return;
    for (const e of sys.traceSlice(this.fateRead, len)) {
      const f = e.irq === 0 ? undefined : FATE_OF[e.outcome];
      if (!f) continue;
      const prev = this.fate.get(e.irq);
      if (prev === f) continue;
      if (prev) this.fateCount[prev]--;
      this.fateCount[f]++;
      this.fate.set(e.irq, f);
    }
    this.fateRead = len;
  }

  /** Interrupts raised but not in the trace yet are in flight. */
  private fatesNow(): Record<Fate, number> {
    const f = { ...this.fateCount };
    const raised = (this.live().counters as { raised?: number } | undefined)?.raised ?? 0;
    f['in-flight'] += Math.max(0, raised - this.fate.size);
    return f;
  }

  private resyncFates(snap: Snapshot): Record<Fate, number> {
    this.fate.clear();
    this.fateCount = zeroFates();
    for (const r of snap.interrupts) {
      this.fate.set(r.id, r.fate);
      this.fateCount[r.fate]++;
    }
    this.fateRead = snap.trace_length;
    return { ...this.fateCount };
  }

  private replay(op: Op): void {
    const sys = this.sys!;
    if (op.kind === 'step') sys.step();
    else if (op.kind === 'run')
      sys.run({ until: op.until === Infinity ? undefined : op.until, maxEvents: op.maxEvents });
    else sys.apply(op.cmd);
  }

  /** History replaced (load, reset, Back, truncate): the page keeps its frames up to `keep`. */
  private rewind(keep: number | null): Update {
    this.shadow = structuredClone(this.live()) as unknown as Obj;
    this.frames = [];
    this.sent = Math.max(0, this.sys!.traceLength() - 200);
    if (keep === null) this.sent = 0;
    return this.update(null, null, true, keep);
  }

  private update(
    result: Update['result'],
    command: Command | null,
    rewound: boolean,
    keepFramesTo: number | null = null,
  ): Update {
    const { sys } = this.ready();
    // The last op's state as a frame too, when a storm's stride skipped it.
    if (!rewound && this.opsSinceFrame > 0) this.frame({});
    const snap = sys.snapshot();
    const length = sys.traceLength();
    const start = Math.max(Math.min(this.sent, length), length - MAX_EVENTS_PER_UPDATE);
    const events = sys.traceSlice(start, length);
    this.sent = length;
    const fates = this.resyncFates(snap);
    const frames = this.frames;
    this.frames = [];
    // The trace's fates are the engine's own at the end of every answer.
    if (frames.length > 0) frames[frames.length - 1].fates = fates;
    const hit = this.hit;
    this.hit = null;
    return {
      result,
      command,
      trace: { start, length, events },
      state: snap.state,
      fates,
      queued: snap.queue.length,
      idle: snap.queue.length === 0,
      history: this.history!.length,
      scenarioIndex: this.history!.scenarioIndex(),
      rewound,
      frames,
      keepFramesTo,
      hit,
    };
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
