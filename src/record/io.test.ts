// The doors into the page: a file (size, depth, schema with its JSON path), a shared link (round trip,
// damage, bounds), the user's library in IndexedDB (a failing save rejects and keeps nothing half
// written), and the Playwright export (deterministic, one test.step per step, only @playwright/test).

import { readFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { parseScenario, type Scenario } from '../engine/index.ts';
import { MAX_FILE_BYTES, readScenarioFile, readScenarioText } from './file.ts';
import { decodeLink, encodeLink } from './link.ts';
import { memoryKv, UserLibrary } from './storage.ts';
import { exportPlaywright, expectationCount, tsString } from './exporter.ts';

const text = readFileSync('public/scenarios/msix-masked-pba.json', 'utf8');
const parsed = parseScenario(JSON.parse(text));
if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
const scenario: Scenario = parsed.scenario;

describe('a scenario file', () => {
  it('is refused past 2 MB before it is parsed, naming the size', async () => {
    const big = new Blob([' '.repeat(MAX_FILE_BYTES + 1)]);
    const r = await readScenarioFile(Object.assign(big, { name: 'big.json' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toBe('big.json is 2.0 MB: larger than the 2.0 MB a scenario may be');
  });
  it('nested too deep is refused with the path where it goes too deep', () => {
    let deep = '1';
    for (let i = 0; i < 100; i++) deep = `{"a":${deep}}`;
    const r = readScenarioText(`{"format":2,"name":"x","title":"x","description":${deep}}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^description\.a\.a.*nested deeper than 64 levels/);
  });
  it('a wrong field names its JSON path and what was expected', () => {
    const doc = JSON.parse(text) as { steps: { command: Record<string, unknown> }[] };
    doc.steps[3].command.vector = 'one';
    const r = readScenarioText(JSON.stringify(doc));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(/^steps\.3\.command\.vector: decimal or 0x/);
  });
  it('bad JSON names where it broke', () => {
    const r = readScenarioText('{"format": 2,');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^not JSON: /);
  });
});

describe('a shared link', () => {
  it('carries the scenario, the step, the profile and the design', () => {
    const h = encodeLink({ scenario, step: 5, profile: '6.1', design: 'rfc-v3' });
    expect(h).toMatch(/^step=5&profile=6\.1&design=rfc-v3&scenario=[A-Za-z0-9+$-]+$/);
    const back = decodeLink(`#${h}`);
    expect(back).toEqual({ ok: true, scenario, step: 5, profile: '6.1', design: 'rfc-v3' });
    expect(h.length).toBeLessThan(JSON.stringify(scenario).length * 0.75);
  });
  it('no scenario in the hash is no link; a damaged one says so', () => {
    expect(decodeLink('#foo=1')).toBeNull();
    expect(decodeLink('#scenario=%%%')).toMatchObject({ ok: false });
    const h = encodeLink({ scenario, step: 99 });
    const r = decodeLink(h);
    expect(r).toMatchObject({ ok: false });
    if (r && !r.ok) expect(r.errors[0]).toBe(`step: expected 0 to ${scenario.steps.length}, got "99"`);
  });
  it('a scenario in a link is checked like a file', () => {
    const bad = { ...scenario, steps: [{ command: { op: 'no.such' } }] } as unknown as Scenario;
    const r = decodeLink(encodeLink({ scenario: bad, step: 0 }));
    expect(r).toMatchObject({ ok: false });
  });
});

describe("the user's library", () => {
  it('keeps scenarios and the session, validated again when read', async () => {
    const kv = memoryKv();
    const lib = new UserLibrary(kv);
    await lib.save(scenario, 'recorded', '2026-01-01T00:00:00Z');
    await lib.save({ ...scenario, name: 'second' }, 'imported', '2026-01-02T00:00:00Z');
    kv.map.set('scenario:broken', { name: 'broken', scenario: { format: 2 } });
    const { saved, damaged } = await lib.list();
    expect(saved.map((s) => s.name)).toEqual(['second', 'msix-masked-pba']);
    expect(damaged[0]).toMatch(/^broken: /);
    await lib.remove('second');
    expect((await lib.list()).saved).toHaveLength(1);
    await lib.saveSession({
      scenario,
      file: 'msix-masked-pba.json',
      step: 4,
      profile: '6.1',
      design: null,
      recording: null,
      hop: 17,
    });
    expect(await lib.loadSession()).toMatchObject({
      step: 4,
      profile: '6.1',
      file: 'msix-masked-pba.json',
      hop: 17,
    });
    // a damaged hop is dropped (the page then stops at the step's end), the rest is kept
    kv.map.set('session', { ...(kv.map.get('session') as object), hop: -3 });
    const back = await lib.loadSession();
    expect(back).toMatchObject({ step: 4 });
    expect(back).not.toHaveProperty('hop');
  });
  it('a save the browser refuses rejects, and what was kept stays', async () => {
    let fail = false;
    const kv = memoryKv(() => (fail ? new Error('QuotaExceededError') : null));
    const lib = new UserLibrary(kv);
    await lib.save(scenario, 'recorded', 'a');
    fail = true;
    await expect(lib.save({ ...scenario, name: 'other' }, 'recorded', 'b')).rejects.toThrow(
      'QuotaExceededError',
    );
    expect((await lib.list()).saved.map((s) => s.name)).toEqual(['msix-masked-pba']);
  });
});

describe('Export as Playwright test', () => {
  const spec = exportPlaywright(scenario);
  it('is the same bytes for the same scenario', () => expect(exportPlaywright(scenario)).toBe(spec));
  it('one test.step per scenario step, and only @playwright/test imported', () => {
    expect(spec.match(/await test\.step\(/g)).toHaveLength(scenario.steps.length);
    expect(spec.match(/^import .*$/gm)).toEqual(["import { expect, test } from '@playwright/test';"]);
    expect(spec).toContain(`toHaveText('All ${scenario.steps.length} commands done')`);
  });
  it('checks the errno and the number of expectations of each step', () => {
    expect(spec).toContain("toHaveAttribute('data-errno', 'EINVAL')");
    const n = expectationCount(scenario.steps[5].expect);
    expect(n).toBe(1 + Object.keys(scenario.steps[5].expect!.snapshot!).length);
    expect(spec).toContain(`toHaveCount(${n})`);
  });
  it('quotes captions as text, as Prettier would', () => {
    expect(tsString('a \\ `${x}` </script>\n')).toBe("'a \\\\ `${x}` </script>\\n'");
    expect(tsString("it's")).toBe('"it\'s"');
    expect(tsString("it's \"a\" 'b'")).toBe('"it\'s \\"a\\" \'b\'"');
  });
  it("passes the repository's prettier --check unchanged, for every library scenario", async () => {
    const options = { ...(await resolveConfig('e2e/x.spec.ts')), filepath: 'e2e/x.spec.ts' };
    const index = JSON.parse(readFileSync('public/scenarios/index.json', 'utf8')) as {
      scenarios: { file: string }[];
    };
    for (const { file } of index.scenarios) {
      const p = parseScenario(JSON.parse(readFileSync(`public/scenarios/${file}`, 'utf8')));
      if (!p.ok) throw new Error(p.errors.join('\n'));
      const out = exportPlaywright(p.scenario, { step: 0 });
      expect(await format(out, options), file).toBe(out);
    }
  });
});
