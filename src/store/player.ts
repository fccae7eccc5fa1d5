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

export class Player {
  readonly tokens: Token[] = [];
  /** Next trace position to launch. */
  private launched = 0;
  /** Launch up to (not including) this position. */
  private target = 0;
  private nextAt = 0;
  private pace: Pace = STEP_PACE;
  private running = false;
  private lastHop = '';
  private lastTime = -1;
  private starving = false;

  constructor(private readonly host: PlayerHost) {}

  /** The cursor moved without animation (Back, a jump, a load): no token in flight. */
  jump(at: number): void {
    this.tokens.length = 0;
    this.starving = false;
    this.launched = at;
    this.target = at;
  }

  /** Plays from the cursor (or from what is already in flight) to `target` at `pace`. */
  playTo(target: number, pace: Pace): void {
    this.pace = pace;
    if (target <= this.launched && this.tokens.length === 0) {
      this.target = Math.max(this.target, this.launched);
      this.host.idle();
      return;
    }
    this.target = Math.max(target, this.launched);
    this.starving = false;
    if (this.nextAt < now()) this.nextAt = now();
    this.ensure();
  }

  /** Stops launching; tokens in flight land. */
  stop(): void {
    this.target = this.launched;
    if (!this.running && this.tokens.length === 0) this.host.idle();
  }

  /** Position after the last launched token: where the cursor will be when they land. */
  get end(): number {
    return this.launched;
  }

  get busy(): boolean {
    return this.tokens.length > 0 || this.launched < this.target;
  }

  private ensure(): void {
    if (this.running) return;
    this.running = true;
    raf(() => this.tick());
  }

  private tick(): void {
    const t = now();
    // Launch what is due.
    const head = this.host.head();
    // After a stall (a slow frame, the worker busy) catch up at most a quarter second of launches.
    if (this.nextAt < t - 250) this.nextAt = t - 250;
    while (this.launched < this.target && this.launched < head && this.nextAt <= t) {
      const e = this.host.event(this.launched);
      if (!e) {
        this.launched++;
        continue;
      }
      this.tokens.push({ seq: this.launched, e, start: t, dur: this.pace.hopMs });
      this.launched++;
      if (!this.host.launch(e)) {
        this.target = this.launched;
        break;
      }
      // A burst (the same hop of other interrupts at the same virtual time) leaves together.
      const burst = e.irq !== 0 && e.hop === this.lastHop && e.time === this.lastTime;
      this.lastHop = e.hop;
      this.lastTime = e.time;
      if (!burst) this.nextAt += this.pace.spacingMs;
    }
    // Land what arrived, in order.
    let arrived = -1;
    while (this.tokens.length > 0 && t >= this.tokens[0].start + this.tokens[0].dur) {
      arrived = this.tokens.shift()!.seq + 1;
    }
    if (arrived >= 0) this.host.arrive(arrived);
    if (this.launched >= head && this.launched < this.target) {
      if (!this.starving) {
        this.starving = true;
        this.host.starved();
      }
    } else this.starving = false;
    if (this.tokens.length === 0 && (this.launched >= this.target || this.launched >= head)) {
      this.running = false;
      if (this.launched >= this.target) this.host.idle();
      return;
    }
    raf(() => this.tick());
  }
}
