// A seeded PRNG (mulberry32): the engine's only source of randomness, so the same seed gives the same trace.
export interface RngState {
  s: number;
}

export function rngCreate(seed: number): RngState {
  return { s: seed >>> 0 };
}

/** Next 32-bit unsigned value; advances the state. */
export function rngNext(r: RngState): number {
  let t = (r.s = (r.s + 0x6d2b79f5) >>> 0);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Uniform integer in [0, n). */
export function rngInt(r: RngState, n: number): number {
  return rngNext(r) % n;
}
