// The event queue, ordered by (virtual time, sequence number). Events live in typed arrays (no object
// per event, no Map). Almost every push is at or after everything queued (a hop schedules the next one
// a cost later, and an interrupt storm moves in lockstep), so those go to the back of a ring that is kept
// in (time, seq) order and pop from its front: O(1), no lookup. A push strictly earlier than the ring's
// front (the next event of a single interrupt, the usual case on the page) goes to its front, also O(1).
// The rest, pushes into the middle, go to a binary min-heap on (time, seq). pop takes the smaller of the
// two heads, so the order is exactly that of one (time, seq) heap and the trace stays deterministic.

export interface QueuedEvent {
  time: number;
  seq: number;
  kind: number;
  irq: number;
  a: number;
  b: number;
}

/** A set of events in typed arrays, by slot. */
class Slots {
  time: Float64Array;
  seq: Float64Array;
  kind: Int32Array;
  irq: Int32Array;
  a: Int32Array;
  b: Int32Array;
  constructor(n: number) {
    this.time = new Float64Array(n);
    this.seq = new Float64Array(n);
    this.kind = new Int32Array(n);
    this.irq = new Int32Array(n);
    this.a = new Int32Array(n);
    this.b = new Int32Array(n);
  }
  /** A copy with room for n, slot i of this at slot (i - from) & mask of the copy (unwraps a ring). */
  copy(n: number, from: number, count: number, mask: number): Slots {
    const c = new Slots(n);
    for (let k = 0; k < count; k++) {
      const i = (from + k) & mask;
      c.time[k] = this.time[i];
      c.seq[k] = this.seq[i];
      c.kind[k] = this.kind[i];
      c.irq[k] = this.irq[i];
      c.a[k] = this.a[i];
      c.b[k] = this.b[i];
    }
    return c;
  }
}

const INITIAL = 1024; // a power of two (the ring's index mask)

export class EventQueue {
  /** The ring: `ringLen` events from `ringHead`, in (time, seq) order. */
  private ring = new Slots(INITIAL);
  private ringMask = INITIAL - 1;
  private ringHead = 0;
  private ringLen = 0;
  /** Time of the ring's last event (valid when ringLen > 0). */
  private ringTail = 0;

  /** The heap of out-of-order events: slots of `side`, heap-ordered by (time, seq) in `heap`. */
  private side = new Slots(64);
  private heap = new Int32Array(64);
  private heapLen = 0;
  private free: number[] = [];
  private nextSlot = 0;

  size = 0;
  nextSeq = 0;

  push(time: number, kind: number, irq: number, a: number, b: number): void {
    const seq = this.nextSeq++;
    this.size++;
    const n = this.ringLen;
    if (n === 0 || time >= this.ringTail) {
      if (n === this.ringMask + 1) this.growRing();
      const r = this.ring;
      const i = (this.ringHead + n) & this.ringMask;
      r.time[i] = time;
      r.seq[i] = seq;
      r.kind[i] = kind;
      r.irq[i] = irq;
      r.a[i] = a;
      r.b[i] = b;
      this.ringLen = n + 1;
      this.ringTail = time;
      return;
    }
    if (time < this.ring.time[this.ringHead]) {
      // strictly earlier than the ring's front, and later in sequence than all: it goes first
      if (n === this.ringMask + 1) this.growRing();
      const r = this.ring;
      const i = (this.ringHead - 1) & this.ringMask;
      r.time[i] = time;
      r.seq[i] = seq;
      r.kind[i] = kind;
      r.irq[i] = irq;
      r.a[i] = a;
      r.b[i] = b;
      this.ringHead = i;
      this.ringLen = n + 1;
      return;
    }
    this.heapPush(time, seq, kind, irq, a, b);
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    if (this.heapLen === 0) return this.ringLen === 0 ? Infinity : this.ring.time[this.ringHead];
    const h = this.side.time[this.heap[0]];
    if (this.ringLen === 0) return h;
    const r = this.ring.time[this.ringHead];
    return r < h ? r : h;
  }

