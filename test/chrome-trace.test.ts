// The Perfetto export (src/engine/scenario/chrome-trace.ts): every library scenario's trace in the Chrome
// trace event format has the fields the format requires, a named track per component, and each
// interrupt's hops joined as one flow whose points bind to slices on their tracks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenarioText, runStep, scenarioSystem } from '../src/engine/index.ts';
import { chromeTrace, type ChromeTraceEvent } from '../src/engine/scenario/chrome-trace.ts';

const DIR = join(import.meta.dirname, '../public/scenarios');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json');

function traceOf(file: string) {
  const parsed = parseScenarioText(readFileSync(join(DIR, file), 'utf8'));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const s = parsed.scenario;
  const sys = scenarioSystem(s);
  for (let i = 0; i < s.steps.length; i++) runStep(sys, s, i);
  const hops = sys.traceSlice(0, sys.traceLength());
  return {
    hops,
    trace: chromeTrace(hops, {
      name: s.name,
      profile: sys.engine.state.profile,
      design: sys.engine.state.design,
    }),
  };
}

describe('Chrome trace export for Perfetto', () => {
  for (const file of FILES)
    it(`${file}: required fields, named tracks, one flow per interrupt`, () => {
      const { hops, trace } = traceOf(file);
      const ev = trace.traceEvents;
      for (const e of ev) {
        expect(typeof e.ph).toBe('string');
        expect(typeof e.name).toBe('string');
        expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
        if (e.ph !== 'M') expect(Number.isFinite(e.ts)).toBe(true);
        if (e.ph === 'X') expect(e.dur).toBeGreaterThan(0);
      }
      const slices = ev.filter((e) => e.ph === 'X');
      expect(slices).toHaveLength(hops.length);
      const named = new Set(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid));
      for (const s of slices) expect(named.has(s.tid)).toBe(true);
      const flows = new Map<number, ChromeTraceEvent[]>();
      for (const e of ev)
        if (e.ph === 's' || e.ph === 't' || e.ph === 'f')
          (flows.get(e.id!) ?? flows.set(e.id!, []).get(e.id!)!).push(e);
      const irqs = new Map<number, number>();
      for (const h of hops) if (h.irq > 0) irqs.set(h.irq, (irqs.get(h.irq) ?? 0) + 1);
      for (const [irq, n] of irqs) {
        const f = flows.get(irq) ?? [];
        if (n < 2) {
          expect(f).toHaveLength(0);
          continue;
        }
        expect(f.map((e) => e.ph)).toEqual(['s', ...Array(n - 2).fill('t'), 'f']);
        for (let i = 1; i < f.length; i++) expect(f[i].ts!).toBeGreaterThanOrEqual(f[i - 1].ts!);
        // each point lies in a slice of its interrupt on its track (how the importer binds flows)
        for (const p of f)
          expect(
            slices.some(
              (s) =>
                s.tid === p.tid && s.args!.interrupt === irq && s.ts! <= p.ts! && p.ts! <= s.ts! + s.dur!,
            ),
          ).toBe(true);
      }
    });

  it('irqflow trace writes the file and exits 0', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'irqflow-trace-')), 't.json');
    const r = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../bin/irqflow.js'), 'trace', join(DIR, 'msix-direct.json'), '-o', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(out, 'utf8'));
    expect(t.displayTimeUnit).toBe('ns');
    expect(t.traceEvents.some((e: ChromeTraceEvent) => e.ph === 'f')).toBe(true);
  });
});
