// The playback cursor in motion. A token leaves for each hop after the cursor (Step: one; a command:
// its hops one after another; Play: a stream paced by the speed); when a token arrives, the cursor
// passes its hop and the page shows the state after it. So a counter changes when the token that
// changes it arrives, never before (docs/design.md, "State at the cursor").
// The diagram reads the tokens in flight from here every animation frame; the store only hears about
// arrivals (at most once per frame).

import type { TraceEvent } from '../engine/index.ts';

export interface Token {
  seq: number;
  e: TraceEvent;
  start: number;
  dur: number;
}

export interface Pace {
  /** How long one token takes from box to box (ms). */
  hopMs: number;
  /** Between two launches (ms); hops of different interrupts at one virtual time leave together. */
  spacingMs: number;
}

export const STEP_PACE: Pace = { hopMs: 320, spacingMs: 300 };

export interface PlayerHost {
  /** The event at trace position `seq`, if the page holds it. */
  event(seq: number): TraceEvent | undefined;
  /** How many trace events the engine has produced (the page may not have revealed them). */
  head(): number;
  /** Tokens arrived: the cursor is now `at`. */
  arrive(at: number): void;
  /** Nothing more to launch before `target` and no token in flight. */
  idle(): void;
  /** A hop leaves: false makes it the last one (a breakpoint matched it). */
  launch(e: TraceEvent): boolean;
  /** Everything known is launched but the target lies further: time to ask the engine for more. */
  starved(): void;
}

const now = () => performance.now();
const raf: (f: () => void) => unknown =
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (f) => setTimeout(f, 16);

/**
 * When each hop leaves: hops at one virtual time form a wave; within a wave, each interrupt's hops
 * leave one after another `spacingMs` apart while different interrupts travel side by side (a storm of
 * N interrupts puts N tokens on screen); a control-plane call is a wave of its own; the next wave leaves
 * when the last hop of this one has.
 */
class Waves {
  private time = NaN;
  private start = 0;
  private end = -Infinity;
  private readonly perIrq = new Map<number, number>();

  reset(): void {
    this.time = NaN;
    this.end = -Infinity;
    this.perIrq.clear();
  }

  at(e: TraceEvent, now: number, spacing: number): number {
    if (e.irq === 0 || e.time !== this.time) {
      this.start = Math.max(now, this.end + spacing);
      this.time = e.irq === 0 ? NaN : e.time;
      this.perIrq.clear();
    }
    const k = this.perIrq.get(e.irq) ?? 0;
    this.perIrq.set(e.irq, k + 1);
    const t = this.start + k * spacing;
    if (t > this.end) this.end = t;
    return t;
  }
}

export class Player {
  /** Tokens in flight, in launch order. */
  readonly tokens: Token[] = [];
  /** Hops scheduled to leave (seq order) and when. */
  private scheduled: { seq: number; e: TraceEvent; at: number }[] = [];
  /** Next trace position to schedule. */
  private scanned = 0;
  /** The cursor the player has reached: every hop before it has landed. */
  private landed = 0;
  private readonly arrived = new Set<number>();
  /** Schedule up to (not including) this position. */
  private target = 0;
  private pace: Pace = STEP_PACE;
  private running = false;
  private starving = false;
  private readonly waves = new Waves();

  constructor(private readonly host: PlayerHost) {}

  /** The cursor moved without animation (Back, a jump, a load): nothing in flight. */
  jump(at: number): void {
    this.tokens.length = 0;
    this.scheduled = [];
    this.arrived.clear();
    this.scanned = at;
    this.landed = at;
    this.target = at;
    this.starving = false;
    this.waves.reset();
  }

  /** Plays from the cursor (or from what is already in flight) to `target` at `pace`. */
  playTo(target: number, pace: Pace): void {
    this.pace = pace;
    this.target = Math.max(target, this.scanned);
    this.starving = false;
    if (!this.busy) {
      this.host.idle();
      return;
    }
    this.ensure();
  }

  /** Stops launching: hops not yet left are cancelled, and so are tokens past the first of them. */
  stop(): void {
    const gap = this.scheduled.length > 0 ? this.scheduled[0].seq : this.scanned;
    this.scheduled = [];
    this.scanned = gap;
    this.target = gap;
    for (let i = this.tokens.length - 1; i >= 0; i--) if (this.tokens[i].seq >= gap) this.tokens.splice(i, 1);
    for (const s of [...this.arrived]) if (s >= gap) this.arrived.delete(s);
    this.waves.reset();
    if (!this.running && !this.busy) this.host.idle();
  }

  /** Where this playing is headed (the end of a command's hops, or the head while running). */
  get goal(): number {
    return Math.min(this.target, this.host.head());
  }

  /** Where the cursor will be when every scheduled hop has landed. */
  get end(): number {
    return this.scanned;
  }

  get busy(): boolean {
    return (
      this.tokens.length > 0 ||
      this.scheduled.length > 0 ||
      this.scanned < Math.min(this.target, this.host.head())
    );
  }

  private ensure(): void {
    if (this.running) return;
    this.running = true;
    raf(() => this.tick());
  }

  private tick(): void {
    const t = now();
    const head = this.host.head();
    const spacing = this.pace.spacingMs;
    // Schedule what is known, a little ahead of time.
    while (this.scanned < this.target && this.scanned < head) {
      const e = this.host.event(this.scanned);
      if (!e) {
        this.arrived.add(this.scanned);
        this.scanned++;
        continue;
      }
      const at = this.waves.at(e, t, spacing);
      this.scheduled.push({ seq: this.scanned, e, at });
      this.scanned++;
      if (at > t + 400) break;
    }
    // Launch what is due.
    let kept = 0;
    for (const s of this.scheduled) {
      if (s.at > t) {
        this.scheduled[kept++] = s;
        continue;
      }
      this.tokens.push({ seq: s.seq, e: s.e, start: t, dur: this.pace.hopMs });
      if (!this.host.launch(s.e)) {
        // A breakpoint: this hop is the last one.
        this.target = s.seq + 1;
        this.scanned = s.seq + 1;
        this.scheduled = this.scheduled.filter((x) => x.seq < s.seq && x.at > t);
        kept = this.scheduled.length;
        for (let i = this.tokens.length - 1; i >= 0; i--)
          if (this.tokens[i].seq > s.seq) this.tokens.splice(i, 1);
        break;
      }
    }
    this.scheduled.length = kept;
    // Land what arrived; the cursor passes every hop up to the first one still travelling.
    let live = 0;
    for (const tok of this.tokens) {
      if (t >= tok.start + tok.dur) this.arrived.add(tok.seq);
      else this.tokens[live++] = tok;
    }
    this.tokens.length = live;
    const before = this.landed;
    while (this.arrived.has(this.landed)) this.arrived.delete(this.landed++);
    if (this.landed !== before) this.host.arrive(this.landed);
    if (this.scanned >= head && this.scanned < this.target) {
      if (!this.starving) {
        this.starving = true;
        this.host.starved();
      }
    } else this.starving = false;
    if (
      this.tokens.length === 0 &&
      this.scheduled.length === 0 &&
      (this.scanned >= this.target || this.scanned >= head)
    ) {
      // Done, or waiting for the engine: either way the host decides what comes next.
      this.running = false;
      this.host.idle();
      return;
    }
    raf(() => this.tick());
  }
}
