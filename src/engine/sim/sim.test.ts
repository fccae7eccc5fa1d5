import { describe, expect, it } from 'vitest';
import { EventQueue, type QueuedEvent } from './queue.ts';
import { Trace } from './trace.ts';
import { rngCreate, rngNext } from './rng.ts';

const ev = (): QueuedEvent => ({ time: 0, seq: 0, kind: 0, irq: 0, a: 0, b: 0 });

describe('event queue', () => {
  it('pops by virtual time, and equal times in the order they were scheduled', () => {
    const q = new EventQueue();
    q.push(30, 1, 1, 0, 0);
    q.push(10, 2, 2, 0, 0);
    q.push(10, 3, 3, 0, 0);
    q.push(20, 4, 4, 0, 0);
    const order: number[] = [];
    const e = ev();
    while (q.pop(e)) order.push(e.kind);
    expect(order).toEqual([2, 3, 4, 1]);
  });

  it('grows past its initial capacity and survives a JSON round trip with its sequence numbers', () => {
    const q = new EventQueue();
    for (let i = 0; i < 5000; i++) q.push((i * 7919) % 1000, i, i, i, -i);
    const copy = EventQueue.fromJSON(JSON.parse(JSON.stringify(q.toJSON())), q.nextSeq);
    const a = ev();
    const b = ev();
    let n = 0;
    while (q.pop(a)) {
      expect(copy.pop(b)).toBe(true);
      expect(b).toEqual(a);
      n++;
    }
    expect(n).toBe(5000);
    expect(copy.size).toBe(0);
  });

  it('keeps (time, seq) order when pushes go to the back, the front and the middle, popped in between', () => {
    // a reference: every event kept in a list, the earliest (time, seq) taken each pop
    for (let seed = 1; seed <= 20; seed++) {
      const rng = rngCreate(seed);
      const q = new EventQueue();
      let ref: QueuedEvent[] = [];
      let now = 0;
      let seq = 0;
      const e = ev();
      for (let step = 0; step < 3000; step++) {
        const r = rngNext(rng) % 10;
        if (r < 6) {
          // mostly later than everything (the ring's back), some at now (front or middle), some equal
          const d = r < 3 ? 100 + (rngNext(rng) % 3) * 100 : r < 5 ? rngNext(rng) % 50 : 0;
          const k = rngNext(rng) % 1000;
          q.push(now + d, k, step, 1000 - k, seq);
          ref.push({ time: now + d, seq, kind: k, irq: step, a: 1000 - k, b: seq });
          seq++;
        } else if (q.size > 0) {
          ref.sort((x, y) => x.time - y.time || x.seq - y.seq);
          const want = ref.shift()!;
          expect(q.pop(e)).toBe(true);
          expect(e).toEqual(want);
          now = e.time;
        }
        if (step % 997 === 0) {
          // a snapshot round trip in the middle keeps everything
          const copy = EventQueue.fromJSON(q.toJSON(), q.nextSeq);
          expect(copy.toJSON()).toEqual(q.toJSON());
        }
        expect(q.size).toBe(ref.length);
      }
      ref = ref.sort((x, y) => x.time - y.time || x.seq - y.seq);
      expect(q.toJSON()).toEqual(ref);
      expect(q.peekTime()).toBe(ref.length ? ref[0].time : Infinity);
      for (const want of ref) {
        expect(q.pop(e)).toBe(true);
        expect(e).toEqual(want);
      }
      expect(q.pop(e)).toBe(false);
    }
  });

  it('popUntil takes the earliest event only when it is not later than the bound', () => {
    const q = new EventQueue();
    q.push(10, 1, 0, 0, 0);
    q.push(5, 2, 0, 0, 0); // strictly earlier than the front: goes first
    q.push(7, 3, 0, 0, 0); // in the middle
    const e = ev();
    expect(q.popUntil(e, 4)).toBe(false);
    expect(q.size).toBe(3);
    const order: number[] = [];
    while (q.popUntil(e, 9)) order.push(e.kind);
    expect(order).toEqual([2, 3]);
    expect(q.popUntil(e, Infinity)).toBe(true);
    expect(e.kind).toBe(1);
  });
});

describe('trace', () => {
  it('stores events column by column and interns strings once', () => {
    const t = new Trace();
    for (let i = 0; i < 10_000; i++)
      t.push(
        i,
        i,
        0,
        0,
        0,
        t.strings.id('iommu'),
        t.strings.id('hostirq'),
        t.strings.id('f@file.c'),
        0,
        0,
        0,
        0,
      );
    expect(t.length).toBe(10_000);
    expect(t.strings.list).toEqual(['', 'iommu', 'hostirq', 'f@file.c']);
    expect(t.event(42)).toMatchObject({
      seq: 42,
      time: 42,
      irq: 42,
      from: 'iommu',
      to: 'hostirq',
      fn: 'f',
      file: 'file.c',
    });
    expect(Trace.BYTES_PER_EVENT).toBeLessThanOrEqual(64);
  });
});

describe('seeded RNG', () => {
  it('gives the same sequence for the same seed', () => {
    const a = rngCreate(5);
    const b = rngCreate(5);
    const xs = Array.from({ length: 8 }, () => rngNext(a));
    expect(Array.from({ length: 8 }, () => rngNext(b))).toEqual(xs);
    expect(new Set(xs).size).toBe(8);
  });
});

describe('Trace in chunks', () => {
  it('keeps every row across chunk boundaries, truncates and grows again, holds about 40 B per row', () => {
    const t = new Trace();
    const n = 3 * 65536 + 17;
    for (let i = 0; i < n; i++) t.push(i, i, 0, 0, i % 6, 1, 2, 3, 0, 0, 0, 0);
    for (const i of [0, 4095, 4096, 65535, 65536, 131071, 131072, n - 1]) {
      expect(t.irqAt(i)).toBe(i);
      expect(t.timeAt(i)).toBe(i);
      expect(t.outcomeAt(i)).toBe(i % 6);
    }
    expect(t.bytes() / t.length).toBeLessThan(Trace.BYTES_PER_EVENT * 1.4);
    for (const cut of [131072, 70000, 65536, 10]) {
      t.truncate(cut, 1);
      t.push(-1, -1, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0);
      expect(t.length).toBe(cut + 1);
      expect(t.irqAt(cut)).toBe(-1);
      if (cut > 0) expect(t.irqAt(cut - 1)).toBe(cut - 1);
    }
  });

  it('writes whole rows into chunks a released trace gave back, whatever they held', () => {
    const dirty = new Trace();
    const n = 2 * 65536 + 5;
    for (let i = 0; i < n; i++) dirty.push(-7, -7, 5, 3, 6, -7, -7, -7, 9, -7, -7, -7);
    dirty.release();
    expect(dirty.length).toBe(0);
    const t = new Trace();
    const id = t.strings.id('x');
    for (let i = 0; i < n; i++) t.push(i, i, 0, 0, i % 6, id, id, id, 0, id, 0, 0);
    for (const i of [0, 65535, 65536, n - 1]) {
      const row = t.event(i);
      expect([row.time, row.irq, row.hop, row.path, row.outcome]).toEqual([
        i,
        i,
        t.event(0).hop,
        'direct',
        ['forwarded', 'pending', 'coalesced', 'dropped', 'delivered', 'done'][i % 6],
      ]);
      expect([row.from, row.to, row.detail]).toEqual(['x', 'x', 'x']);
    }
  });
});
