// The page's link to the engine worker: requests one at a time, in order; a journal of every request
// that changed the engine since the scenario was loaded; and recovery when the worker dies. A worker
// that throws an uncaught error, or leaves a request unanswered past a deadline, is replaced: a new
// worker replays the journal (the engine is deterministic, so it reaches the same state) and is cut back
// to the page's cursor (docs/design.md, "A dead worker").

import type { Command } from '../engine/index.ts';
import type { Breakpoint, EngineApi, LoadOverrides, Scenario, Update } from '../worker/api.ts';
import type { WorkerHandle } from '../worker/client.ts';

export type Journal =
  | { kind: 'load'; scenario: Scenario; overrides: LoadOverrides }
  | { kind: 'apply'; cmd: Command }
  | { kind: 'next' }
  | { kind: 'step' }
  | { kind: 'run'; opts: { maxEvents?: number; until?: number; breakpoints?: Breakpoint[] } }
  | { kind: 'back' }
  | { kind: 'truncate'; at: number };

/** A request that does not answer within this long (plus time for a long run) means a dead worker. */
export const DEADLINE_MS = 5000;

class Dead extends Error {}

function replayCall(j: Journal): (c: EngineApi) => Promise<Update> | Update {
  switch (j.kind) {
    case 'load':
      return (c) => c.load(j.scenario, j.overrides);
    case 'apply':
      return (c) => c.apply(j.cmd);
    case 'next':
      return (c) => c.applyNextStep();
    case 'step':
      return (c) => c.step();
    case 'run':
      return (c) => c.run(j.opts);
    case 'back':
      return (c) => c.back();
    case 'truncate':
      return (c) => c.truncate(j.at);
  }
}

export class EngineLink {
  private handle: WorkerHandle | null = null;
  private journal: Journal[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private death: ((why: string) => void) | null = null;
  /** Requests waiting or running. */
  pending = 0;
  workers = 0;
  onBusy: (busy: boolean) => void = () => {};
  onError: (message: string) => void = () => {};
  onRestart: (note: string, workers: number) => void = () => {};
  onRestored: (u: Update) => void = () => {};
  /** Every answer to a request that changed the engine, with what was asked (the recorder listens). */
  onUpdate: (u: Update, journal: Journal | undefined) => void = () => {};
  cursor: () => number = () => 0;

  constructor(private readonly spawn: () => WorkerHandle) {}

  private worker(): WorkerHandle {
    if (!this.handle) {
      const h = this.spawn();
      this.workers++;
      h.onDeath((why) => {
        if (this.handle === h) this.death?.(why);
      });
      this.handle = h;
    }
    return this.handle;
  }

  /** One call, raced against the worker's death and a deadline. */
  private call<T>(f: (c: EngineApi) => Promise<T> | T, deadline = DEADLINE_MS): Promise<T> {
    const h = this.worker();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Dead(`no answer within ${deadline / 1000} s`)), deadline);
      this.death = (why) => {
        clearTimeout(timer);
        reject(new Dead(why));
      };
      Promise.resolve(f(h.api as unknown as EngineApi)).then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    this.pending++;
    this.onBusy(true);
    const next = this.queue.then(f).finally(() => {
      this.pending--;
      if (this.pending === 0) this.onBusy(false);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** A request that changes the engine: journaled when it succeeds. */
  request(f: (c: EngineApi) => Promise<Update> | Update, journal?: Journal): Promise<Update | null> {
    return this.enqueue(async () => {
      try {
        const deadline = DEADLINE_MS + ((journal?.kind === 'run' && journal.opts.maxEvents) || 0) / 50;
        const u = await this.call(f, deadline);
        if (journal?.kind === 'load') this.journal = [journal];
        else if (journal) this.journal.push(journal);
        this.onUpdate(u, journal);
        return u;
      } catch (err) {
        if (err instanceof Dead) await this.recover(journal, err.message);
        else this.onError(String(err));
        return null;
      }
    });
  }

  /** A request that only reads (a trace page). */
  query<T>(f: (c: EngineApi) => Promise<T> | T): Promise<T | null> {
    return this.enqueue(async () => {
      try {
        return await this.call(f);
      } catch (err) {
        if (err instanceof Dead) await this.recover(undefined, err.message);
        else this.onError(String(err));
        return null;
      }
    });
  }

  /** Kills the worker without telling anyone (what a crash looks like from the page). */
  kill(): void {
    this.handle?.terminate();
  }

  /**
   * A new worker replays the journal, without the request that was lost (it may be what killed the
   * old one), then goes to the page's cursor.
   */
  private async recover(lost: Journal | undefined, why: string): Promise<void> {
    this.handle?.terminate();
    this.handle = null;
    const what = lost ? ` while answering ${lost.kind}` : '';
    this.onRestart(`The engine worker died${what} (${why}). Restarting it…`, this.workers);
    try {
      let last: Update | null = null;
      for (const j of this.journal) last = await this.call(replayCall(j), DEADLINE_MS * 4);
      if (!last) return;
      const at = Math.min(this.cursor(), last.trace.length);
      const u = await this.call((c) => c.truncate(at));
      this.journal.push({ kind: 'truncate', at });
      this.onRestored(u);
      this.onRestart(
        `The engine worker died${what} (${why}). A new worker replayed ${this.journal.length} requests and restored the state at the cursor${lost ? `; the ${lost.kind} request was not applied: try it again` : ''}.`,
        this.workers,
      );
    } catch (err) {
      (this.handle as WorkerHandle | null)?.terminate();
      this.handle = null;
      this.onRestart(
        `The engine worker died and could not be restored: ${String(err)}. Reload the page.`,
        this.workers,
      );
    }
  }
}
