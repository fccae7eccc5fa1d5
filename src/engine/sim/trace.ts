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
/**
 * Rows per chunk: the first chunk grows by doubling up to this size, then fixed chunks are added and
 * nothing is copied again, so a long trace holds its 42 bytes per row plus at most one chunk's slack
 * and allocates no throwaway arrays (issue 14: doubling cost 13-18% of the storm and its GC).
 */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/** One chunk of the trace's columns. */
class Columns {
  time: Float64Array;
  irq: Int32Array;
  hop: Uint16Array;
  path: Uint8Array;
  outcome: Uint8Array;
  fmt: Uint16Array;
  from: Uint32Array;
  to: Uint32Array;
  fn: Uint32Array;
  /** A string id when fmt is 0, else the formatter's first argument. */
  detail: Int32Array;
  b: Int32Array;
  c: Int32Array;
  constructor(n: number, from?: Columns) {
    // One ArrayBuffer per chunk, the columns views into it (widest first, so each is aligned): one
    // allocation instead of twelve; a new chunk's cost is mostly that allocation (issue 14).
    const buf = new ArrayBuffer(n * Trace.BYTES_PER_EVENT);
    let at = 0;
    const g = <T extends { set(a: T): void }>(
      C: new (b: ArrayBuffer, o: number, n: number) => T,
      size: number,
      old?: T,
    ): T => {
      const next = new C(buf, at, n);
      at += n * size;
      if (old) next.set(old);
      return next;
    };
    this.time = g(Float64Array, 8, from?.time);
    this.irq = g(Int32Array, 4, from?.irq);
    this.from = g(Uint32Array, 4, from?.from);
    this.to = g(Uint32Array, 4, from?.to);
    this.fn = g(Uint32Array, 4, from?.fn);
    this.detail = g(Int32Array, 4, from?.detail);
    this.b = g(Int32Array, 4, from?.b);
    this.c = g(Int32Array, 4, from?.c);
    this.hop = g(Uint16Array, 2, from?.hop);
    this.fmt = g(Uint16Array, 2, from?.fmt);
    this.path = g(Uint8Array, 1, from?.path);
    this.outcome = g(Uint8Array, 1, from?.outcome);
  }
}

export class Trace {
  length = 0;
  private chunks: Columns[] = [new Columns(INITIAL)];
  /** The chunk rows are written to, the index of its first row, and its capacity. */
  private cur: Columns = this.chunks[0];
  private curBase = 0;
  private curCap = INITIAL;
  readonly strings = new StringTable();

  /** Bytes of columns per event (the budget's measure is bytes(): what is held). */
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
    let o = this.length - this.curBase;
    if (o === this.curCap) {
      this.nextChunk();
      o = this.length - this.curBase;
    }
    const k = this.cur;
    k.time[o] = time;
    k.irq[o] = irq;
    k.hop[o] = hop;
    k.path[o] = path;
    k.outcome[o] = outcome;
    k.from[o] = from;
    k.to[o] = to;
    k.fn[o] = fn;
    k.fmt[o] = fmt;
    k.detail[o] = a;
    k.b[o] = b;
    k.c[o] = c;
    this.length++;
  }

  private nextChunk(): void {
    if (this.chunks.length === 1 && this.curCap < CHUNK) {
      this.curCap *= 2;
      this.cur = this.chunks[0] = new Columns(this.curCap, this.chunks[0]);
      return;
    }
    this.cur = new Columns(CHUNK);
    this.chunks.push(this.cur);
    this.curBase = (this.chunks.length - 1) << CHUNK_BITS;
    this.curCap = CHUNK;
  }

  private chunk(i: number): Columns {
    return this.chunks[i >>> CHUNK_BITS];
  }

  irqAt(i: number): number {
    return this.chunk(i).irq[i & CHUNK_MASK];
  }
  outcomeAt(i: number): number {
    return this.chunk(i).outcome[i & CHUNK_MASK];
  }
  timeAt(i: number): number {
    return this.chunk(i).time[i & CHUNK_MASK];
  }

  detailText(i: number): string {
    const k = this.chunk(i);
    const o = i & CHUNK_MASK;
    const f = k.fmt[o];
    return f === 0 ? this.strings.list[k.detail[o]] : FORMATS[f](k.detail[o], k.b[o], k.c[o]);
  }

  event(i: number): TraceEvent {
    const s = this.strings.list;
    const k = this.chunk(i);
    const o = i & CHUNK_MASK;
    const fn = s[k.fn[o]];
    const at = fn.indexOf('@');
    return {
      seq: i,
      time: k.time[o],
      irq: k.irq[o],
      hop: HOPS[k.hop[o]].key,
      from: s[k.from[o]],
      to: s[k.to[o]],
      path: PATHS[k.path[o]],
      outcome: OUTCOMES[k.outcome[o]],
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

  /** Drops events from index n on (restore to an earlier snapshot); chunks past n are released. */
  truncate(n: number, strings: number): void {
    this.length = Math.min(this.length, n);
    this.strings.truncate(strings);
    const keep = Math.max(1, Math.ceil(this.length / CHUNK));
    if (this.chunks.length > keep) this.chunks.length = keep;
    const k = Math.min(this.chunks.length - 1, this.length >>> CHUNK_BITS);
    this.cur = this.chunks[k];
    this.curBase = k << CHUNK_BITS;
    this.curCap = this.cur.time.length;
  }

  /** Bytes the columns hold (capacity, not rows): the trace-memory budget's measure. */
  bytes(): number {
    let rows = 0;
    for (const k of this.chunks) rows += k.time.length;
    return rows * Trace.BYTES_PER_EVENT;
  }
}
