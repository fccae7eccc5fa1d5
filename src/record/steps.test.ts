// The recorder: what the page did (the worker session's operations) plus the user's "expect this"
// marks become a scenario that `irqflow run` passes, step for step.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../worker/session.ts';
import type { Scenario as PageScenario } from '../worker/api.ts';
import { parseScenario, runScenario, type Scenario } from '../engine/index.ts';
import { buildSteps, carryAnnotations, cutAt, mergeExpect, type Mark } from './steps.ts';

const lib = (f: string) => {
  const p = parseScenario(JSON.parse(readFileSync(`public/scenarios/${f}`, 'utf8')));
  if (!p.ok) throw new Error(p.errors.join('\n'));
  return p.scenario;
};

function asScenario(base: Scenario, steps: Scenario['steps']): Scenario {
  return { ...base, name: 'recorded', steps };
}

describe('buildSteps', () => {
  it("keeps a replayed step's presenter note, and its annotations follow it to its new index", () => {
    const source = [
      { command: { op: 'device.raise', device: 'nic0', vector: 1 }, note: 'first' },
      { command: { op: 'device.raise', device: 'nic0', vector: 2 }, note: 'second' },
    ] as const;
    const { steps } = buildSteps(
      [
        { kind: 'apply', cmd: { op: 'device.raise', device: 'nic0', vector: 7 } },
        { kind: 'apply', cmd: source[1].command, scenarioStep: 1 },
      ],
      [],
      source,
    );
    expect(steps.map((s) => s.step.note)).toEqual([undefined, 'second']);
    const notes = [
      { target: 'iommu', text: 'always' },
      { step: 0, target: 'msix:nic0', text: 'gone: step 0 is not replayed' },
      { step: 1, target: 'lapic:1', text: 'moves to index 1' },
    ];
    expect(carryAnnotations(notes, steps)).toEqual([
      { target: 'iommu', text: 'always' },
      { step: 1, target: 'lapic:1', text: 'moves to index 1' },
    ]);
  });

  it('merges queued events advanced one by one into one run, cut where a mark was made', () => {
    const { steps } = buildSteps(
      [
        { kind: 'apply', cmd: { op: 'device.raise', device: 'nic0', vector: 1 } },
        { kind: 'step' },
        { kind: 'step' },
        { kind: 'step' },
        { kind: 'step' },
      ],
      [{ ops: 3, label: 'x', expect: { snapshot: { 'counters.raised': 1 } } }],
    );
    expect(steps.map((s) => s.step.command)).toEqual([
      { op: 'device.raise', device: 'nic0', vector: 1 },
      { op: 'run', maxEvents: 2 },
      { op: 'run', maxEvents: 2 },
    ]);
    expect(steps[1].step.expect).toEqual({ snapshot: { 'counters.raised': 1 } });
    expect(steps.map((s) => [s.opStart, s.opEnd])).toEqual([
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
  });

  it('a run command is its head plus one op per event: recorded as a run of that many events', () => {
    const { steps } = buildSteps(
      [
        { kind: 'apply', cmd: { op: 'run', maxEvents: 0 }, scenarioStep: 0 },
        { kind: 'step' },
        { kind: 'step' },
      ],
      [],
      [{ command: { op: 'run' }, caption: 'it runs' }],
    );
    expect(steps).toHaveLength(1);
    expect(steps[0].step).toEqual({ command: { op: 'run', maxEvents: 2 }, caption: 'it runs' });
  });

  it('drops a command the file format refuses, saying why', () => {
    const b = buildSteps(
      [{ kind: 'apply', cmd: { op: 'device.raise', device: 'nic0', vector: 'one' } as never }],
      [],
    );
    expect(b.steps).toEqual([]);
    expect(b.dropped[0].why).toMatch(/vector/);
  });

  it('marks made at one point merge; going back drops the marks past it', () => {
    expect(
      mergeExpect(
        { snapshot: { a: 1 }, path: [{ irq: 1, functions: ['f'] }] },
        { snapshot: { b: 2 }, errno: 'EINVAL' },
      ),
    ).toEqual({ snapshot: { a: 1, b: 2 }, path: [{ irq: 1, functions: ['f'] }], errno: 'EINVAL' });
    const marks: Mark[] = [
      { ops: 2, label: 'a', expect: {} },
      { ops: 5, label: 'b', expect: {} },
    ];
    expect(cutAt(marks, 4).map((m) => m.label)).toEqual(['a']);
  });
});

describe('a session recorded in the page replays headless', () => {
  it('commands, Steps, a PBA bit and a path recorded from the session pass the runner', () => {
    const base = lib('msix-masked-pba.json');
    const s = new Session();
    s.load(base as unknown as PageScenario);
    // the first three library steps (Do next command), then the user's own
    for (let i = 0; i < 3; i++) s.applyNextStep();
    s.apply({ op: 'device.msixWrite', device: 'nic0', offset: 28, value: 1 });
    s.apply({ op: 'device.raise', device: 'nic0', vector: 1 });
    let u = s.run({ maxEvents: 100 });
    const marks: Mark[] = [
      { ops: u.history, label: 'PBA 1', expect: { snapshot: { 'devices.nic0.msix.pba.1': true } } },
    ];
    s.apply({ op: 'device.msixWrite', device: 'nic0', offset: 28, value: 0 });
    u = s.run({ maxEvents: 100 });
    const fns = s
      .trace(0, u.trace.length)
      .filter((e) => e.irq === 1)
      .map((e) => e.fn);
    marks.push({ ops: u.history, label: 'path', expect: { path: [{ irq: 1, functions: fns }] } });
    s.apply({ op: 'device.msixWrite', device: 'nic0', offset: 64, value: 0 }); // EINVAL
    const built = buildSteps(s.ops(), marks, base.steps);
    const steps = built.steps.map((r) => r.step);
    // the failing command, as the recorder fills it in from the check
    const check = runScenario(asScenario(base, steps));
    expect(check.steps[check.steps.length - 1].result).toMatchObject({ ok: false, errno: 'EINVAL' });
    steps[steps.length - 1] = { ...steps[steps.length - 1], expect: { errno: 'EINVAL' } };
    const r = runScenario(asScenario(base, steps));
    expect(r.steps.flatMap((x) => x.failures)).toEqual([]);
    expect(steps[0].caption).toBe(base.steps[0].caption);
    expect(fns.length).toBeGreaterThan(3);
    // and an expectation that does not hold fails: the marks are checked, not decoration
    const wrong = steps.map((st) =>
      st.expect?.snapshot ? { ...st, expect: { snapshot: { 'devices.nic0.msix.pba.1': false } } } : st,
    );
    expect(runScenario(asScenario(base, wrong)).passed).toBe(false);
  });

  it('Back and truncate shorten the recording to what the engine still holds', () => {
    const base = lib('msix-masked-pba.json');
    const s = new Session();
    s.load(base as unknown as PageScenario);
    for (let i = 0; i < 6; i++) s.applyNextStep();
    const all = buildSteps(s.ops(), [], base.steps).steps;
    const u = s.truncate(s.snapshot().trace_length - 2);
    const cut = buildSteps(s.ops(), [], base.steps).steps;
    expect(u.history).toBeLessThan(all[all.length - 1].opEnd);
    const last = cut[cut.length - 1].step.command as { op: string; maxEvents?: number };
    const full = all[all.length - 1].step.command as { op: string; maxEvents?: number };
    expect(last.op).toBe('run');
    expect(last.maxEvents).toBeLessThan(full.maxEvents!);
    expect(
      runScenario(
        asScenario(
          base,
          cut.map((c) => ({ command: c.step.command })),
        ),
      ).passed,
    ).toBe(true);
  });
});
