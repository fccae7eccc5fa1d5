// The page's log of frames (the state change of each engine operation, from the worker) and the state
// at the cursor. Moving the cursor applies frames forwards or their old values backwards, so the page
// shows the state after the last hop the cursor passed, however far the engine has run ahead.
// Outside the zustand state on purpose: a storm holds thousands of frames, and only the cursor's
// state, its fates and its position are published to the store.

import type { Fate, SystemState } from '../engine/index.ts';
import type { Frame } from '../worker/api.ts';
import { applyChanges } from '../worker/diff.ts';

/** Frames kept; older ones are dropped, and Back before them asks the worker (restore + replay). */
const MAX_FRAMES = 20_000;

export class FrameLog {
  private frames: Frame[] = [];
  /** Frames applied to `state` (frames[0..applied-1]). */
  private applied = 0;
  /** The lowest trace position whose state the log can rebuild. */
  min = 0;
  /** Scenario step index at `min`. */
  private minScenarioIndex = 0;
  state: SystemState | null = null;
  fates: Record<Fate, number> | null = null;
  private minFates: Record<Fate, number> | null = null;

  /** Load, reset: the state at trace position `at` is `state`, nothing before it is reachable. */
  reset(state: SystemState, fates: Record<Fate, number>, at: number, scenarioIndex: number): void {
    this.frames = [];
    this.applied = 0;
    this.min = at;
    this.minScenarioIndex = scenarioIndex;
    this.state = state;
    this.fates = fates;
    this.minFates = fates;
  }

  /**
   * The engine went back to trace position `at` (truncate, Back): frames after it are gone. When the
   * log still reaches `at`, the cursor state is rebuilt from it; otherwise the engine's state is the new
   * starting point.
   */
  truncate(at: number, state: SystemState, fates: Record<Fate, number>, scenarioIndex: number): void {
    if (at < this.min) {
      this.reset(state, fates, at, scenarioIndex);
      return;
    }
    this.moveTo(at);
    let n = this.frames.length;
    while (n > 0 && this.frames[n - 1].at > at) n--;
    this.frames.length = n;
    this.applied = Math.min(this.applied, n);
    // The engine's state at `at` is the truth; the rebuilt one equals it unless a frame was skipped.
    this.state = state;
    this.fates = fates;
  }

  /** New frames from the engine, after the ones held; those at or before the cursor apply now. */
  append(frames: readonly Frame[], cursor: number): void {
    for (const f of frames) this.frames.push(f);
    this.moveTo(cursor);
    if (this.frames.length > MAX_FRAMES) this.dropOldest(this.frames.length - MAX_FRAMES);
  }

  get length(): number {
    return this.frames.length;
  }

  /** Trace positions of frame boundaries in (from, to], for Step by command and the step list. */
  frameAt(i: number): Frame | undefined {
    return this.frames[i];
  }

  /** Index of the first frame whose position is past `at` (frames are ordered by position). */
  firstAfter(at: number): number {
    let lo = 0;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.frames[mid].at <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Moves the state to trace position `at` (clamped to `min`): every frame up to it applies, or only
   * the first `limit` frames (a command that recorded no hop shares its position with the one before
   * it: Back by command stops between the two).
   */
  moveTo(at: number, limit = Infinity): boolean {
    if (!this.state) return false;
    const target = at < this.min ? this.min : at;
    let state = this.state;
    let i = this.applied;
    while (i < this.frames.length && i < limit && this.frames[i].at <= target) {
      state = applyChanges(state, this.frames[i].changes);
      i++;
    }
    while (i > 0 && (this.frames[i - 1].at > target || i > limit)) {
      i--;
      state = applyChanges(state, this.frames[i].changes, true);
    }
    const changed = i !== this.applied;
    this.applied = i;
    this.state = state;
    this.fates = i > 0 ? this.frames[i - 1].fates : this.minFates;
    return changed;
  }

  /** The scenario's next step at the cursor: one after the last scenario step applied by then. */
  scenarioIndex(): number {
    for (let i = this.applied - 1; i >= 0; i--) {
      const s = this.frames[i].scenarioStep;
      if (s !== undefined) return s + 1;
    }
    return this.minScenarioIndex;
  }

  /** The scenario steps the engine has applied (at the head, wherever the cursor is). */
  headScenarioIndex(): number {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const s = this.frames[i].scenarioStep;
      if (s !== undefined) return s + 1;
    }
    return this.minScenarioIndex;
  }

  /** The frames applied at the cursor's position (the last one is the cursor's). */
  current(): Frame | undefined {
    return this.applied > 0 ? this.frames[this.applied - 1] : undefined;
  }

  /** The trace position where scenario step `i` ends (its last frame), if the log holds it. */
  endOfScenarioStep(i: number): number | null {
    return this.endOfScenarioStepFrames(i)?.at ?? null;
  }

  /**
   * The same, with the frames applied there: the next step may add frames at the same trace position
   * (a command that recorded no hop), which the cursor must leave unapplied to stand at step `i`.
   */
  endOfScenarioStepFrames(i: number): { at: number; frames: number } | null {
    let end: { at: number; frames: number } | null = null;
    this.frames.forEach((f, k) => {
      if (f.scenarioStep === i) end = { at: f.at, frames: k + 1 };
    });
    return end;
  }

  /** The position where the group of the frame after `at` ends: Step by command. */
  endOfGroupAfter(at: number): number | null {
    const i = this.firstAfter(at);
    const f = this.frames[i];
    if (!f) return null;
    let j = i;
    while (j + 1 < this.frames.length && this.frames[j + 1].group === f.group) j++;
    return this.frames[j].at;
  }

  /**
   * Back by command: the position and frame count just before the group of the last frame applied
   * (the cursor at the end of a command goes to the end of the one before; inside one, to its start).
   */
  startOfGroupAt(at: number): { at: number; frames: number } {
    let k = this.applied - 1;
    // Inside a command's hops (its frame not applied yet): go to that command's start.
    const next = this.frames[this.applied];
    if (next && next.at > at && (k < 0 || this.frames[k].at < at)) k = this.applied;
    const f = this.frames[k];
    if (!f) return { at: this.min, frames: 0 };
    let j = k;
    while (j > 0 && this.frames[j - 1].group === f.group) j--;
    return { at: j > 0 ? this.frames[j - 1].at : this.min, frames: j };
  }

  /** Frames applied at the cursor. */
  get appliedCount(): number {
    return this.applied;
  }

  private dropOldest(n: number): void {
    // Reverting every frame left still rebuilds the state at the new minimum: no base state is needed.
    if (this.applied < n) return; // the cursor is in the part that would go: keep everything for now
    let index = this.minScenarioIndex;
    for (let i = 0; i < n; i++) {
      const s = this.frames[i].scenarioStep;
      if (s !== undefined) index = s + 1;
    }
    this.min = this.frames[n - 1].at;
    this.minFates = this.frames[n - 1].fates;
    this.minScenarioIndex = index;
    this.frames.splice(0, n);
    this.applied -= n;
  }
}
