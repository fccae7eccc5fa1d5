// Every scenario of the built-in library runs headless and every expectation holds; the guest-visible
// behaviour is the same under every design (only the functions named differ), except where a design's
// rule says otherwise (DIVERGES below); the merged design refuses a topology with virtual devices.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, runScenario, scenarioSystem, runStep, type Scenario } from '../src/engine/index.ts';
import type { DesignGeneration } from '../src/engine/types.ts';
import { DESIGN_IDS } from '../src/engine/linux/drivers/vfio/pci/designs.ts';

// Where a design's rule changes what the guest or user space sees, scenario by scenario: RFC v3 keeps
// per-vector contexts until release (18/26), so INTx after MSI-X finds context 0 taken and
// vfio_intx_enable returns -ENOMEM.
const DIVERGES: Record<string, Partial<Record<DesignGeneration, string>>> = {
  'eventfd-deassign.json': { 'rfc-v3': 'ENOMEM' },
};

const DIR = new URL('../public/scenarios/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json');

function load(f: string): Scenario {
  const p = parseScenario(JSON.parse(readFileSync(new URL(f, DIR), 'utf8')));
  if (!p.ok) throw new Error(`${f}: ${p.errors.join('; ')}`);
  return p.scenario;
}

describe('built-in scenarios', () => {
  it('index.json lists every scenario file and names the default', () => {
    const index = JSON.parse(readFileSync(new URL('index.json', DIR), 'utf8')) as {
      default: string;
      scenarios: { file: string }[];
    };
    expect(index.scenarios.map((s) => s.file).sort()).toEqual([...files].sort());
    expect(files).toContain(`${index.default}.json`);
  });

  it('every step of every scenario has a caption (shown in the page during design reviews)', () => {
    const missing = files.flatMap((f) =>
      load(f)
        .steps.map((st, i) => ({ i, op: st.command.op, caption: st.caption }))
        .filter((st) => !(st.caption ?? '').trim())
        .map((st) => `${f} step ${st.i} ${st.op}`),
    );
    expect(missing).toEqual([]);
  });

  for (const f of files) {
    it(`${f}: every expectation holds`, () => {
      const s = load(f);
      expect(s.name).toBe(f.replace(/\.json$/, ''));
      const r = runScenario(s);
      const failures = r.steps.flatMap((st) => st.failures.map((x) => `step ${st.index} ${st.op}: ${x}`));
      expect(failures).toEqual([]);
    });

    it(`${f}: the guest sees the same thing under every design`, () => {
      const s = load(f);
      const outcome = (design: DesignGeneration) => {
        const sys = scenarioSystem(s, { design });
        const results = s.steps.map((_, i) => runStep(sys, s, i).result);
        const snap = sys.snapshot();
        const hops = sys
          .traceSlice(0, sys.traceLength())
          .map((h) => `${h.time} ${h.irq} ${h.hop} ${h.from} ${h.to} ${h.outcome}`);
        return {
          results,
          interrupts: snap.interrupts,
          vcpus: snap.state.kvm.vcpus,
          counters: snap.state.counters,
          hops,
        };
      };
      const vdevs = (s.topology.vdevs ?? []).length > 0;
      // the reference: the merged code for plain vfio-pci devices, RFC v3 (the default) for virtual ones
      const ref = vdevs ? 'rfc-v3' : 'merged';
      const base = outcome(ref);
      for (const d of DESIGN_IDS.filter((x) => x !== ref)) {
        if (vdevs && d === 'merged') {
          expect(runScenario(s, { design: d }).steps[0].failures.join()).toMatch(/has no IMS backend/);
          continue;
        }
        const errno = DIVERGES[f]?.[d];
        if (!errno) {
          expect(outcome(d), d).toEqual(base);
          continue;
        }
        const got = outcome(d)
          .results.filter((r) => !r.ok)
          .map((r) => (r.ok ? '' : r.errno));
        expect(got.length, d).toBeGreaterThan(0);
        expect(new Set(got), d).toEqual(new Set([errno]));
      }
    });
  }
});

describe('published JSON Schema', () => {
  it('public/schema/scenario.schema.json is generated from the current validator (npm run schema)', async () => {
    const { scenarioJsonSchema, SCHEMA_PATH } = await import('../src/cli/schema.ts');
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(scenarioJsonSchema());
  });
});
