// The recorder's core: the operations the engine session applied since load (the worker's history)
// and the expectations the user pinned while recording become a scenario's steps. Pure: no DOM, no
// worker; the page feeds it what the worker answered (RecordedOp) and what the user clicked (Mark).

import { stepSchema, type Command, type Expectation, type ScenarioStep } from '../engine/index.ts';
import type { RecordedOp } from '../worker/api.ts';

/** One "expect this": made when `ops` operations had been applied, so it belongs to the step ending there. */
export interface Mark {
  ops: number;
  expect: Expectation;
  /** What the user saw, for the list ("PBA bit 1 of nic0 = 1"). */
  label: string;
}

/** A recorded step and the operations it stands for (captions and marks are keyed by them). */
export interface RecordedStep {
  step: ScenarioStep;
  /** Operations [opStart, opEnd) of the session's history. */
  opStart: number;
  opEnd: number;
  /** The loaded scenario's step this one replays, if any (its note and annotations follow it). */
  from?: number;
}

export interface Built {
  steps: RecordedStep[];
  /** Commands the scenario format refuses (a malformed field the engine refused too): not recorded. */
  dropped: { op: number; command: Command; why: string }[];
}

/** The steps of a loaded scenario, to keep their captions and expectations when replayed into a recording. */
type SourceSteps = readonly { command: Command; caption?: string; note?: string; expect?: unknown }[];

/** Merges expectations made at one point: snapshot values and paths add up, the last errno wins. */
export function mergeExpect(a: Expectation | undefined, b: Expectation): Expectation {
  if (!a) return b;
  const out: Expectation = { ...a, ...b };
  if (a.snapshot || b.snapshot) out.snapshot = { ...a.snapshot, ...b.snapshot };
  if (a.path || b.path) {
    const byIrq = new Map([...(a.path ?? []), ...(b.path ?? [])].map((p) => [p.irq, p]));
    out.path = [...byIrq.values()];
  }
  if (a.functions || b.functions)
    out.functions = [...new Set([...(a.functions ?? []), ...(b.functions ?? [])])];
  return out;
}

/**
 * The operations as steps. A command is one step. Queued events advanced one by one (Step, Run, the
 * events a `run` command plays) merge into one `run` step with their count, `maxEvents`, so the file
 * replays exactly what the page did; a mark or a command ends such a run. A command the loaded
 * scenario supplied keeps that step's caption (and its expectation, when it is not a run cut short).
 */
export function buildSteps(
  ops: readonly RecordedOp[],
  marks: readonly Mark[],
  source: SourceSteps = [],
): Built {
  const cuts = new Set(marks.map((m) => m.ops));
  const steps: RecordedStep[] = [];
  const dropped: Built['dropped'] = [];
  let run: { start: number; until: number | null; events: number; from?: number } | null = null;

  const flush = (end: number) => {
    if (!run) return;
    const cmd: Command = {
      op: 'run',
      maxEvents: run.events,
      ...(run.until === null ? {} : { until: run.until }),
    } as Command;
    const src = run.from === undefined ? undefined : source[run.from];
    steps.push({
      step: {
        command: cmd as ScenarioStep['command'],
        ...(src?.caption ? { caption: src.caption } : {}),
        ...(src?.note ? { note: src.note } : {}),
      },
      opStart: run.start,
      opEnd: end,
      ...(run.from === undefined ? {} : { from: run.from }),
    });
    run = null;
  };

  ops.forEach((op, i) => {
    if (op.kind === 'step' || op.kind === 'run') {
      const until = op.kind === 'run' ? op.until : null;
      const n = op.kind === 'run' ? (op.maxEvents ?? 0) : 1;
      if (run && run.until !== until) flush(i);
      run ??= { start: i, until, events: 0 };
      run.events += n;
    } else {
      flush(i);
      const cmd = op.cmd as Command & { maxEvents?: unknown; until?: unknown };
      if (cmd.op === 'run' && cmd.maxEvents === 0) {
        // a `run` command: its head (0 events), then one op per event it played (worker/session.ts)
        run = {
          start: i,
          until: typeof cmd.until === 'number' ? cmd.until : null,
          events: 0,
          from: op.scenarioStep,
        };
      } else {
        const src = op.scenarioStep === undefined ? undefined : source[op.scenarioStep];
        const step = {
          command: op.cmd,
          ...(src?.caption ? { caption: src.caption } : {}),
          ...(src?.note ? { note: src.note } : {}),
          ...(src?.expect ? { expect: src.expect } : {}),
        };
        const ok = stepSchema.safeParse(step);
        if (ok.success)
          steps.push({
            step: ok.data,
            opStart: i,
            opEnd: i + 1,
            ...(op.scenarioStep === undefined ? {} : { from: op.scenarioStep }),
          });
        else
          dropped.push({
            op: i,
            command: op.cmd,
            why: ok.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '),
          });
      }
    }
    if (cuts.has(i + 1)) flush(i + 1);
  });
  flush(ops.length);
  // expectations onto the step that ends where each was made
  for (const m of marks) {
    const st = steps.find((s) => s.opEnd === m.ops);
    if (st) st.step = { ...st.step, expect: mergeExpect(st.step.expect, m.expect) };
  }
  return { steps, dropped };
}

/**
 * The loaded scenario's annotations carried into the recording: one on every step stays, one on a step
 * follows that step to its new index, and one on a step the recording no longer replays is dropped.
 */
export function carryAnnotations<A extends { step?: number }>(
  annotations: readonly A[],
  steps: readonly RecordedStep[],
): A[] {
  return annotations.flatMap((a) => {
    if (a.step === undefined) return [a];
    const at = steps.findIndex((s) => s.from === a.step);
    return at < 0 ? [] : [{ ...a, step: at }];
  });
}

/** The marks and captions that still stand after the session went back to `ops` operations. */
export function cutAt<T extends { ops: number }>(marks: readonly T[], ops: number): T[] {
  return marks.filter((m) => m.ops <= ops);
}
