// The trace: every hop the engine performs, stored column by column in typed arrays plus a string table,
// so a million events fit in tens of megabytes instead of a million objects.

import type { TraceEvent, TracePath, TraceOutcome } from '../types.ts';
import { HOPS } from '../hops.ts';

export const PATHS: readonly TracePath[] = ['direct', 'posted', 'intercepted', 'emulated', 'control'];
export const OUTCOMES: readonly TraceOutcome[] = [
  'forwarded',
  'pending',
  'coalesced',
  'dropped',
  'delivered',
  'done',
];
export const PATH = { direct: 0, posted: 1, intercepted: 2, emulated: 3, control: 4 } as const;
export const OUT = { forwarded: 0, pending: 1, coalesced: 2, dropped: 3, delivered: 4, done: 5 } as const;

/** Interns strings: node ids, function names, details. Index 0 is the empty string. */
export class StringTable {
  readonly list: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);
  id(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
  truncate(n: number): void {
    for (let i = n; i < this.list.length; i++) this.index.delete(this.list[i]);
    this.list.length = n;
  }
}

export interface TraceColumns {
  length: number;
  time: number[];
  irq: number[];
  hop: number[];
  path: number[];
  outcome: number[];
  from: number[];
  to: number[];
  fn: number[];
  detail: number[];
  strings: string[];
}

export class Trace {
  length = 0;
  time = new Float64Array(4096);
  irq = new Int32Array(4096);
  hop = new Uint16Array(4096);
  path = new Uint8Array(4096);
  outcome = new Uint8Array(4096);
  from = new Uint32Array(4096);
  to = new Uint32Array(4096);
  fn = new Uint32Array(4096);
  detail = new Uint32Array(4096);
  readonly strings = new StringTable();

  /** Bytes held per event by the columns (the budget measure). */
  static readonly BYTES_PER_EVENT = 8 + 4 + 2 + 1 + 1 + 4 + 4 + 4 + 4;

  push(
    time: number,
    irq: number,
    hop: number,
    path: number,
    outcome: number,
    from: number,
    to: number,
    fn: number,
    detail: number,
  ): number {
    const i = this.length;
    if (i === this.time.length) this.grow();
    this.time[i] = time;
    this.irq[i] = irq;
    this.hop[i] = hop;
    this.path[i] = path;
    this.outcome[i] = outcome;
    this.from[i] = from;
    this.to[i] = to;
    this.fn[i] = fn;
    this.detail[i] = detail;
    this.length = i + 1;
    return i;
  }

  event(i: number): TraceEvent {
    const s = this.strings.list;
    const hop = HOPS[this.hop[i]];
    const fn = s[this.fn[i]];
    const at = fn.indexOf('@');
    return {
      seq: i,
      time: this.time[i],
      irq: this.irq[i],
      hop: hop.key,
      from: s[this.from[i]],
      to: s[this.to[i]],
      path: PATHS[this.path[i]],
      outcome: OUTCOMES[this.outcome[i]],
      fn: at < 0 ? fn : fn.slice(0, at),
      file: at < 0 ? '' : fn.slice(at + 1),
      detail: s[this.detail[i]],
    };
  }

  slice(start = 0, end = this.length): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (let i = Math.max(0, start); i < Math.min(end, this.length); i++) out.push(this.event(i));
    return out;
  }

  /** Drops events from index n on (restore to an earlier snapshot). */
  truncate(n: number, strings: number): void {
    this.length = Math.min(this.length, n);
    this.strings.truncate(strings);
  }

  bytes(): number {
    return (
      this.time.byteLength +
      this.irq.byteLength +
      this.hop.byteLength +
      this.path.byteLength +
      this.outcome.byteLength +
      this.from.byteLength +
      this.to.byteLength +
      this.fn.byteLength +
      this.detail.byteLength
    );
  }

  private grow(): void {
    const n = this.time.length * 2;
    const g = <T extends { length: number; set(a: T): void }>(a: T, C: new (n: number) => T): T => {
      const b = new C(n);
      b.set(a);
      return b;
    };
    this.time = g(this.time, Float64Array);
    this.irq = g(this.irq, Int32Array);
    this.hop = g(this.hop, Uint16Array);
    this.path = g(this.path, Uint8Array);
    this.outcome = g(this.outcome, Uint8Array);
    this.from = g(this.from, Uint32Array);
    this.to = g(this.to, Uint32Array);
    this.fn = g(this.fn, Uint32Array);
    this.detail = g(this.detail, Uint32Array);
  }
}
