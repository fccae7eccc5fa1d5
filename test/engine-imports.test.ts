// The engine's structure (issue 14): src/engine has no import circle, counting type imports too (the
// data path hands off through datapath.ts, the control plane calls downward); it imports nothing from
// the page, the store, the worker or the CLI, and uses no DOM global; and the data-path table is whole.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EVENTS, EV } from '../src/engine/datapath.ts';
import { HOP } from '../src/engine/hops.ts';
import { checkEvents, eventName, on } from '../src/engine/engine.ts';
import { parseScenario, scenarioSystem, type System } from '../src/engine/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENGINE = join(ROOT, 'src/engine');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every import and re-export, value or type: [specifier, is type-only]. */
export function importsOf(src: string): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gms;
  for (const m of src.matchAll(re)) out.push(m[1]);
  for (const m of src.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]);
  return out;
}

/** The graph of src/engine: file -> the engine files it imports. */
function graph(): Map<string, string[]> {
  const all = files(ENGINE);
  const set = new Set(all);
  const g = new Map<string, string[]>();
  for (const f of all) {
    const deps = importsOf(readFileSync(f, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(f), s))
      .filter((t) => set.has(t));
    g.set(f, deps);
  }
  return g;
}

/** One cycle of the graph, as a list of files (first = last), or null. */
export function findCycle(g: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (v: string): string[] | null => {
    state.set(v, 1);
    stack.push(v);
    for (const w of g.get(v) ?? []) {
      if (state.get(w) === 1) return [...stack.slice(stack.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(v, 2);
    return null;
  };
  for (const v of g.keys()) {
    if (state.has(v)) continue;
    const c = visit(v);
    if (c) return c;
  }
  return null;
}

describe('engine imports', () => {
  it('form no cycle, value and type imports alike', () => {
    const cycle = findCycle(graph());
    expect(cycle && cycle.map((f) => relative(ENGINE, f)).join(' -> ')).toBe(null);
  });

  it('the cycle finder finds a cycle (so the test above can fail)', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toBe(null);
    expect(importsOf("import type { X } from './x.ts';\nexport { y } from '../y.ts';")).toEqual([
      './x.ts',
      '../y.ts',
    ]);
  });

  it('reach nothing of the page, the store, the worker or the CLI, and no DOM global', () => {
    const bad: string[] = [];
    for (const f of files(ENGINE)) {
      const src = readFileSync(f, 'utf8');
      for (const s of importsOf(src)) {
        const t = s.startsWith('.') ? relative(ROOT, resolve(dirname(f), s)) : s;
        if (
          /^src\/(ui|store|worker|cli)\//.test(t) ||
          /^(react|react-dom|d3|zustand|comlink|idb-keyval)/.test(t)
        )
          bad.push(`${relative(ROOT, f)} imports ${s}`);
      }
      // no comments or strings: a DOM global used as an identifier
      const code = src
        .replace(/\/\/.*$/gm, '')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(['"`])(?:\\.|(?!\1)[^\\])*\1/g, "''");
      for (const g of [
        'window',
        'document',
        'navigator',
        'localStorage',
        'indexedDB',
        'requestAnimationFrame',
      ])
        if (new RegExp(`(?<![\\w.])${g}\\b`).test(code)) bad.push(`${relative(ROOT, f)} uses ${g}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('the data-path table (datapath.ts)', () => {
  it('has unique keys and ids, ids 0..n-1 (they are stored in snapshots)', () => {
    const ids = EVENTS.map((d) => d.id).sort((a, b) => a - b);
    expect(ids).toEqual(EVENTS.map((_, i) => i));
    expect(new Set(EVENTS.map((d) => d.key)).size).toBe(EVENTS.length);
  });

  it('keys events by the hop they record first (a variant after ":"), and names only known hops', () => {
    for (const d of EVENTS) {
      expect(HOP[d.key.split(':')[0]], d.key).toBeTypeOf('number');
      for (const r of d.records)
        for (const alt of r.split('|'))
          expect(HOP[alt.trim().split(' ')[0]], `${d.key}: ${alt}`).toBeTypeOf('number');
      for (const n of d.next) expect(EV[n as keyof typeof EV], `${d.key} -> ${n}`).toBeTypeOf('number');
      expect(eventName(d.id)).toBe(d.key);
    }
  });

  it('says which file registers each handler, and a second handler is refused', () => {
    for (const d of EVENTS) {
      const file = d.at.split(':')[0];
      expect(readFileSync(join(ENGINE, file), 'utf8'), `${d.key}: ${file}`).toContain(`on('${d.key}',`);
    }
    expect(() => on('dev.raise', () => {})).toThrow(/event 'dev.raise' has two handlers/);
    expect(() => checkEvents()).not.toThrow();
  });

  it('keeps the ids snapshots were written with', () => {
    // the queue's kinds in snapshots before issue 14 (module load order then), by today's keys
    expect(EV['irqfd.wakeup:ioapic']).toBe(0);
    expect(EV['irqfd.wakeup']).toBe(1);
    expect(EV['vmm.interrupt']).toBe(2);
    expect(EV['vfio.msihandler']).toBe(3);
    expect(EV['eventfd.signal']).toBe(4);
    expect(EV['lapic.accept']).toBe(10);
    expect(EV['ir.remap']).toBe(19);
    expect(EV['dev.raise']).toBe(20);
    expect(EV['host.irq']).toBe(21);
  });
});

describe('every event records only the rows datapath.ts declares for it', () => {
  it('in every library scenario, stepped one event at a time', () => {
    const declared = new Map<number, Set<string>>(
      EVENTS.map((d) => [
        d.id,
        new Set(d.records.flatMap((r) => r.split('|').map((alt) => alt.trim().split(' ')[0]))),
      ]),
    );
    const dir = join(ROOT, 'public/scenarios');
    const unexpected = new Set<string>();
    let stepped = 0;
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json') || f === 'index.json') continue;
      const p = parseScenario(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (!p.ok) throw new Error(`${f}: ${p.errors.join('; ')}`);
      const sys = scenarioSystem(p.scenario);
      for (const st of p.scenario.steps) {
        sys.apply(st.command as Parameters<System['apply']>[0]);
        for (;;) {
          const q = sys.engine.queue.toJSON();
          if (q.length === 0) break;
          const next = q.reduce((m, x) => (x.time < m.time || (x.time === m.time && x.seq < m.seq) ? x : m));
          const rows = sys.step();
          stepped++;
          for (const r of rows)
            if (!declared.get(next.kind)!.has(r.hop))
              unexpected.add(`${eventName(next.kind)} records ${r.hop} (${f})`);
        }
      }
    }
    expect(stepped).toBeGreaterThan(1000);
    expect([...unexpected].sort()).toEqual([]);
  });
});
