// The event queue: a binary min-heap ordered by (virtual time, sequence number), stored in typed arrays
// so that an interrupt storm does not allocate an object per event. Sequence numbers make equal-time
// events run in the order they were scheduled, which keeps the trace deterministic.

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
  private heap = new Int32Array(1024); // slot indices, heap-ordered
  private free: number[] = [];
  private nextSlot = 0;
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
    let i = this.size++;
    const heap = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(slot, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = slot;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.time[this.heap[0]];
  }

  /** Removes the earliest event into `out`; returns false when empty. */
  pop(out: QueuedEvent): boolean {
    if (this.size === 0) return false;
    const heap = this.heap;
    const top = heap[0];
    out.time = this.time[top];
    out.seq = this.seqs[top];
    out.kind = this.kind[top];
    out.irq = this.irq[top];
    out.a = this.a[top];
    out.b = this.b[top];
    this.free.push(top);
    const last = heap[--this.size];
    let i = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r], heap[l]) ? r : l;
      if (!this.less(heap[c], last)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = last;
    return true;
  }

  /** All queued events in pop order, as plain data (snapshots). */
  toJSON(): QueuedEvent[] {
    const out: QueuedEvent[] = [];
    for (let k = 0; k < this.size; k++) {
      const s = this.heap[k];
      out.push({
        time: this.time[s],
        seq: this.seqs[s],
        kind: this.kind[s],
        irq: this.irq[s],
        a: this.a[s],
        b: this.b[s],
      });
    }
    return out.sort((x, y) => x.time - y.time || x.seq - y.seq);
  }

  /** Rebuilds the queue from a snapshot, keeping each event's sequence number. */
  static fromJSON(events: QueuedEvent[], nextSeq: number): EventQueue {
    const q = new EventQueue();
    for (const e of events) {
      q.nextSeq = e.seq;
      q.push(e.time, e.kind, e.irq, e.a, e.b);
    }
    q.nextSeq = nextSeq;
    return q;
  }

  private less(x: number, y: number): boolean {
    const tx = this.time[x];
    const ty = this.time[y];
    return tx < ty || (tx === ty && this.seqs[x] < this.seqs[y]);
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
    this.heap = g(this.heap, Int32Array);
  }
}
