// The worker's session, driven from Node as the page drives it through Comlink: Back must land on
// exactly the state the system had before the undone operation (restore a checkpoint + replay).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from './session.ts';
import { applyChanges } from './diff.ts';
import type { Scenario } from './api.ts';

const scenario = JSON.parse(readFileSync('e2e/fixtures/msix-small.json', 'utf8')) as Scenario;

function loaded(): Session {
  const s = new Session();
  s.load(scenario);
  return s;
}

function applyAll(s: Session): void {
  for (let i = 0; i < scenario.steps.length; i++) s.applyNextStep();
}

describe('Session (the engine worker)', () => {
  it('Back after a step restores the state and trace from before that step', () => {
    const s = loaded();
    applyAll(s);
    s.step();
    const before = s.snapshot();
    s.step();
    const u = s.back();
    expect(u.rewound).toBe(true);
    expect(u.trace.length).toBe(before.trace_length);
    expect(s.snapshot()).toEqual(before);
  });

  it('Back past several checkpoints replays deterministically', () => {
    const s = loaded();
    applyAll(s);
    // Enough operations to cross checkpoints (one every 64 operations).
    for (let i = 0; i < 40; i++) s.apply({ op: 'device.raise', device: 'nic0', vector: 0, count: 3 });
    s.run({ maxEvents: 150 });
    const before = s.snapshot();
    s.step();
    s.back();
    expect(s.snapshot()).toEqual(before);
  });

  it('Back over a scenario command moves the next step back and removes its hops', () => {
    const s = loaded();
    const first = s.applyNextStep();
    expect(first.scenarioIndex).toBe(1);
    const u = s.back();
    expect(u.scenarioIndex).toBe(0);
    expect(u.trace.length).toBe(0);
    expect(u.history).toBe(0);
  });

  it('sends each trace event once, from where the page left off', () => {
    const s = loaded();
    applyAll(s);
    const a = s.step();
    const b = s.step();
    expect(b.trace.start).toBe(a.trace.length);
    expect(b.trace.events.map((e) => e.seq)).toEqual(
      Array.from({ length: b.trace.length - a.trace.length }, (_, i) => a.trace.length + i),
    );
  });

  it('answers a bad command with its errno and keeps it in history', () => {
    const s = loaded();
    const u = s.apply({
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 9,
      start: 0,
      count: 1,
      data: [5],
    });
    expect(u.result).toMatchObject({ ok: false, errno: 'EINVAL', field: 'index' });
    expect(u.history).toBe(1);
  });
});

describe('Session frames: the state at every hop', () => {
  it('frames applied one by one from the loaded state reach the state after every operation', () => {
    const s = new Session();
    const first = s.load(scenario);
    let state = first.state;
    for (let i = 0; i < scenario.steps.length; i++) {
      const u = s.applyNextStep();
      for (const f of u.frames) state = applyChanges(state, f.changes);
      expect(state).toEqual(u.state);
    }
    for (const f of s.apply({ op: 'device.raise', device: 'nic0', vector: 0, count: 2 }).frames)
      state = applyChanges(state, f.changes);
    const u = s.apply({ op: 'run' });
    expect(u.result?.ok).toBe(true);
    // A run is one frame per queued event, so the page can step inside it.
    expect(u.frames.length).toBeGreaterThan(3);
    expect(new Set(u.frames.map((f) => f.group)).size).toBe(1);
    const before = state;
    let s2 = u.state;
    for (const f of [...u.frames].reverse()) s2 = applyChanges(s2, f.changes, true);
    expect(s2).toEqual(before);
    for (const f of u.frames) state = applyChanges(state, f.changes);
    expect(state).toEqual(u.state);
  });

  it('truncate inside a run lands on the state the frame showed there', () => {
    const s = new Session();
    const first = s.load(scenario);
    let state = first.state;
    for (let i = 0; i < scenario.steps.length; i++)
      for (const f of s.applyNextStep().frames) state = applyChanges(state, f.changes);
    for (const f of s.apply({ op: 'device.raise', device: 'nic0', vector: 0, count: 1 }).frames)
      state = applyChanges(state, f.changes);
    const u = s.apply({ op: 'run' });
    const mid = u.frames[Math.floor(u.frames.length / 2)];
    let expected = state;
    for (const f of u.frames) {
      if (f.at > mid.at) break;
      expected = applyChanges(expected, f.changes);
    }
    const t = s.truncate(mid.at);
    expect(t.rewound).toBe(true);
    expect(t.trace.length).toBe(mid.at);
    expect(t.state).toEqual(expected);
  });

  it('a run stops at a breakpoint on a function', () => {
    const s = loaded();
    applyAll(s);
    s.apply({ op: 'device.raise', device: 'nic0', vector: 0, count: 1 });
    const u = s.run({ maxEvents: 1000, breakpoints: [{ id: 1, fn: 'vfio_msihandler' }] });
    expect(u.hit).not.toBeNull();
    const hit = u.trace.events.find((e) => e.seq === u.hit);
    expect(hit?.fn).toContain('vfio_msihandler');
    expect(u.idle).toBe(false);
  });
});

describe('Session.loadToStep (a second engine at the same step)', () => {
  it('reaches the state that loading and applying the same steps one by one reaches', () => {
    const one = loaded();
    for (let i = 0; i < 3; i++) one.applyNextStep();
    const two = new Session();
    const u = two.loadToStep(scenario, {}, 2);
    expect(u.rewound).toBe(true);
    expect(u.scenarioIndex).toBe(3);
    expect(u.trace.length).toBe(one.snapshot().trace_length);
    expect(two.snapshot()).toEqual(one.snapshot());
  });

  it('applies nothing at -1 and stops at the last step', () => {
    expect(new Session().loadToStep(scenario, {}, -1).scenarioIndex).toBe(0);
    expect(new Session().loadToStep(scenario, {}, 999).scenarioIndex).toBe(scenario.steps.length);
  });
});
