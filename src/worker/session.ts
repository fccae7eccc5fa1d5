// One engine session: the loaded scenario, its system, and the history that lets Back undo.
// Plain TypeScript with no worker globals, so Node tests can drive it the way the worker does.

import { createSystem, type Command, type Fate, type RunOptions, type System } from '../engine/index.ts';
import { History, type Op } from './history.ts';
import {
  MAX_EVENTS_PER_UPDATE,
  type EngineApi,
  type LoadOverrides,
  type Scenario,
  type Update,
} from './api.ts';

const FATES: readonly Fate[] = ['in-flight', 'pending', 'delivered', 'coalesced', 'dropped'];

export class Session implements EngineApi {
  private scenario: Scenario | null = null;
  private overrides: LoadOverrides = {};
  private sys: System | null = null;
  private history: History | null = null;
  /** Trace length the page has seen; the next update sends events from here on. */
  private sent = 0;
  private queued = 0;

  load(scenario: Scenario, overrides: LoadOverrides = {}): Update {
    this.scenario = scenario;
    this.overrides = overrides;
    const topology = { ...scenario.topology, ...withoutUndefined(overrides) };
    this.sys = createSystem(topology, scenario.options ?? {});
    this.history = new History(this.sys.snapshot());
    this.sent = 0;
    return this.update(null, null, true);
  }

  reset(): Update {
    if (!this.scenario) throw new Error('irqflow worker: no scenario loaded');
    return this.load(this.scenario, this.overrides);
  }

  apply(cmd: Command): Update {
    const result = this.exec({ kind: 'apply', cmd });
    return this.update(result, cmd, false);
  }

  applyNextStep(): Update {
    const { scenario } = this.ready();
    const i = this.history!.scenarioIndex();
    const step = scenario.steps[i];
    if (!step) {
      return this.update(
        { ok: false, errno: 'ENOENT', message: `the scenario has no step ${i + 1}` },
        null,
        false,
      );
    }
    const result = this.exec({ kind: 'apply', cmd: step.command, scenarioStep: i });
    return this.update(result, step.command, false);
  }

  step(): Update {
    this.advance(1);
    return this.update(null, null, false);
  }

  run(opts: RunOptions): Update {
    if (opts.until === undefined) this.advance(opts.maxEvents ?? Number.MAX_SAFE_INTEGER);
    else {
      const { sys } = this.ready();
      sys.run(opts);
      this.history!.push({ kind: 'run', until: opts.until, maxEvents: opts.maxEvents }, () => sys.snapshot());
    }
    return this.update(null, null, false);
  }

  back(): Update {
    const { sys } = this.ready();
    const undo = this.history!.popLast();
    if (!undo) return this.update(null, null, true);
    sys.restore(undo.from);
    for (const op of undo.replay) this.replay(op);
    // Re-send the tail: the page's window may have started after the point we went back to.
    this.sent = Math.max(0, sys.traceLength() - 200);
    return this.update(null, null, true);
  }

  snapshot() {
    return this.ready().sys.snapshot();
  }

  trace(start: number, end: number) {
    return this.ready().sys.traceSlice(start, end);
  }

  // ---- internals

  private ready(): { sys: System; scenario: Scenario } {
    if (!this.sys || !this.scenario) throw new Error('irqflow worker: no scenario loaded');
    return { sys: this.sys, scenario: this.scenario };
  }

  private exec(op: Extract<Op, { kind: 'apply' }>) {
    const { sys } = this.ready();
    const result = sys.apply(op.cmd);
    this.history!.push(op, () => sys.snapshot());
    return result;
  }

  /** Advances up to n queued events, one history op each, so Back undoes a single event. */
  private advance(n: number): void {
    const { sys } = this.ready();
    for (let i = 0; i < n && !sys.idle(); i++) {
      sys.step();
      this.history!.push({ kind: 'step' }, () => sys.snapshot());
    }
  }

  private replay(op: Op): void {
    const sys = this.sys!;
    if (op.kind === 'step') sys.step();
    else if (op.kind === 'run') sys.run({ until: op.until, maxEvents: op.maxEvents });
    else sys.apply(op.cmd);
  }

  private update(result: Update['result'], command: Command | null, rewound: boolean): Update {
    const { sys } = this.ready();
    const snap = sys.snapshot();
    const length = sys.traceLength();
    const start = Math.max(Math.min(this.sent, length), length - MAX_EVENTS_PER_UPDATE);
    const events = sys.traceSlice(start, length);
    this.sent = length;
    this.queued = snap.queue.length;
    const fates = Object.fromEntries(FATES.map((f) => [f, 0])) as Record<Fate, number>;
    for (const r of snap.interrupts) fates[r.fate]++;
    return {
      result,
      command,
      trace: { start, length, events },
      state: snap.state,
      fates,
      queued: this.queued,
      idle: this.queued === 0,
      history: this.history!.length,
      scenarioIndex: this.history!.scenarioIndex(),
      rewound,
    };
  }
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
