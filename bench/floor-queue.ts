// A frozen copy of src/engine/sim/queue.ts as of 2026-12-01, for the bench floor only: engine speed-ups
// to the live queue must not move the floor they are measured against (issue 14).
// The event queue, ordered by (virtual time, sequence number). Events live in typed arrays (no object
// per event); they are grouped in one FIFO bucket per distinct time, and only the distinct times are
// kept in a binary min-heap. An interrupt storm has many events at each instant, so most pushes and
// pops touch a bucket, not the heap. Within a bucket events keep the order they were scheduled in, which
// is sequence order: the same order as a (time, seq) heap, so the trace stays deterministic.

export interface QueuedEvent {
  time: number;
  seq: number;
  kind: number;
  irq: number;
  a: number;
  b: number;
}

export class EventQueue {
  private time = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private kind = new Int32Array(1024);
  private irq = new Int32Array(1024);
  private a = new Int32Array(1024);
  private b = new Int32Array(1024);
  private free: number[] = [];
  private nextSlot = 0;

  /** Distinct times, heap-ordered; each has a bucket of slots in FIFO order. */
  private times: number[] = [];
  private buckets = new Map<number, number[]>();
  private spare: number[][] = [];
  /** The bucket being drained (the earliest time) and how far. */
  private head = 0;

  size = 0;
  nextSeq = 0;

  push(time: number, kind: number, irq: number, a: number, b: number): void {
    const slot = this.free.length > 0 ? this.free.pop()! : this.nextSlot++;
    if (slot >= this.time.length) this.grow();
    this.time[slot] = time;
    this.seqs[slot] = this.nextSeq++;
    this.kind[slot] = kind;
    this.irq[slot] = irq;
    this.a[slot] = a;
    this.b[slot] = b;
    let bucket = this.buckets.get(time);
    if (bucket === undefined) {
      bucket = this.spare.pop() ?? [];
      this.buckets.set(time, bucket);
      this.heapPush(time);
    }
    bucket.push(slot);
    this.size++;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.times[0];
  }

  /** Removes the earliest event into `out`; returns false when empty. */
  pop(out: QueuedEvent): boolean {
    if (this.size === 0) return false;
    const t = this.times[0];
    const bucket = this.buckets.get(t)!;
    const slot = bucket[this.head++];
    if (this.head === bucket.length) {
      this.buckets.delete(t);
      this.heapPop();
      bucket.length = 0;
      this.spare.push(bucket);
      this.head = 0;
    }
    out.time = this.time[slot];
    out.seq = this.seqs[slot];
    out.kind = this.kind[slot];
    out.irq = this.irq[slot];
    out.a = this.a[slot];
    out.b = this.b[slot];
    this.free.push(slot);
    this.size--;
    return true;
  }

  /** All queued events in pop order, as plain data (snapshots). */
  toJSON(): QueuedEvent[] {
    const out: QueuedEvent[] = [];
    const times = [...this.buckets.keys()].sort((x, y) => x - y);
    for (const t of times) {
      const bucket = this.buckets.get(t)!;
      for (let k = t === this.times[0] ? this.head : 0; k < bucket.length; k++) {
        const s = bucket[k];
        out.push({
          time: this.time[s],
          seq: this.seqs[s],
          kind: this.kind[s],
          irq: this.irq[s],
          a: this.a[s],
          b: this.b[s],
        });
      }
    }
    return out;
  }

  /** Rebuilds the queue from a snapshot, keeping each event's sequence number. */
  static fromJSON(events: QueuedEvent[], nextSeq: number): EventQueue {
    const q = new EventQueue();
    const sorted = [...events].sort((x, y) => x.time - y.time || x.seq - y.seq);
    for (const e of sorted) {
      q.nextSeq = e.seq;
      q.push(e.time, e.kind, e.irq, e.a, e.b);
    }
    q.nextSeq = nextSeq;
    return q;
  }

  private heapPush(t: number): void {
    const h = this.times;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p] <= t) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = t;
  }

  private heapPop(): void {
    const h = this.times;
    const last = h.pop()!;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r] < h[l] ? r : l;
      if (h[c] >= last) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }

  private grow(): void {
    const n = this.time.length * 2;
    const g = <T extends Float64Array | Int32Array>(arr: T, C: new (n: number) => T): T => {
      const next = new C(n);
      next.set(arr);
      return next;
    };
    this.time = g(this.time, Float64Array);
    this.seqs = g(this.seqs, Float64Array);
    this.kind = g(this.kind, Int32Array);
    this.irq = g(this.irq, Int32Array);
    this.a = g(this.a, Int32Array);
    this.b = g(this.b, Int32Array);
  }
}
