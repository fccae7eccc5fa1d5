// Everything the page can do: each action sends one request to the engine worker and puts the answer
// in the store. Requests are serialized (one at a time, in order) so answers never interleave.

import type { StoreApi } from 'zustand/vanilla';
import type { Command, DesignGeneration, KernelProfile } from '../engine/index.ts';
import type { EngineClient, Update } from '../worker/client.ts';
import type { AppState } from './slices.ts';
import { mergeTrace } from './trace.ts';
import { TRACE_WINDOW } from './slices.ts';
import { DEFAULT_SCENARIO, fetchScenario, fetchScenarioIndex } from './scenarios.ts';
import { startPlayback } from './playback.ts';

export type Actions = ReturnType<typeof createActions>;

export function createActions(store: StoreApi<AppState>, client: () => EngineClient) {
  const { getState: get, setState: set } = store;
  let queue: Promise<unknown> = Promise.resolve();
  let batchId = 0;

  /** Runs one worker request after the previous one; the answer goes into the store. */
  function request(call: (c: EngineClient) => Promise<Update>): Promise<Update | null> {
    const next = queue.then(async () => {
      set((s) => ({ engine: { ...s.engine, busy: true } }));
      try {
        const u = await call(client());
        receive(u);
        return u;
      } catch (err) {
        set((s) => ({ engine: { ...s.engine, busy: false, error: String(err) } }));
        return null;
      }
    });
    queue = next;
    return next;
  }

  function receive(u: Update): void {
    set((s) => ({
      engine: {
        state: u.state,
        trace: mergeTrace(s.engine.trace, u.trace),
        traceLength: u.trace.length,
        // History replaced (load, reset, Back): an older page may no longer exist as it was.
        tracePage: u.rewound ? null : s.engine.tracePage,
        last: u.result ? { command: u.command, result: u.result } : s.engine.last,
        fates: u.fates,
        queued: u.queued,
        idle: u.idle,
        history: u.history,
        batch: { id: ++batchId, events: u.trace.events, animate: !u.rewound },
        busy: false,
        error: null,
      },
      scenario: { ...s.scenario, stepIndex: u.scenarioIndex },
    }));
  }

  async function load(file: string): Promise<void> {
    pause();
    try {
      const current = await fetchScenario(file);
      set((s) => ({
        scenario: { ...s.scenario, file, current, stepIndex: 0 },
        presentation: { caption: current.description ?? null, captionStep: null },
        selection: { node: null, irq: null, event: null },
        engine: { ...s.engine, trace: [], tracePage: null, last: null },
      }));
      await reload();
    } catch (err) {
      set((s) => ({ engine: { ...s.engine, error: String(err) } }));
    }
  }

  function reload(): Promise<Update | null> {
    const { current, profile, design } = get().scenario;
    if (!current) return Promise.resolve(null);
    // Back at the start of the scenario: the caption of a step applied before is no longer true.
    set((s) => ({
      engine: { ...s.engine, trace: [] },
      presentation: { caption: current.description ?? null, captionStep: null },
    }));
    return request((c) => c.load(current, { profile: profile ?? undefined, design: design ?? undefined }));
  }

  function pause(): void {
    if (get().playback.playing) set((s) => ({ playback: { ...s.playback, playing: false } }));
  }

  return {
    /** Loads the library index and the scenario named in `?scenario=`, else the default one. */
    async init(): Promise<void> {
      const param = new URLSearchParams(location.search).get('scenario');
      let first = DEFAULT_SCENARIO;
      try {
        const index = await fetchScenarioIndex();
        first = index.defaultFile ?? first;
        set((s) => ({ scenario: { ...s.scenario, list: index.list } }));
      } catch (err) {
        set((s) => ({ engine: { ...s.engine, error: `scenario index: ${String(err)}` } }));
      }
      await load(param ?? first);
    },
    load,
    setProfile(profile: KernelProfile): Promise<Update | null> {
      pause();
      set((s) => ({ scenario: { ...s.scenario, profile } }));
      return reload();
    },
    setDesign(design: DesignGeneration): Promise<Update | null> {
      pause();
      set((s) => ({ scenario: { ...s.scenario, design } }));
      return reload();
    },
    step: () => request((c) => c.step()),
    async back(): Promise<Update | null> {
      pause();
      const u = await request((c) => c.back());
      // Back undid a scenario step: caption the step before it (or the scenario) instead.
      const { captionStep } = get().presentation;
      if (u && captionStep !== null && captionStep >= u.scenarioIndex) {
        const { current } = get().scenario;
        const i = u.scenarioIndex - 1;
        set({
          presentation:
            i >= 0
              ? { caption: current?.steps[i]?.caption ?? null, captionStep: i }
              : { caption: current?.description ?? null, captionStep: null },
        });
      }
      return u;
    },
    reset(): Promise<Update | null> {
      pause();
      set((s) => ({ presentation: { ...s.presentation, caption: null, captionStep: null } }));
      return request((c) => c.reset());
    },
    apply: (cmd: Command) => request((c) => c.apply(cmd)),
    /** "Do next command": the scenario's next step, with its caption. */
    nextStep(): Promise<Update | null> {
      const { current, stepIndex } = get().scenario;
      const step = current?.steps[stepIndex];
      if (step) set({ presentation: { caption: step.caption ?? null, captionStep: stepIndex } });
      return request((c) => c.applyNextStep());
    },
    play(): void {
      if (get().playback.playing) return;
      set((s) => ({ playback: { ...s.playback, playing: true } }));
      void startPlayback(store, (maxEvents) => request((c) => c.run({ maxEvents })));
    },
    pause,
    setSpeed(speed: number): void {
      set((s) => ({ playback: { ...s.playback, speed } }));
    },
    selectNode(node: string | null): void {
      set((s) => ({ selection: { ...s.selection, node } }));
    },
    /**
     * Shows the page of the trace that starts at `start` (TRACE_WINDOW events, from the worker), or the
     * newest events again with null. A page that reaches the newest window is the newest window.
     */
    tracePage(start: number | null): Promise<void> {
      const next = queue.then(async () => {
        const { trace, traceLength } = get().engine;
        const liveFirst = trace.length > 0 ? trace[0].seq : traceLength;
        if (start === null || start >= liveFirst) {
          set((s) => ({ engine: { ...s.engine, tracePage: null } }));
          return;
        }
        const from = Math.max(0, start);
        const end = Math.min(from + TRACE_WINDOW, liveFirst, traceLength);
        try {
          const events = await client().trace(from, end);
          set((s) => ({ engine: { ...s.engine, tracePage: { start: from, events } } }));
        } catch (err) {
          set((s) => ({ engine: { ...s.engine, error: String(err) } }));
        }
      });
      queue = next;
      return next;
    },
    selectEvent(seq: number | null, irq: number | null): void {
      set((s) => ({ selection: { ...s.selection, event: seq, irq } }));
    },
  };
}
