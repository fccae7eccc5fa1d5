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
  TraceOutcome,
  TracePath,
} from '../engine/index.ts';
import type { Change } from './diff.ts';

/** One step of a scenario file (public/scenarios/*.json). */
export interface ScenarioStep {
  command: Command;
  expect?: Json;
  caption?: string;
  /** Presenter note (scenario/schema.ts). */
  note?: string;
}

/** A reviewer's note on a component, at one step or all (scenario/schema.ts: annotationSchema). */
export interface ScenarioAnnotation {
  step?: number;
  target: string;
  text: string;
}

/** A scenario file as parsed (DESIGN.md, "Scenarios"; src/engine/scenario/schema.ts is the definition). */
export interface Scenario {
  format: number;
  name: string;
  title?: string;
  description?: string;
  /** What of this scenario the real kernel checked (oracle fixtures). */
  verified?: { kernels: KernelProfile[]; scripts: string[]; note: string };
  topology: Topology;
  options?: { seed?: number; cost?: Partial<CostModel> };
  steps: ScenarioStep[];
  annotations?: ScenarioAnnotation[];
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

/**
 * The state after one operation (a command, or one queued event), as the change from the frame before
 * (diff.ts). The page moves its cursor over frames: forwards it applies `changes`, backwards their old
 * values, so what it shows is the state after the last hop the cursor passed (docs/design.md).
 */
export interface Frame {
  /** Trace length after the operation: the frame belongs to the hop `at - 1` (its last hop). */
  at: number;
  changes: Change[];
  /** Interrupts by fate after the operation. */
  fates: Record<Fate, number>;
  /** Which user request made it (a command with its `run`, one Step, one batch of Run): the Step-by-command unit. */
  group: number;
  /** The scenario step applied by this operation's request, if it came from the scenario. */
  scenarioStep?: number;
  /** A command (not a queued event) and what it answered: a failed one is shown at its trace row. */
  command?: Command;
  result?: CommandResult;
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
  /** True when this update replaced history (load, reset, back, truncate): the page must not animate it. */
  rewound: boolean;
  /**
   * The state change of every operation since the last answer, oldest first. After a rewind the page's
   * older frames hold up to trace length `keepFramesTo` (truncate, Back) or not at all (null: load, reset).
   */
  frames: Frame[];
  keepFramesTo: number | null;
  /** Stopped at a breakpoint: the seq of the matching hop. */
  hit: number | null;
  /**
   * A scenario step just applied, checked as the runner checks it (runner.ts, stepFailures): its
   * expectation, or success without one. Absent when no scenario step was applied.
   */
  check?: { step: number; failures: string[] };
}

/** One operation the session applied since load (history.ts), for the page's recorder. */
export type RecordedOp =
  | { kind: 'step' }
  | { kind: 'run'; until: number | null; maxEvents?: number }
  | { kind: 'apply'; cmd: Command; scenarioStep?: number };

/** A scenario run headless in the worker (runner.ts): per step, what failed. */
export interface CheckResult {
  passed: boolean;
  steps: { index: number; op: string; ok: boolean; errno?: string; failures: string[] }[];
}

/** Where Run stops (run until): every field given must match a hop. */
export interface Breakpoint {
  id: number;
  fn?: string;
  /** A diagram node id, or a prefix of one (`vfio:nic0`, `iommu`, `lapic`). */
  node?: string;
  device?: string;
  irq?: number;
  path?: TracePath;
  outcome?: TraceOutcome;
  errno?: string;
}

export interface EngineApi {
  /** Builds a fresh system from the scenario's topology (with overrides) and options. */
  load(scenario: Scenario, overrides?: LoadOverrides): Update;
  /**
   * Loads the scenario and applies its steps 0..`last` (with their runs) in one call, answering as a
   * load does (rewound, the whole trace window): a second engine showing the same step under other
   * overrides (the side-by-side view, the handout). Stops early at the first step that fails.
   */
  loadToStep(scenario: Scenario, overrides: LoadOverrides, last: number): Update;
  /** Applies one command (from the palette). */
  apply(cmd: Command): Update;
  /** Applies the scenario's next step command. */
  applyNextStep(): Update;
  /** Advances one queued event. */
  step(): Update;
  /** Advances queued events until idle, `until` (virtual ns) or `maxEvents` queued events, or a breakpoint hit. */
  run(opts: RunOptions & { breakpoints?: Breakpoint[] }): Update;
  /**
   * Makes the engine's state the one at trace length `at` (a frame boundary the page shows), dropping
   * what came after: the page acts on what it shows, and the engine may have run ahead of it.
   */
  truncate(at: number): Update;
  /** Answers at once: the page's liveness check. */
  ping(): number;
  /** Undoes the last operation (a step or a command): restore a checkpoint, replay the rest. */
  back(): Update;
  /** Reloads the current scenario from scratch. */
  reset(): Update;
  snapshot(): Snapshot;
  trace(start: number, end: number): TraceEvent[];
  /** The operations applied since load, in order (what the page's recorder turns into steps). */
  ops(): RecordedOp[];
  /** Runs a scenario headless on a fresh system, as `irqflow run` does; the loaded session is untouched. */
  check(scenario: Scenario): CheckResult;
  /** The whole trace since load in the Chrome trace event format (chrome-trace.ts), for Perfetto. */
  chromeTrace(): string;
}

/** At most this many events travel in one update; the page keeps a window of the newest ones. */
export const MAX_EVENTS_PER_UPDATE = 5000;
