// A 256-bit interrupt register (IRR, ISR, PIR) kept as a sorted list of vectors with, at the same
// index, the interrupt each bit stands for: plain data in a snapshot, the highest bit in constant time.

export function vecIndex(vectors: number[], v: number): number {
  let lo = 0;
  let hi = vectors.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (vectors[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The interrupt held at bit v, or 0 when the bit is clear. */
export function vecGet(vectors: number[], irqs: number[], v: number): number {
  const i = vecIndex(vectors, v);
  return i < vectors.length && vectors[i] === v ? irqs[i] : 0;
}

/** Sets bit v for interrupt irq (the bit must be clear). */
export function vecSet(vectors: number[], irqs: number[], v: number, irq: number): void {
  const i = vecIndex(vectors, v);
  // shifted by hand: splice allocates the array it returns, on every interrupt (issue 14)
  for (let k = vectors.length; k > i; k--) {
    vectors[k] = vectors[k - 1];
    irqs[k] = irqs[k - 1];
  }
  vectors[i] = v;
  irqs[i] = irq;
}

/** Clears bit v; returns the interrupt it held, or 0. */
export function vecClear(vectors: number[], irqs: number[], v: number): number {
  const n = vectors.length;
  if (n > 0 && vectors[n - 1] === v) {
    vectors.pop();
    return irqs.pop()!;
  }
  const i = vecIndex(vectors, v);
  if (i >= n || vectors[i] !== v) return 0;
  const irq = irqs[i];
  for (let k = i + 1; k < n; k++) {
    vectors[k - 1] = vectors[k];
    irqs[k - 1] = irqs[k];
  }
  vectors.length = n - 1;
  irqs.length = n - 1;
  return irq;
}

export function vecHighest(vectors: number[]): number {
  return vectors.length === 0 ? -1 : vectors[vectors.length - 1];
}
