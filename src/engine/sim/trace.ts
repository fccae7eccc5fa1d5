// The trace: every hop the engine performs, stored column by column in typed arrays plus a string table,
// so a million events fit in tens of megabytes instead of a million objects. A hop's detail is either an
// interned string or a formatter with up to three integer arguments, turned into text only when read:
// the hot path of an interrupt storm builds no strings.

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
  'failed',
];
export const PATH = { direct: 0, posted: 1, intercepted: 2, emulated: 3, control: 4 } as const;
export const OUT = {
  forwarded: 0,
  pending: 1,
  coalesced: 2,
  dropped: 3,
  delivered: 4,
  done: 5,
  /** A command the kernel (or irqflow itself) refused: the row names the errno and the field. */
  failed: 6,
} as const;

/** Detail formatters, registered at module load; index 0 means "the detail column is a string id". */
const FORMATS: ((a: number, b: number, c: number) => string)[] = [() => ''];
export function defineDetail(fn: (a: number, b: number, c: number) => string): number {
  FORMATS.push(fn);
  return FORMATS.length - 1;
}

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

const INITIAL = 4096;

export class Trace {
  length = 0;
  time = new Float64Array(INITIAL);
  irq = new Int32Array(INITIAL);
  hop = new Uint16Array(INITIAL);
  path = new Uint8Array(INITIAL);
  outcome = new Uint8Array(INITIAL);
  fmt = new Uint16Array(INITIAL);
  from = new Uint32Array(INITIAL);
  to = new Uint32Array(INITIAL);
  fn = new Uint32Array(INITIAL);
  /** A string id when fmt is 0, else the formatter's first argument. */
  detail = new Int32Array(INITIAL);
  b = new Int32Array(INITIAL);
  c = new Int32Array(INITIAL);
  readonly strings = new StringTable();

  /** Bytes held per event by the columns (the budget measure). */
  static readonly BYTES_PER_EVENT = 8 + 4 + 2 + 1 + 1 + 2 + 4 + 4 + 4 + 4 + 4 + 4;

  push(
    time: number,
    irq: number,
    hop: number,
    path: number,
    outcome: number,
    from: number,
    to: number,
    fn: number,
    fmt: number,
    a: number,
    b: number,
    c: number,
  ): void {
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
    this.fmt[i] = fmt;
    this.detail[i] = a;
    this.b[i] = b;
    this.c[i] = c;
    this.length = i + 1;
  }

  detailText(i: number): string {
    const f = this.fmt[i];
    return f === 0 ? this.strings.list[this.detail[i]] : FORMATS[f](this.detail[i], this.b[i], this.c[i]);
  }

  event(i: number): TraceEvent {
    const s = this.strings.list;
    const fn = s[this.fn[i]];
    const at = fn.indexOf('@');
    return {
      seq: i,
      time: this.time[i],
      irq: this.irq[i],
      hop: HOPS[this.hop[i]].key,
      from: s[this.from[i]],
      to: s[this.to[i]],
      path: PATHS[this.path[i]],
      outcome: OUTCOMES[this.outcome[i]],
      fn: at < 0 ? fn : fn.slice(0, at),
      file: at < 0 ? '' : fn.slice(at + 1),
      detail: this.detailText(i),
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
    return this.time.length * Trace.BYTES_PER_EVENT;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const g = <T extends { length: number; set(a: T): void }>(a: T, C: new (n: number) => T): T => {
      const next = new C(n);
      next.set(a);
      return next;
    };
    this.time = g(this.time, Float64Array);
    this.irq = g(this.irq, Int32Array);
    this.hop = g(this.hop, Uint16Array);
    this.path = g(this.path, Uint8Array);
    this.outcome = g(this.outcome, Uint8Array);
    this.fmt = g(this.fmt, Uint16Array);
    this.from = g(this.from, Uint32Array);
    this.to = g(this.to, Uint32Array);
    this.fn = g(this.fn, Uint32Array);
    this.detail = g(this.detail, Int32Array);
    this.b = g(this.b, Int32Array);
    this.c = g(this.c, Int32Array);
  }
}
