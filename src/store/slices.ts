// The store's shape, one slice per concern. Slices hold data only; everything that talks to the
// worker lives in actions.ts, so components read slices and call actions, never mutate engine state.

import type {
  Command,
  CommandResult,
  DesignGeneration,
  Fate,
  KernelProfile,
  SystemState,
  TraceEvent,
} from '../engine/index.ts';
import type { Breakpoint, Scenario } from '../worker/api.ts';

/**
 * A mirror of what the engine answered, seen through the playback cursor: `state` and `fates` are the
 * state at the cursor (frames.ts); `trace` holds events past the cursor too, which the page has not
 * revealed yet; `traceLength`, `idle`, `queued`, `history` describe the engine's head.
 */
export interface EngineSlice {
  state: SystemState | null;
  /** The engine's own state (at the head of the trace), ahead of the cursor while tokens play. */
  head: SystemState | null;
  /** The newest events of the trace (at most TRACE_WINDOW), oldest first; `trace[i].seq` is its index. */
  trace: TraceEvent[];
  traceLength: number;
  /**
   * An older page of the trace the user paged back to (fetched from the worker with `trace(start,
   * end)`), shown instead of the newest window; null follows the newest events.
   */
  tracePage: { start: number; events: TraceEvent[] } | null;
  last: { command: Command | null; result: CommandResult } | null;
  fates: Record<Fate, number>;
  queued: number;
  idle: boolean;
  history: number;
  /** The events of the last answer, for the diagram to animate; a new object per answer. */
  batch: { id: number; events: TraceEvent[]; animate: boolean };
  busy: boolean;
  /** A worker or fetch failure (not an errno: those are results). */
  error: string | null;
  /** The engine worker died and was replaced: what happened, shown until the next command. */
  workerNote: string | null;
  /** Workers started so far (1 normally; a restart adds one). */
  workers: number;
}

export type Granularity = 'hop' | 'interrupt' | 'command';

/** The playback cursor: how far into the trace the page shows (frames.ts, player.ts). */
export interface CursorSlice {
  /** Trace events passed: the page shows the state after event `at - 1`. */
  at: number;
  /** Frames applied at the cursor: two commands can end at one trace position (one recorded no hop). */
  frames: number;
  /** The lowest position the page can go back to without asking the engine. */
  min: number;
  granularity: Granularity;
  /** Tokens are in flight or about to leave. */
  moving: boolean;
  /** The hop a breakpoint stopped at. */
  hit: { seq: number; bp: string } | null;
}

export interface PlaybackSlice {
  playing: boolean;
  /** Run plays the queued events; scenario also applies the scenario's next steps when idle. */
  mode: 'run' | 'scenario';
  /** Queued events per second while playing. */
  speed: number;
  /** Play scenario stops after a step that has an expectation. */
  stopAtExpect: boolean;
  breakpoints: Breakpoint[];
}

export interface SelectionSlice {
  /** A diagram node id (`msix:nic0`, `iommu`, `lapic:0`, ...). */
  node: string | null;
  /** An interrupt id, highlighted in the trace and the diagram. */
  irq: number | null;
  /** A trace event's seq. */
  event: number | null;
}

export interface ScenarioEntry {
  file: string;
  name: string;
  description: string;
}

export interface ScenarioSlice {
  list: ScenarioEntry[];
  file: string | null;
  current: Scenario | null;
  /** The next step of `current.steps` that "Do next command" applies. */
  stepIndex: number;
  /** Overrides chosen in the pickers; null = the scenario's own value. */
  profile: KernelProfile | null;
  design: DesignGeneration | null;
}

export interface PresentationSlice {
  caption: string | null;
  /** The `?` overlay listing the shortcuts. */
  help: boolean;
  theme: 'light' | 'dark' | null;
  /** The scenario step the caption belongs to (0-based). */
  captionStep: number | null;
}

export interface AppState {
  engine: EngineSlice;
  cursor: CursorSlice;
  playback: PlaybackSlice;
  selection: SelectionSlice;
  scenario: ScenarioSlice;
  presentation: PresentationSlice;
}

export const TRACE_WINDOW = 5000;

export const SPEEDS: readonly number[] = [2, 10, 50, 250, 1000, 5000];

export function initialState(): AppState {
  return {
    engine: {
      state: null,
      head: null,
      trace: [],
      traceLength: 0,
      tracePage: null,
      last: null,
      fates: { 'in-flight': 0, pending: 0, delivered: 0, coalesced: 0, dropped: 0 },
      queued: 0,
      idle: true,
      history: 0,
      batch: { id: 0, events: [], animate: false },
      busy: false,
      error: null,
      workerNote: null,
      workers: 0,
    },
    cursor: { at: 0, frames: 0, min: 0, granularity: 'hop', moving: false, hit: null },
    playback: { playing: false, mode: 'run', speed: 10, stopAtExpect: true, breakpoints: [] },
    selection: { node: null, irq: null, event: null },
    scenario: { list: [], file: null, current: null, stepIndex: 0, profile: null, design: null },
    presentation: { caption: null, captionStep: null, help: false, theme: null },
  };
}
