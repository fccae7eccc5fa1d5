// Runs a scenario headless: applies each step's command, then checks its expectation against the
// command's result, the snapshot, and the hops the step recorded. The CLI, the unit tests and the
// page's worker all run scenarios through here.

import type { CommandResult, DesignGeneration, Json, KernelProfile, Snapshot, TraceEvent } from '../types.ts';
import { createSystem, TopologyError, type Limits, type System } from '../system.ts';
import type { Expectation, Scenario, ScenarioStep } from './schema.ts';

export interface StepResult {
  index: number;
  op: string;
  caption?: string;
  result: CommandResult;
  /** Hops recorded by this step (the command and, for `run`, the events it ran). */
  hops: number;
  failures: string[];
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  steps: StepResult[];
}

export interface RunScenarioOptions {
  /** Override the topology's kernel profile or design generation (the page's pickers). */
  profile?: KernelProfile;
  design?: DesignGeneration;
  /** Stop after this many steps (the page plays a scenario step by step). */
  steps?: number;
  /** Override the scenario's limits (irqflow run --max-trace-events, --max-interrupts). */
  limits?: Partial<Limits>;
}

export function scenarioSystem(s: Scenario, o: RunScenarioOptions = {}): System {
  const topology = {
    ...s.topology,
    ...(o.profile ? { profile: o.profile } : {}),
    ...(o.design ? { design: o.design } : {}),
  };
  const limits = { ...s.options?.limits, ...o.limits };
  return createSystem(topology, { seed: s.options?.seed, cost: s.options?.cost, limits });
}

export function runScenario(s: Scenario, o: RunScenarioOptions = {}): ScenarioResult {
  let sys: System;
  try {
    sys = scenarioSystem(s, o);
  } catch (err) {
    const msg = err instanceof TopologyError ? err.errors.join('; ') : (err as Error).message;
    return {
      name: s.name,
      passed: false,
      steps: [
        {
          index: -1,
          op: 'topology',
          result: { ok: false, errno: 'EINVAL', message: msg },
          hops: 0,
          failures: [msg],
        },
      ],
    };
  }
  const steps: StepResult[] = [];
  const n = Math.min(o.steps ?? s.steps.length, s.steps.length);
  for (let i = 0; i < n; i++) steps.push(runStep(sys, s, i));
  return { name: s.name, passed: steps.every((r) => r.failures.length === 0), steps };
}

export function runStep(sys: System, s: Scenario, index: number): StepResult {
  const step = s.steps[index];
  const before = sys.traceLength();
  const result = sys.apply(step.command as Parameters<System['apply']>[0]);
  const after = sys.traceLength();
  const failures = stepFailures(sys, step, result, before);
  return { index, op: step.command.op, caption: step.caption, result, hops: after - before, failures };
}

/**
 * What failed in a step just applied (its hops are those from trace position `before` on): its
 * expectation, or, without one, any failure. The page's worker checks the steps it plays with this too.
 */
export function stepFailures(
  sys: System,
  step: Pick<ScenarioStep, 'expect'>,
  result: CommandResult,
  before: number,
): string[] {
  const after = sys.traceLength();
  const x = step.expect;
  let failures: string[];
  if (x) {
    // Hop objects only when the expectation reads them: a storm's step may record millions of hops.
    const hops = x.hops || x.functions ? sys.traceSlice(before, after) : [];
    // A path is the interrupt's journey so far: it may have begun in an earlier step (raise, then run).
    const journey = x.path?.length
      ? sys.traceSlice(0, after).filter((h) => x.path!.some((p) => p.irq === h.irq))
      : [];
    failures = checkExpectation(x, result, x.snapshot ? sys.snapshot() : null, hops, journey);
  } else {
    // No expectation means "this succeeds": a failure the author did not expect fails the step.
    failures = result.ok ? [] : [`expected success (the step has no expect), got ${describe(result)}`];
  }
  if (!result.ok && result.tool && result.errno === 'EIO' && !failures.length)
    failures.push(`irqflow internal error: ${result.message}`);
  return failures;
}

export function checkExpectation(
  x: Expectation,
  r: CommandResult,
  snap: Snapshot | null,
  hops: TraceEvent[],
  /** The hops of the interrupts in `x.path` up to the end of this step. */
  journey: TraceEvent[] = [],
): string[] {
  const f: string[] = [];
  const wantOk = x.ok ?? (x.errno === undefined ? undefined : false);
  if (wantOk !== undefined && r.ok !== wantOk)
    f.push(`expected ${wantOk ? 'success' : 'failure'}, got ${describe(r)}`);
  if (x.errno !== undefined && (r.ok || r.errno !== x.errno))
    f.push(`expected errno ${x.errno}, got ${describe(r)}`);
  if (x.value !== undefined && !(r.ok && deepEqual(r.value ?? null, x.value as Json)))
    f.push(`expected value ${JSON.stringify(x.value)}, got ${describe(r)}`);
  for (const [path, want] of Object.entries(x.snapshot ?? {})) {
    const got = snap ? snapshotPath(snap, path) : { found: false, value: null };
    if (!deepEqual(got.value, want as Json))
      f.push(
        `${path}: expected ${JSON.stringify(want)}, got ${got.found ? JSON.stringify(got.value) : 'nothing (no such path)'}`,
      );
  }
  if (x.hops) {
    let k = 0;
    for (const h of hops) if (k < x.hops.length && h.hop === x.hops[k]) k++;
    if (k < x.hops.length)
      f.push(
        `hop '${x.hops[k]}' did not occur (in order) among ${hops.length} hops: ${hops.map((h) => h.hop).join(', ')}`,
      );
  }
  for (const fn of x.functions ?? [])
    if (!hops.some((h) => h.fn === fn)) f.push(`function ${fn} did not run in this step`);
  for (const { irq, functions } of x.path ?? []) {
    const mine = journey.filter((h) => h.irq === irq);
    let k = 0;
    for (const h of mine) if (k < functions.length && h.fn === functions[k]) k++;
    if (k < functions.length)
      f.push(
        `interrupt ${irq}: ${functions[k]} did not run (in order) among its ${mine.length} hops so far: ${mine.map((h) => h.fn).join(', ') || 'none'}`,
      );
  }
  return f;
}

function describe(r: CommandResult): string {
  if (r.ok) return `success ${JSON.stringify(r.value ?? null)}`;
  return r.tool ? `irqflow refused: ${r.errno} (${r.message})` : `${r.errno} (${r.message})`;
}

/**
 * A dotted path into the snapshot: rooted at the state (`devices.nic0.msix.pba.3`), or at the
 * interrupts by id (`interrupts.1.fate`).
 */
export function snapshotPath(snap: Snapshot, path: string): { found: boolean; value: Json } {
  const parts = path.split('.');
  let cur: unknown;
  if (parts[0] === 'interrupts') {
    cur = snap.interrupts.find((r) => String(r.id) === parts[1]);
    parts.splice(0, 2);
  } else cur = snap.state;
  for (const p of parts) {
    // own properties only: `devices.__proto__` or `devices.constructor` is no path
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p))
      return { found: false, value: null };
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined ? { found: false, value: null } : { found: true, value: cur as Json };
}

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]));
}
