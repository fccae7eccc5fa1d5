// The trace: every hop the engine performs, stored row by row in typed arrays (a time and eight integer
// words per row) plus a string table, so a million events fit in tens of megabytes instead of a million
// objects. A hop's detail is either an
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
  if (FORMATS.length >= 1 << 16) throw new Error('trace rows pack a detail formatter in 16 bits');
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
 * nothing is copied again, so a long trace holds its 40 bytes per row plus at most one chunk's slack
 * and allocates no throwaway arrays (issue 14: doubling cost 13-18% of the storm and its GC).
 */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;

/**
 * A row's integers: eight int32 words at `row << 3` of a chunk's `words`, its time apart (float64).
 * One store target per row instead of a column each (issue 14: the twelve column stores were a third
 * of the storm's time). The last word packs the hop (10 bits), path (3), outcome (3) and fmt (16).
 */
const W_IRQ = 0;
const W_FROM = 1;
const W_TO = 2;
const W_FN = 3;
const W_DETAIL = 4;
const W_B = 5;
const W_C = 6;
const W_CODES = 7;
const HOP_BITS = 10;
if (HOPS.length > 1 << HOP_BITS)
  throw new Error(`trace rows pack a hop in ${HOP_BITS} bits: ${HOPS.length} hops`);
if (PATHS.length > 8 || OUTCOMES.length > 8)
  throw new Error('trace rows pack path and outcome in 3 bits each');

/**
 * Buffers of full chunks that a trace no longer holds (Trace.release, truncate), for the next chunk any
 * trace in this process needs: fresh memory costs a page fault per 4 KiB on first write, and the
 * ArrayBuffers' external memory drives mark-compacts (issue 14: writing into new chunks was about half
 * of a storm's time on a fresh system). Every row is written whole before it is read, so what a
 * reused buffer held before is never seen. At most POOL_MAX buffers (about 40 MiB) are kept.
 */
const POOL: ArrayBuffer[] = [];
const POOL_MAX = 16;

/** One chunk of the trace: times, and eight words per row, in one ArrayBuffer. */
class Chunk {
  time: Float64Array;
  words: Int32Array;
  readonly buf: ArrayBuffer;
  constructor(n: number, from?: Chunk) {
    const buf = n === CHUNK && POOL.length > 0 ? POOL.pop()! : new ArrayBuffer(n * Trace.BYTES_PER_EVENT);
    this.buf = buf;
    this.time = new Float64Array(buf, 0, n);
    this.words = new Int32Array(buf, n * 8, n * 8);
    if (from) {
      this.time.set(from.time);
      this.words.set(from.words);
    }
  }
  /** Gives a full chunk's buffer to the pool (smaller first chunks are left to the GC). */
  release(): void {
    if (this.time.length === CHUNK && POOL.length < POOL_MAX) POOL.push(this.buf);
  }
}

export class Trace {
  length = 0;
  // a full chunk from the start when the pool has one (no doubling copies), else a small one
  private chunks: Chunk[] = [new Chunk(POOL.length > 0 ? CHUNK : INITIAL)];
  /** The chunk rows are written to, the index of its first row, and its capacity. */
  private cur: Chunk = this.chunks[0];
  private curBase = 0;
  private curCap = this.cur.time.length;
  readonly strings = new StringTable();

  /** Bytes per event: a float64 time and eight int32 words (the budget's measure is bytes(): what is held). */
  static readonly BYTES_PER_EVENT = 8 + 8 * 4;

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
    const w = k.words;
    const r = o << 3;
    w[r + W_IRQ] = irq;
    w[r + W_FROM] = from;
    w[r + W_TO] = to;
    w[r + W_FN] = fn;
    w[r + W_DETAIL] = a;
    w[r + W_B] = b;
    w[r + W_C] = c;
    w[r + W_CODES] = hop | (path << HOP_BITS) | (outcome << (HOP_BITS + 3)) | (fmt << 16);
    this.length++;
  }

  private nextChunk(): void {
    if (this.chunks.length === 1 && this.curCap < CHUNK) {
      this.curCap *= 2;
      this.cur = this.chunks[0] = new Chunk(this.curCap, this.chunks[0]);
      return;
    }
    this.cur = new Chunk(CHUNK);
    this.chunks.push(this.cur);
    this.curBase = (this.chunks.length - 1) << CHUNK_BITS;
    this.curCap = CHUNK;
  }

  /** Word w of row i. */
  private word(i: number, w: number): number {
    return this.chunks[i >>> CHUNK_BITS].words[((i & CHUNK_MASK) << 3) + w];
  }

  irqAt(i: number): number {
    return this.word(i, W_IRQ);
  }
  outcomeAt(i: number): number {
    return (this.word(i, W_CODES) >>> (HOP_BITS + 3)) & 7;
  }
  timeAt(i: number): number {
    return this.chunks[i >>> CHUNK_BITS].time[i & CHUNK_MASK];
  }

  detailText(i: number): string {
    const f = this.word(i, W_CODES) >>> 16;
    const a = this.word(i, W_DETAIL);
    return f === 0 ? this.strings.list[a] : FORMATS[f](a, this.word(i, W_B), this.word(i, W_C));
  }

  event(i: number): TraceEvent {
    const s = this.strings.list;
    const codes = this.word(i, W_CODES);
    const fn = s[this.word(i, W_FN)];
    const at = fn.indexOf('@');
    return {
      seq: i,
      time: this.timeAt(i),
      irq: this.word(i, W_IRQ),
      hop: HOPS[codes & ((1 << HOP_BITS) - 1)].key,
      from: s[this.word(i, W_FROM)],
      to: s[this.word(i, W_TO)],
      path: PATHS[(codes >>> HOP_BITS) & 7],
      outcome: OUTCOMES[(codes >>> (HOP_BITS + 3)) & 7],
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

  /** Drops events from index n on (restore to an earlier snapshot); chunks past n go to the pool. */
  truncate(n: number, strings: number): void {
    this.length = Math.min(this.length, n);
    this.strings.truncate(strings);
    const keep = Math.max(1, Math.ceil(this.length / CHUNK));
    if (this.chunks.length > keep) {
      for (let k = keep; k < this.chunks.length; k++) this.chunks[k].release();
      this.chunks.length = keep;
    }
    const k = Math.min(this.chunks.length - 1, this.length >>> CHUNK_BITS);
    this.cur = this.chunks[k];
    this.curBase = k << CHUNK_BITS;
    this.curCap = this.cur.time.length;
  }

  /**
   * Empties the trace and gives its chunks to the pool, for the next trace in this process (System.dispose:
   * its owner drops it). Rows and strings are gone; the trace starts again from one small chunk.
   */
  release(): void {
    for (const k of this.chunks) k.release();
    this.chunks = [new Chunk(INITIAL)];
    this.cur = this.chunks[0];
    this.curBase = 0;
    this.curCap = INITIAL;
    // (small on purpose: a released trace is not expected to grow again)
    this.length = 0;
    this.strings.truncate(1);
  }

  /** Bytes the columns hold (capacity, not rows): the trace-memory budget's measure. */
  bytes(): number {
    let rows = 0;
    for (const k of this.chunks) rows += k.time.length;
    return rows * Trace.BYTES_PER_EVENT;
  }
}