  /** Removes the earliest event into `out` if it is not later than `until`; returns whether it did. */
  popUntil(out: QueuedEvent, until: number): boolean {
    return this.peekTime() <= until && this.pop(out);
  }

  /** Removes the earliest event into `out`; returns false when empty. */
  pop(out: QueuedEvent): boolean {
    if (this.ringLen > 0 && (this.heapLen === 0 || this.ringFirst())) {
      const r = this.ring;
      const i = this.ringHead;
      out.time = r.time[i];
      out.seq = r.seq[i];
      out.kind = r.kind[i];
      out.irq = r.irq[i];
      out.a = r.a[i];
      out.b = r.b[i];
      this.ringHead = (i + 1) & this.ringMask;
      this.ringLen--;
      this.size--;
      return true;
    }
    if (this.heapLen === 0) return false;
    const s = this.side;
    const slot = this.heap[0];
    out.time = s.time[slot];
    out.seq = s.seq[slot];
    out.kind = s.kind[slot];
    out.irq = s.irq[slot];
    out.a = s.a[slot];
    out.b = s.b[slot];
    this.heapPop();
    this.free.push(slot);
    this.size--;
    return true;
  }

  /** The ring's front comes before the heap's top (both non-empty). */
  private ringFirst(): boolean {
    const i = this.ringHead;
    const top = this.heap[0];
    const rt = this.ring.time[i];
    const ht = this.side.time[top];
    return rt < ht || (rt === ht && this.ring.seq[i] < this.side.seq[top]);
  }

  /** All queued events in pop order, as plain data (snapshots). */
  toJSON(): QueuedEvent[] {
    const out: QueuedEvent[] = [];
    const r = this.ring;
    for (let k = 0; k < this.ringLen; k++) {
      const i = (this.ringHead + k) & this.ringMask;
      out.push({ time: r.time[i], seq: r.seq[i], kind: r.kind[i], irq: r.irq[i], a: r.a[i], b: r.b[i] });
    }
    const s = this.side;
    for (let k = 0; k < this.heapLen; k++) {
      const i = this.heap[k];
      out.push({ time: s.time[i], seq: s.seq[i], kind: s.kind[i], irq: s.irq[i], a: s.a[i], b: s.b[i] });
    }
    if (this.heapLen > 0) out.sort((x, y) => x.time - y.time || x.seq - y.seq);
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

  private growRing(): void {
    const n = this.ringMask + 1;
    this.ring = this.ring.copy(n * 2, this.ringHead, this.ringLen, this.ringMask);
    this.ringHead = 0;
    this.ringMask = n * 2 - 1;
  }

  /** (time, seq) of slot x before slot y, in `side`. */
  private less(x: number, y: number): boolean {
    const t = this.side.time;
    return t[x] < t[y] || (t[x] === t[y] && this.side.seq[x] < this.side.seq[y]);
  }

  private heapPush(time: number, seq: number, kind: number, irq: number, a: number, b: number): void {
    const slot = this.free.length > 0 ? this.free.pop()! : this.nextSlot++;
    if (slot >= this.side.time.length) {
      const n = this.side.time.length * 2;
      this.side = this.side.copy(n, 0, this.side.time.length, -1);
      const heap = new Int32Array(n);
      heap.set(this.heap);
      this.heap = heap;
    }
    const s = this.side;
    s.time[slot] = time;
    s.seq[slot] = seq;
    s.kind[slot] = kind;
    s.irq[slot] = irq;
    s.a[slot] = a;
    s.b[slot] = b;
    const h = this.heap;
    let i = this.heapLen++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(slot, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = slot;
  }

  private heapPop(): void {
    const h = this.heap;
    const n = --this.heapLen;
    if (n === 0) return;
    const last = h[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
}
