// Everything the page can do. Requests to the engine worker are serialized (one at a time, in order)
// so answers never interleave; the answers go into the frame log (frames.ts), and the player
// (player.ts) moves the cursor over them as tokens arrive. What the page shows is the state at the
// cursor: acting on it (a command, a table edit) first cuts the engine back to the cursor.

import type { StoreApi } from 'zustand/vanilla';
import type { Command, DesignGeneration, KernelProfile, TraceEvent } from '../engine/index.ts';
import type { Breakpoint, Scenario, Update } from '../worker/api.ts';
import type { EngineApi } from '../worker/api.ts';
import { describe as describeBp, matches } from '../worker/breakpoints.ts';
import type { AppState, Granularity } from './slices.ts';
import { mergeTrace } from './trace.ts';
import { TRACE_WINDOW } from './slices.ts';
import { DEFAULT_SCENARIO, fetchScenario, fetchScenarioIndex } from './scenarios.ts';
import { FrameLog } from './frames.ts';
import { Player, STEP_PACE, type Pace } from './player.ts';
import { EngineLink, type Journal } from './link.ts';

export type Actions = ReturnType<typeof createActions>;

const TERMINAL = new Set(['delivered', 'dropped', 'pending', 'coalesced']);
/** A command's hops play one after another, all of them within this long. */
const COMMAND_MS = 3000;
const TICKS_PER_SECOND = 15;

