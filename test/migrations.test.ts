// Scenario format versions: old files (kept as written in test/fixtures/old-format/) migrate to the
// current format and replay the same; a file of a newer format is refused, saying so.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CURRENT_FORMAT, parseScenario, parseScenarioText } from '../src/engine/scenario/schema.ts';
import { runScenario } from '../src/engine/scenario/runner.ts';

const dir = new URL('./fixtures/old-format/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

// Expectations a kept file wrote that a later correction of the model changed; the file is kept as written
// (that is the point of it), so these fail for the model's reason, never for the format's.
const CORRECTED: Record<string, RegExp[]> = {
  'posted-interrupts.json': [
    // Issue 13 item 3: under APICv the CPU delivers a posted vector (lapic.vid), not kvm_get_apic_interrupt.
    /hop 'lapic\.accept' did not occur/,
    // Issue 13 item 1: QEMU opens its INTx eventfd at realize, so the file's deassign names another fd.
    /iommu\.irte\.1\.mode: expected "remapped"/,
    /function vmx_pi_update_irte did not run/,
  ],
};

describe('format 1 files migrate to format 2', () => {
  it('keeps at least four old files', () => expect(files.length).toBeGreaterThanOrEqual(4));
  for (const f of files) {
    it(`${f}: parses, pins the defaults it ran with, and passes (bar later model corrections)`, () => {
      const raw = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Record<string, never>;
      expect(raw.format).toBe(1);
      const p = parseScenario(raw);
      if (!p.ok) throw new Error(p.errors.join('\n'));
      expect(p.scenario.format).toBe(CURRENT_FORMAT);
      const t = raw.topology as { profile?: string; design?: string; vdevs?: unknown[] };
      expect(p.scenario.topology.profile).toBe(t.profile ?? '6.12');
      expect(p.scenario.topology.design).toBe(t.design ?? (t.vdevs?.length ? 'rfc-v3' : 'merged'));
      expect(p.scenario.options.seed).toBe((raw.options as { seed?: number } | undefined)?.seed ?? 1);
      const failures = runScenario(p.scenario).steps.flatMap((s) => s.failures);
      const known = CORRECTED[f] ?? [];
      expect(failures.filter((m) => !known.some((k) => k.test(m)))).toEqual([]);
      for (const k of known)
        expect(
          failures.some((m) => k.test(m)),
          String(k),
        ).toBe(true);
    });
  }

  it('the migrated file replays the same trace as format 1 did with the defaults', () => {
    const text = readFileSync(new URL('minimal-v1.json', dir), 'utf8');
    const p = parseScenarioText(text);
    if (!p.ok) throw new Error(p.errors.join('\n'));
    const r = runScenario(p.scenario);
    expect(r.steps.map((s) => s.hops)).toEqual(
      runScenario(p.scenario, { profile: '6.12', design: 'merged' }).steps.map((s) => s.hops),
    );
    expect(r.passed).toBe(true);
  });
});

describe('format checks', () => {
  const base = { name: 'x', title: 'x', description: '', steps: [{ command: { op: 'run' } }] };
  it('refuses a newer format, naming both versions', () => {
    const p = parseScenario({
      ...base,
      format: CURRENT_FORMAT + 1,
      topology: { devices: [{ name: 'nic0' }] },
    });
    expect(p.ok).toBe(false);
    if (!p.ok)
      expect(p.errors[0]).toBe(
        `format ${CURRENT_FORMAT + 1} is newer than this irqflow understands (${CURRENT_FORMAT})`,
      );
  });
  it('format 2 requires the profile, the design and the seed', () => {
    const p = parseScenario({ ...base, format: 2, topology: { devices: [{ name: 'nic0' }] } });
    expect(p.ok).toBe(false);
    if (!p.ok) {
      const joined = p.errors.join('\n');
      expect(joined).toMatch(/topology\.profile/);
      expect(joined).toMatch(/topology\.design/);
      expect(joined).toMatch(/options/);
    }
  });
  it('an optional field a later reader adds is not a format change: unknown fields are still refused', () => {
    const p = parseScenario({ ...base, format: 1, topology: { devices: [{ name: 'nic0' }] }, extra: 1 });
    expect(p.ok).toBe(false);
  });
});

describe('expect.path: an interrupt journey in order', () => {
  const text = readFileSync(new URL('minimal-v1.json', dir), 'utf8');
  const parsed = parseScenarioText(text);
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const s = parsed.scenario;
  const withPath = (functions: string[]) => ({
    ...s,
    steps: s.steps.map((st, i) => (i === 4 ? { ...st, expect: { path: [{ irq: 1, functions }] } } : st)),
  });
  it('passes when the functions ran in that order, even if the journey began in an earlier step', () => {
    expect(runScenario(withPath(['vfio_msihandler', 'irqfd_wakeup'])).passed).toBe(true);
  });
  it('fails when they ran in another order, naming the one missing', () => {
    const r = runScenario(withPath(['irqfd_wakeup', 'vfio_msihandler']));
    expect(r.passed).toBe(false);
    expect(r.steps[4].failures[0]).toMatch(/interrupt 1: vfio_msihandler did not run \(in order\)/);
  });
});
