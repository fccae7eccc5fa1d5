// The worker's narrow, typed interface: what the page may ask the engine and what comes back.
// Everything crossing it is plain data (structured clone); the engine's objects never leave the worker.

import type {
  Command,
  CommandResult,
  CostModel,
  DesignGeneration,
  Fate,
  Json,
  KernelProfile,
  RunOptions,
  Snapshot,
  SystemState,
  Topology,
  TraceEvent,
} from '../engine/index.ts';

/** One step of a scenario file (public/scenarios/*.json). */
export interface ScenarioStep {
  command: Command;
  expect?: Json;
  caption?: string;
}

/** A scenario file, format 1 (DESIGN.md, "Scenarios"). */
export interface Scenario {
  format: 1;
  name: string;
  title?: string;
  description?: string;
  /** What of this scenario the real kernel checked (oracle fixtures). */
  verified?: { kernels: KernelProfile[]; scripts: string[]; note: string };
  topology: Topology;
  options?: { seed?: number; cost?: Partial<CostModel> };
  steps: ScenarioStep[];
}

/** Changes the page makes to a scenario's topology before loading it (the profile and design pickers). */
export interface LoadOverrides {
  profile?: KernelProfile;
  design?: DesignGeneration;
}

/** The trace now holds `length` events; `events` are those from index `start` on (older ones unchanged). */
export interface TraceChunk {
  start: number;
  length: number;
  events: TraceEvent[];
}

/** What every call answers: the result of a command if there was one, new trace events, derived state. */
export interface Update {
  result: CommandResult | null;
  /** The command the result answers (a scenario step or a palette command). */
  command: Command | null;
  trace: TraceChunk;
  state: SystemState;
  /** Interrupts by fate (conservation: raised = in-flight + pending + delivered + coalesced + dropped). */
  fates: Record<Fate, number>;
  /** Events waiting in the engine's queue. */
  queued: number;
  idle: boolean;
  /** Operations since load that Back can undo. */
  history: number;
  /** Index of the next scenario step to apply (== steps.length when all are done). */
  scenarioIndex: number;
  /** True when this update replaced history (load, reset, back): the page must not animate it. */
  rewound: boolean;
}

export interface EngineApi {
  /** Builds a fresh system from the scenario's topology (with overrides) and options. */
  load(scenario: Scenario, overrides?: LoadOverrides): Update;
  /** Applies one command (from the palette). */
  apply(cmd: Command): Update;
  /** Applies the scenario's next step command. */
  applyNextStep(): Update;
  /** Advances one queued event. */
  step(): Update;
  /** Advances queued events until idle, `until` (virtual ns) or `maxEvents` queued events. */
  run(opts: RunOptions): Update;
  /** Undoes the last operation (a step or a command): restore a checkpoint, replay the rest. */
  back(): Update;
  /** Reloads the current scenario from scratch. */
  reset(): Update;
  snapshot(): Snapshot;
  trace(start: number, end: number): TraceEvent[];
}

/** At most this many events travel in one update; the page keeps a window of the newest ones. */
export const MAX_EVENTS_PER_UPDATE = 5000;
