// The frame log moves the page's state to any trace position: forwards and backwards it must land on
// exactly the state the engine had after each operation.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Session } from '../worker/session.ts';
import type { Scenario, Update } from '../worker/api.ts';
import { FrameLog } from './frames.ts';

const scenario = JSON.parse(readFileSync('e2e/fixtures/msix-small.json', 'utf8')) as Scenario;

function played(): { log: FrameLog; states: Map<number, Update['state']>; last: Update } {
  const s = new Session();
  const first = s.load(scenario);
  const log = new FrameLog();
  log.reset(first.state, first.fates, first.trace.length, 0);
  const states = new Map<number, Update['state']>([[first.trace.length, first.state]]);
  for (let i = 0; i < scenario.steps.length; i++) {
    const u = s.applyNextStep();
    log.append(u.frames, 0);
    states.set(u.trace.length, u.state);
  }
  const last = s.apply({ op: 'run' });
  log.append(last.frames, 0);
  return { log, states, last };
}

describe('FrameLog', () => {
  it('reaches the engine state at the end, and the state before the run when going back', () => {
    const { log, last } = played();
    log.moveTo(last.trace.length);
    expect(log.state).toEqual(last.state);
    expect(log.fates).toEqual(last.fates);
    log.moveTo(0);
    log.moveTo(last.trace.length);
    expect(log.state).toEqual(last.state);
  });

  it('back one hop at a time and forward again gives the same state at every position', () => {
    const { log, last } = played();
    const end = last.trace.length;
    const seen: string[] = [];
    for (let at = end; at >= 0; at--) {
      log.moveTo(at);
      seen[at] = JSON.stringify(log.state);
    }
    for (let at = 0; at <= end; at++) {
      log.moveTo(at);
      expect(JSON.stringify(log.state)).toBe(seen[at]);
    }
  });

  it('Back by command goes to where the command before ended', () => {
    const { log, last } = played();
    log.moveTo(last.trace.length);
    const start = log.startOfGroupAt(last.trace.length);
    expect(start.at).toBeLessThan(last.trace.length);
    log.moveTo(start.at, start.frames);
    // The scenario's steps are applied, the run's hops are not.
    expect(log.scenarioIndex()).toBe(scenario.steps.length);
    expect(log.state?.counters.delivered).toBe(0);
  });

  it('counts the steps applied at the head wherever the cursor stands (a reload applies them again)', () => {
    const { log } = played();
    log.moveTo(0);
    expect(log.scenarioIndex()).toBe(0);
    expect(log.headScenarioIndex()).toBe(scenario.steps.length);
  });
});

describe('FrameLog.endOfScenarioStepFrames', () => {
  it('stands at each step, also where the next step recorded no hop at the same position', () => {
    const sc = JSON.parse(readFileSync('public/scenarios/msix-direct.json', 'utf8')) as Scenario;
    const s = new Session();
    const first = s.load(sc);
    const log = new FrameLog();
    log.reset(first.state, first.fates, first.trace.length, 0);
    for (let i = 0; i < sc.steps.length; i++) log.append(s.applyNextStep().frames, 0);
    let shared = 0;
    for (let i = 0; i < sc.steps.length; i++) {
      const end = log.endOfScenarioStepFrames(i)!;
      if (i + 1 < sc.steps.length && log.endOfScenarioStep(i + 1) === end.at) shared++;
      log.moveTo(end.at, end.frames);
      expect(log.scenarioIndex(), `step ${i + 1}`).toBe(i + 1);
    }
    // the scenario has such a step, or the test would not test it
    expect(shared).toBeGreaterThan(0);
  });
});