export function createActions(store: StoreApi<AppState>, link: EngineLink) {
  const { getState: get, setState: set } = store;
  const log = new FrameLog();
  let batchId = 0;
  let bpId = 0;

  // ---- the cursor

  function eventAt(seq: number): TraceEvent | undefined {
    const { trace, tracePage } = get().engine;
    if (trace.length > 0) {
      const e = trace[seq - trace[0].seq];
      if (e) return e;
    }
    if (tracePage) return tracePage.events[seq - tracePage.start];
    return undefined;
  }

  /** Publishes the log's state at `at` as the page's state (and the caption of its scenario step). */
  function setCursor(at: number, frames?: number): void {
    log.moveTo(at, frames);
    const index = log.scenarioIndex();
    set((s) => {
      const { current } = s.scenario;
      const presentation =
        index !== s.scenario.stepIndex
          ? index > 0
            ? {
                ...s.presentation,
                caption: current?.steps[index - 1]?.caption ?? null,
                captionStep: index - 1,
              }
            : { ...s.presentation, caption: current?.description ?? null, captionStep: null }
          : s.presentation;
      return {
        engine: { ...s.engine, state: log.state, fates: log.fates ?? s.engine.fates },
        cursor: {
          ...s.cursor,
          at: Math.max(at, log.min),
          frames: log.appliedCount,
          min: log.min,
          moving: player.busy,
        },
        scenario: { ...s.scenario, stepIndex: index },
        presentation,
      };
    });
  }

  const player: Player = new Player({
    event: eventAt,
    head: () => get().engine.traceLength,
    arrive: (at) => setCursor(at),
    idle: () => {
      set((s) => ({ cursor: { ...s.cursor, moving: false } }));
      if (get().playback.playing) void keepPlaying();
    },
    launch: (e) => {
      if (!get().playback.playing) return true;
      const bp = get().playback.breakpoints.find((b) => matches(b, e));
      if (!bp) return true;
      set((s) => ({
        playback: { ...s.playback, playing: false },
        cursor: { ...s.cursor, hit: { seq: e.seq, bp: describeBp(bp) } },
      }));
      return false;
    },
    starved: () => {
      if (get().playback.playing) void keepPlaying();
    },
  });

  function commandPace(n: number): Pace {
    const spacing = Math.min(STEP_PACE.spacingMs, COMMAND_MS / Math.max(1, n));
    return { hopMs: Math.max(120, Math.min(STEP_PACE.hopMs, spacing * 1.6)), spacingMs: spacing };
  }

  /** Playing: one wave of hops (every interrupt's next hop) per 1/speed s, each token taking as long. */
  function playPace(): Pace {
    const spacing = 1000 / get().playback.speed;
    return { hopMs: Math.max(60, Math.min(600, spacing)), spacingMs: spacing };
  }
  /** Events asked of the engine per request while playing: grows while a storm's wave is still one
   * virtual time (a wave of 5,000 interrupts needs 5,000 events before it can leave). */
  let chunk = 256;
  const MAX_CHUNK = TRACE_WINDOW - 1000;

  /** Plays the hops from the cursor (or what is in flight) to trace position `to`. */
  function playTo(to: number, pace?: Pace): void {
    const n = to - player.end;
    player.playTo(to, pace ?? commandPace(n));
    set((s) => ({ cursor: { ...s.cursor, moving: player.busy } }));
  }

  /** Puts the cursor at `at` at once (no token), e.g. Back or a click in the step list. */
  function jump(at: number, frames?: number): void {
    player.jump(Math.max(at, log.min));
    setCursor(at, frames);
  }

  // ---- the worker

  function receive(u: Update): void {
    if (u.rewound) {
      if (u.keepFramesTo === null) log.reset(u.state, u.fates, u.trace.length, u.scenarioIndex);
      else log.truncate(u.keepFramesTo, u.state, u.fates, u.scenarioIndex);
    } else log.append(u.frames, get().cursor.at);
    set((s) => ({
      engine: {
        ...s.engine,
        head: u.state,
        trace: mergeTrace(s.engine.trace, u.trace),
        traceLength: u.trace.length,
        // History replaced (load, reset, Back): an older page may no longer exist as it was.
        tracePage: u.rewound ? null : s.engine.tracePage,
        last: u.result ? { command: u.command, result: u.result } : s.engine.last,
        queued: u.queued,
        idle: u.idle,
        history: u.history,
        batch: { id: ++batchId, events: u.trace.events, animate: !u.rewound },
        error: null,
      },
    }));
    if (u.rewound) jump(u.trace.length);
    else setCursor(get().cursor.at);
  }

  function request(
    call: (c: EngineApi) => Promise<Update> | Update,
    journal?: Journal,
  ): Promise<Update | null> {
    return link.request(call, journal).then((u) => {
      if (u) receive(u);
      return u;
    });
  }

  link.onBusy = (busy) => set((s) => ({ engine: { ...s.engine, busy } }));
  link.onError = (message) => set((s) => ({ engine: { ...s.engine, error: message } }));
  link.onRestart = (note, workers) => set((s) => ({ engine: { ...s.engine, workerNote: note, workers } }));
  link.onRestored = (u) => receive(u);
  link.cursor = () => get().cursor.at;

  /**
   * Before acting on what the page shows: a command's hops still playing finish at once (a new command
   * comes after the one playing), and an engine that ran ahead of the cursor is cut back to it.
   */
  async function atCursor(): Promise<void> {
    if (get().playback.playing) set((s) => ({ playback: { ...s.playback, playing: false } }));
    if (player.busy) jump(player.goal);
    const at = get().cursor.at;
    player.jump(at);
    set((s) => ({ cursor: { ...s.cursor, moving: false, hit: null } }));
    if (get().engine.traceLength > at || log.firstAfter(at) < log.length)
      await request((c) => c.truncate(at), { kind: 'truncate', at });
  }

  async function load(file: string): Promise<void> {
    pause();
    try {
      await show(file, await fetchScenario(file));
    } catch (err) {
      set((s) => ({ engine: { ...s.engine, error: String(err) } }));
    }
  }

  /** Puts a scenario (already validated) on the page: `file` names it in the picker. */
  function show(file: string, current: Scenario): Promise<Update | null> {
    set((s) => ({
      scenario: { ...s.scenario, file, current, stepIndex: 0 },
      presentation: { ...s.presentation, caption: current.description ?? null, captionStep: null },
      selection: { node: null, irq: null, event: null },
      engine: { ...s.engine, trace: [], tracePage: null, last: null },
    }));
    return reload();
  }

  function reload(): Promise<Update | null> {
    const { current, profile, design } = get().scenario;
    if (!current) return Promise.resolve(null);
    player.jump(0);
    set((s) => ({
      engine: { ...s.engine, trace: [] },
      presentation: { ...s.presentation, caption: current.description ?? null, captionStep: null },
      cursor: { ...s.cursor, hit: null },
    }));
    const overrides = { profile: profile ?? undefined, design: design ?? undefined };
    return request((c) => c.load(current, overrides), { kind: 'load', scenario: current, overrides });
  }

  function pause(): void {
    if (get().playback.playing) set((s) => ({ playback: { ...s.playback, playing: false } }));
    player.stop();
  }

  // ---- Step and Back by granularity

  /** Where Step by `g` goes from `at`, within what the page holds (null: ask the engine). */
  function stepTarget(at: number, g: Granularity): number | null {
    const head = get().engine.traceLength;
    if (at >= head) return null;
    if (g === 'hop') return at + 1;
    if (g === 'command') return log.endOfGroupAfter(at) ?? head;
    const first = eventAt(at);
    if (!first || first.irq === 0) return log.endOfGroupAfter(at) ?? at + 1;
    for (let k = at; k < head; k++) {
      const e = eventAt(k);
      if (e && e.irq === first.irq && TERMINAL.has(e.outcome)) return k + 1;
    }
    return null;
  }

  function backTarget(at: number, g: Granularity): { at: number; frames?: number } {
    if (g === 'hop') return { at: at - 1 };
    if (g === 'command') return log.startOfGroupAt(at);
    const last = eventAt(at - 1);
    if (!last || last.irq === 0) return log.startOfGroupAt(at);
    // Back to where this interrupt's journey (since its last stop) began.
    let first = at - 1;
    for (let k = at - 2; k >= log.min; k--) {
      const e = eventAt(k);
      if (!e) break;
      if (e.irq !== last.irq) continue;
      if (TERMINAL.has(e.outcome)) break;
      first = k;
    }
    return { at: first };
  }

  async function step(): Promise<void> {
    if (player.busy) {
      // A command's hops still playing: Step stops them where they are, then moves one on.
      player.stop();
    }
    const g = get().cursor.granularity;
    const at = player.end;
    let to = stepTarget(at, g);
    if (to === null) {
      if (get().engine.idle) {
        if (at < get().engine.traceLength) playTo(get().engine.traceLength);
        return;
      }
      const irq = eventAt(at - 1)?.irq ?? 0;
      if (g === 'hop') await request((c) => c.step(), { kind: 'step' });
      else if (g === 'interrupt' && irq !== 0) {
        const bps: Breakpoint[] = [...TERMINAL].map((o, i) => ({ id: -1 - i, irq, outcome: o as never }));
        await request((c) => c.run({ maxEvents: 10_000, breakpoints: bps }), {
          kind: 'run',
          opts: { maxEvents: 10_000, breakpoints: bps },
        });
      } else
        await request((c) => c.run({ maxEvents: 100_000 }), { kind: 'run', opts: { maxEvents: 100_000 } });
      to = stepTarget(at, g) ?? get().engine.traceLength;
    }
    playTo(to, g === 'hop' ? STEP_PACE : undefined);
  }

  async function back(): Promise<void> {
    pause();
    const at = player.busy ? player.end : get().cursor.at;
    player.jump(get().cursor.at);
    const cur = get().cursor.at;
    if (at !== cur) {
      // Tokens were in flight: Back lands them where they were headed from, i.e. stays at the cursor.
      setCursor(cur);
      return;
    }
    const to = backTarget(cur, get().cursor.granularity);
    const moves = to.at < cur || (to.frames !== undefined && to.frames < log.appliedCount);
    if (to.at >= log.min && moves) {
      jump(to.at, to.frames);
      return;
    }
    // Before what the page holds: the engine undoes its last operation (restore + replay).
    await atCursor();
    await request((c) => c.back(), { kind: 'back' });
  }

  // ---- playing

  async function keepPlaying(): Promise<void> {
    const s = get();
    if (!s.playback.playing) return;
    const head = s.engine.traceLength;
    if (player.end < head) {
      playTo(Number.MAX_SAFE_INTEGER, playPace());
      return;
    }
    if (link.pending > 0) return;
    if (!s.engine.idle) {
      const perTick = Math.max(1, Math.round(s.playback.speed / TICKS_PER_SECOND));
      // At least as many as are queued (a storm's next wave is every queued interrupt's next hop), at
      // most what the page's trace window keeps, or hops would leave the window before their token.
      const want = Math.min(MAX_CHUNK, Math.max(perTick, chunk, s.engine.queued));
      const opts = { maxEvents: want, breakpoints: s.playback.breakpoints };
      const u = await request((c) => c.run(opts), { kind: 'run', opts });
      const ev = u?.trace.events ?? [];
      const oneTime = ev.length > 1 && ev[0].time === ev[ev.length - 1].time;
      chunk = oneTime ? Math.min(chunk * 4, MAX_CHUNK) : Math.max(256, chunk >> 1);
      if (get().engine.traceLength > player.end) playTo(Number.MAX_SAFE_INTEGER, playPace());
      else if (get().engine.idle) void keepPlaying();
      return;
    }
    // The engine has nothing more: let the hops already scheduled play; the player's idle comes back here.
    if (player.busy) return;
    const { current, stepIndex } = get().scenario;
    const steps = current?.steps ?? [];
    if (s.playback.mode === 'scenario' && stepIndex < steps.length) {
      const prev = steps[stepIndex - 1];
      if (
        stepIndex > 0 &&
        s.playback.stopAtExpect &&
        prev?.expect !== undefined &&
        s.cursor.moving === false
      ) {
        // Stopped after a step with an expectation, so the presenter can check it; Play again goes on.
        if (stoppedAt !== stepIndex) {
          stoppedAt = stepIndex;
          pause();
          return;
        }
      }
      stoppedAt = -1;
      await applyNext();
      playTo(Number.MAX_SAFE_INTEGER, playPace());
      return;
    }
    pause();
  }
  let stoppedAt = -1;

  /** The cursor to the end of scenario step `i` (the step list); steps not applied yet are applied. */
  async function seekStep(i: number): Promise<void> {
    pause();
    const end = log.endOfScenarioStepFrames(i);
    if (end !== null && end.at >= log.min) {
      jump(end.at, end.frames);
      return;
    }
    if (i < 0) {
      jump(log.min);
      return;
    }
    await atCursor();
    while (get().scenario.stepIndex <= i) {
      const before = get().scenario.stepIndex;
      const u = await applyNext();
      if (!u) break;
      jump(get().engine.traceLength);
      if (get().scenario.stepIndex === before) break;
    }
  }

  /**
   * A new profile or design keeps the user's place: the scenario reloads under it and replays to the
   * same scenario step (the engine is deterministic; the hops may differ, the step is the same).
   */
  async function reloadKeepingPlace(): Promise<Update | null> {
    const steps = get().scenario.stepIndex;
    const u = await reload();
    if (u && steps > 0) await seekStep(steps - 1);
    return u;
  }

  async function applyNext(): Promise<Update | null> {
    const { current, stepIndex } = get().scenario;
    const step = current?.steps[stepIndex];
    if (step)
      set((s) => ({
        presentation: { ...s.presentation, caption: step.caption ?? null, captionStep: stepIndex },
      }));
    set((s) => ({ engine: { ...s.engine, workerNote: null } }));
    return request((c) => c.applyNextStep(), { kind: 'next' });
  }

  return {
    /**
     * Loads the library index and the scenario named in `?scenario=`, else the default one; with
     * `load: false` only the index (the page opens a shared link or the session it had instead).
     */
    async init(opts: { load?: boolean } = {}): Promise<void> {
      const param = new URLSearchParams(location.search).get('scenario');
      let first = DEFAULT_SCENARIO;
      try {
        const index = await fetchScenarioIndex();
        first = index.defaultFile ?? first;
        set((s) => ({ scenario: { ...s.scenario, list: index.list } }));
      } catch (err) {
        set((s) => ({ engine: { ...s.engine, error: `scenario index: ${String(err)}` } }));
      }
      if (opts.load === false) return;
      // ?scenario=NAME: a library name as the page shows it (its file is NAME.json), or a file or URL
      await load(param === null ? first : /[./]/.test(param) ? param : `${param}.json`);
    },
    load,
    /**
     * A scenario the page already holds (a file, a link, the user's library), with the pickers' profile
     * and design (null: the scenario's own); `file` names it in the scenario picker.
     */
    loadScenario(
      scenario: Scenario,
      file: string,
      overrides: { profile?: KernelProfile | null; design?: DesignGeneration | null } = {},
    ): Promise<Update | null> {
      pause();
      set((s) => ({
        scenario: { ...s.scenario, profile: overrides.profile ?? null, design: overrides.design ?? null },
      }));
      return show(file, scenario);
    },
    setProfile(profile: KernelProfile): Promise<Update | null> {
      pause();
      set((s) => ({ scenario: { ...s.scenario, profile } }));
      return reloadKeepingPlace();
    },
    setDesign(design: DesignGeneration): Promise<Update | null> {
      pause();
      set((s) => ({ scenario: { ...s.scenario, design } }));
      return reloadKeepingPlace();
    },
    step,
    back,
    reset(): Promise<Update | null> {
      pause();
      return reload();
    },
    /** A command from the palette or an inspector table, applied to the state the page shows. */
    async apply(cmd: Command): Promise<Update | null> {
      await atCursor();
      set((s) => ({ engine: { ...s.engine, workerNote: null } }));
      const u = await request((c) => c.apply(cmd), { kind: 'apply', cmd });
      playTo(get().engine.traceLength);
      return u;
    },
    /** "Do next command": the scenario's next step, with its caption, its hops played. */
    async nextStep(): Promise<Update | null> {
      await atCursor();
      const u = await applyNext();
      playTo(get().engine.traceLength);
      return u;
    },
    /** Run (mode run): the queued events; Play scenario (mode scenario): the scenario's steps too. */
    play(mode: 'run' | 'scenario' = 'run'): void {
      if (get().playback.playing) return;
      set((s) => ({ playback: { ...s.playback, playing: true, mode }, cursor: { ...s.cursor, hit: null } }));
      void keepPlaying();
    },
    pause,
    setSpeed(speed: number): void {
      set((s) => ({ playback: { ...s.playback, speed } }));
    },
    setGranularity(granularity: Granularity): void {
      set((s) => ({ cursor: { ...s.cursor, granularity } }));
    },
    setStopAtExpect(stopAtExpect: boolean): void {
      set((s) => ({ playback: { ...s.playback, stopAtExpect } }));
    },
    addBreakpoint(bp: Omit<Breakpoint, 'id'>): void {
      set((s) => ({
        playback: { ...s.playback, breakpoints: [...s.playback.breakpoints, { ...bp, id: ++bpId }] },
      }));
    },
    removeBreakpoint(id: number): void {
      set((s) => ({
        playback: { ...s.playback, breakpoints: s.playback.breakpoints.filter((b) => b.id !== id) },
      }));
    },
    /** Moves the cursor to trace position `at` (a step in the list, a point on the timeline). */
    seek(at: number): void {
      pause();
      jump(Math.min(at, get().engine.traceLength));
    },
    /** The cursor to the end of scenario step `i` (the step list); steps not applied yet are applied. */
    seekStep,
    /** How many of the scenario's steps the engine has applied (the cursor may stand before them). */
    appliedSteps(): number {
      return log.headScenarioIndex();
    },
    /**
     * Replaces the loaded scenario's document without reloading the engine: for presenter notes and
     * annotations, which change no behaviour (src/ui/review). The steps' commands must stay as they are.
     */
    editScenario(f: (s: Scenario) => Scenario): void {
      const cur = get().scenario.current;
      if (!cur) return;
      const next = f(cur);
      if (
        JSON.stringify(next.steps.map((st) => st.command)) !==
        JSON.stringify(cur.steps.map((st) => st.command))
      )
        throw new Error('editScenario: only notes and annotations may change, not the commands');
      set((s) => ({ scenario: { ...s.scenario, current: next } }));
    },
    selectNode(node: string | null): void {
      set((s) => ({ selection: { ...s.selection, node } }));
    },
    /**
     * Shows the page of the trace that starts at `start` (TRACE_WINDOW events, from the worker), or the
     * newest events again with null. A page that reaches the newest window is the newest window.
     */
    async tracePage(start: number | null): Promise<void> {
      const { trace, traceLength } = get().engine;
      const liveFirst = trace.length > 0 ? trace[0].seq : traceLength;
      if (start === null || start >= liveFirst) {
        set((s) => ({ engine: { ...s.engine, tracePage: null } }));
        return;
      }
      const from = Math.max(0, start);
      const end = Math.min(from + TRACE_WINDOW, liveFirst, traceLength);
      const events = await link.query((c) => c.trace(from, end));
      if (events) set((s) => ({ engine: { ...s.engine, tracePage: { start: from, events } } }));
    },
    selectEvent(seq: number | null, irq: number | null): void {
      set((s) => ({ selection: { ...s.selection, event: seq, irq } }));
    },
    toggleHelp(show?: boolean): void {
      set((s) => ({ presentation: { ...s.presentation, help: show ?? !s.presentation.help } }));
    },
    setTheme(theme: 'light' | 'dark'): void {
      set((s) => ({ presentation: { ...s.presentation, theme } }));
    },
    /** The tokens in flight, for the diagram (read every animation frame). */
    player,
    /** Kills the engine worker (tests and the console: the page must notice and recover). */
    killWorker(): void {
      link.kill();
    },
  };
}
