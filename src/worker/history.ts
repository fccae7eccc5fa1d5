// Time travel for the worker: a log of the operations applied since load, plus snapshots taken every
// CHECKPOINT_EVERY operations. Going back = restore the nearest checkpoint, replay the log up to the
// target (the engine is deterministic, DESIGN.md "The engine contract"). Old checkpoints are thinned
// so a long run keeps a bounded number of snapshots; going far back just replays more.

import type { Command, Snapshot } from '../engine/index.ts';

export type Op =
  /** One queued event advanced. */
  | { kind: 'step' }
  /** A run bounded by virtual time (it may move the clock without an event, so it is one op). */
  | { kind: 'run'; until: number; maxEvents?: number }
  /** A command; `scenarioStep` when it came from the scenario's steps. */
  | { kind: 'apply'; cmd: Command; scenarioStep?: number };

export const CHECKPOINT_EVERY = 64;
const MAX_CHECKPOINTS = 128;

export class History {
  readonly ops: Op[] = [];
  /** Trace length after each op (ends[i] for ops[i]), to find the op boundary at a trace position. */
  readonly ends: number[] = [];
  /** Checkpoints by the number of ops applied when taken; always holds 0. */
  private checkpoints: { at: number; snap: Snapshot }[] = [];

  constructor(initial: Snapshot) {
    this.checkpoints.push({ at: 0, snap: initial });
  }

  get length(): number {
    return this.ops.length;
  }

  /** Records an op already applied; `snap` is called only when a checkpoint is due. */
  push(op: Op, end: number, snap: () => Snapshot): void {
    this.ops.push(op);
    this.ends.push(end);
    if (this.ops.length % CHECKPOINT_EVERY === 0) {
      this.checkpoints.push({ at: this.ops.length, snap: snap() });
      if (this.checkpoints.length > MAX_CHECKPOINTS) this.thin();
    }
  }

  /** Drops the last op; returns the checkpoint to restore and the ops to replay after it. */
  popLast(): { op: Op; from: Snapshot; replay: Op[] } | null {
    const op = this.ops.pop();
    if (!op) return null;
    this.ends.pop();
    const n = this.ops.length;
    while (this.checkpoints.length > 1 && this.checkpoints[this.checkpoints.length - 1].at > n) {
      this.checkpoints.pop();
    }
    const cp = this.checkpoints[this.checkpoints.length - 1];
    return { op, from: cp.snap, replay: this.ops.slice(cp.at, n) };
  }

  /**
   * Drops every op that ended after trace length `at` (ops that record nothing stay with the op before
   * them); returns the checkpoint to restore and the ops to replay, or null when nothing is dropped.
   */
  truncateAt(at: number): { from: Snapshot; replay: Op[] } | null {
    let n = this.ops.length;
    while (n > 0 && this.ends[n - 1] > at) n--;
    if (n === this.ops.length) return null;
    this.ops.length = n;
    this.ends.length = n;
    while (this.checkpoints.length > 1 && this.checkpoints[this.checkpoints.length - 1].at > n) {
      this.checkpoints.pop();
    }
    const cp = this.checkpoints[this.checkpoints.length - 1];
    return { from: cp.snap, replay: this.ops.slice(cp.at, n) };
  }

  /** Index of the next scenario step after replaying the log. */
  scenarioIndex(): number {
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const op = this.ops[i];
      if (op.kind === 'apply' && op.scenarioStep !== undefined) return op.scenarioStep + 1;
    }
    return 0;
  }

  // Keeps the newest half of the checkpoints as they are and every other one of the older half.
  private thin(): void {
    const half = this.checkpoints.length >> 1;
    const older = this.checkpoints.slice(0, half).filter((c, i) => i % 2 === 0 || c.at === 0);
    this.checkpoints = older.concat(this.checkpoints.slice(half));
  }
}
