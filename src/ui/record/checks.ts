// A step's expectation as the items the page lists, each passed or failed by the failures the worker's
// check reported (runner.ts words them; each names what it is about). The exporter counts the same items.

import type { Expectation, Json, SystemState, TraceEvent } from '../../engine/index.ts';

export interface Item {
  label: string;
  failed: boolean;
}

export function expectationItems(x: Expectation | undefined, failures: readonly string[]): Item[] {
  if (!x) return [];
  const hit = (pred: (f: string) => boolean) => failures.some(pred);
  const items: Item[] = [];
  if (x.ok !== undefined || x.errno !== undefined)
    items.push({
      label: x.errno ? `errno ${x.errno}` : x.ok ? 'succeeds' : 'fails',
      failed: hit((f) => /^expected (success|failure|errno)/.test(f)),
    });
  if (x.value !== undefined)
    items.push({
      label: `value ${JSON.stringify(x.value)}`,
      failed: hit((f) => f.startsWith('expected value')),
    });
  for (const [p, v] of Object.entries(x.snapshot ?? {}))
    items.push({ label: `${p} = ${JSON.stringify(v)}`, failed: hit((f) => f.startsWith(`${p}:`)) });
  if (x.hops) items.push({ label: `hops ${x.hops.join(' → ')}`, failed: hit((f) => f.startsWith("hop '")) });
  for (const fn of x.functions ?? [])
    items.push({ label: `${fn} runs`, failed: hit((f) => f === `function ${fn} did not run in this step`) });
  for (const p of x.path ?? [])
    items.push({
      label: `interrupt ${p.irq}: ${p.functions.join(' → ')}`,
      failed: hit((f) => f.startsWith(`interrupt ${p.irq}:`)),
    });
  return items;
}

/** A value of the state by dotted path, own properties only (as runner.ts snapshotPath reads it). */
export function valueAt(state: SystemState | null, path: string): { found: boolean; value: Json } {
  let cur: unknown = state;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p))
      return { found: false, value: null };
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur === undefined ? { found: false, value: null } : { found: true, value: cur as Json };
}

const FATE: Partial<Record<TraceEvent['outcome'], string>> = {
  forwarded: 'in-flight',
  pending: 'pending',
  delivered: 'delivered',
  coalesced: 'coalesced',
  dropped: 'dropped',
};

/** An interrupt's journey up to the cursor: its functions in order, and its fate as the last hop says. */
export function journeyOf(
  trace: readonly TraceEvent[],
  irq: number,
  at: number,
): { functions: string[]; fate: string | null } {
  const hops = trace.filter((e) => e.irq === irq && e.seq < at);
  let fate: string | null = null;
  for (const e of hops) fate = FATE[e.outcome] ?? fate;
  return { functions: hops.map((e) => e.fn), fate };
}
