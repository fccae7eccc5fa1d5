// Annotations (scenario.annotations) and presenter notes (steps[i].note): which apply at a step, and
// the scenario with one added or removed. Plain functions over the scenario; text stays text.

import type { Scenario, ScenarioAnnotation } from '../../worker/api.ts';

/** Annotations shown at scenario step `step` (0-based; -1 before the first): that step's and the global ones. */
export function annotationsAt(s: Scenario, step: number): ScenarioAnnotation[] {
  return (s.annotations ?? []).filter((a) => a.step === undefined || a.step === step);
}

export function addAnnotation(s: Scenario, a: ScenarioAnnotation): Scenario {
  const text = a.text.trim();
  if (!text) throw new Error('an annotation needs text');
  if (!a.target.trim()) throw new Error('an annotation needs a target (a component id)');
  const clean: ScenarioAnnotation = { target: a.target.trim(), text };
  if (a.step !== undefined) clean.step = a.step;
  return { ...s, annotations: [...(s.annotations ?? []), clean] };
}

export function removeAnnotation(s: Scenario, index: number): Scenario {
  const list = (s.annotations ?? []).filter((_, i) => i !== index);
  const out: Scenario = { ...s, annotations: list };
  if (list.length === 0) delete out.annotations;
  return out;
}

/** The scenario with step `step`'s presenter note set (empty text removes it). */
export function setNote(s: Scenario, step: number, note: string): Scenario {
  if (!s.steps[step]) throw new Error(`the scenario has no step ${step + 1}`);
  const steps = s.steps.map((st, i) => {
    if (i !== step) return st;
    const out = { ...st };
    if (note.trim()) out.note = note;
    else delete out.note;
    return out;
  });
  return { ...s, steps };
}
