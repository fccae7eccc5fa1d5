// Regression tests for the bad-input defects of issue 10, one per defect, through the public surface
// only (the engine's index and the CLI), so each can be run against an older tree to see it fail there.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSystem, parseScenario, runScenario, type Command, type System } from '../src/engine/index.ts';

const ROOT = join(import.meta.dirname, '..');
const library = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, 'public/scenarios', `${name}.json`), 'utf8')) as {
    topology: Parameters<typeof createSystem>[0];
    steps: { command: Command }[];
  };

/** msix-direct up to (not including) its raise: MSI-X on, vector 3 programmed and unmasked. */
function ready(): System {
  const s = library('msix-direct');
  const sys = createSystem(s.topology);
  for (const st of s.steps)
    if (st.command.op !== 'device.raise' && st.command.op !== 'run') sys.apply(st.command);
  return sys;
}

function delivers(sys: System): void {
  const r = sys.apply({ op: 'device.raise', device: 'nic0', vector: 3 });
  expect(r.ok).toBe(true);
  expect(sys.apply({ op: 'run' })).toMatchObject({ ok: true });
  const id = r.ok ? r.value : 0;
  expect(sys.snapshot().interrupts.find((x) => x.id === id)?.fate).toBe('delivered');
}

function cli(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/irqflow.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function scenarioFile(doc: unknown, raw?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'irqflow-bad-'));
  const file = join(dir, 's.json');
  writeFileSync(file, raw ?? JSON.stringify(doc));
  return file;
}

const SMALL = {
  format: 1,
  name: 'small',
  title: 'small',
  description: 'one device',
  topology: { devices: [{ name: 'nic0', msix: { table_size: 1 } }] },
  steps: [{ command: { op: 'guest.msixEnable', device: 'nic0' } }],
};

describe('issue 10: bad input never breaks the engine', () => {
  it('1. a negative vector, or one at or above 2^31, is refused and the system still delivers', () => {
    for (const vector of [-1, 2 ** 31, 2 ** 32 + 3]) {
      const sys = ready();
      expect(sys.apply({ op: 'device.raise', device: 'nic0', vector })).toMatchObject({
        ok: false,
        errno: 'EINVAL',
        field: 'vector',
      });
      expect(() => sys.step()).not.toThrow();
      delivers(sys);
    }
  });

  it('1. u32 fields refuse negatives instead of wrapping: SET_IRQS count -1 enables nothing', () => {
    for (const profile of ['6.1', '6.12'] as const) {
      const sys = createSystem({ ...library('msix-direct').topology, profile });
      const r = sys.apply({
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'NONE|TRIGGER',
        index: 'MSIX',
        start: 0,
        count: -1,
      });
      expect(r).toMatchObject({ ok: false, errno: 'EINVAL', field: 'count' });
      expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('none');
    }
  });

  it('2. prototype names are no device, no op and no snapshot path', () => {
    for (const device of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const sys = ready();
      for (const cmd of [
        { op: 'device.raise', device },
        { op: 'guest.mmioWrite', device, offset: 0xa0, value: 0 },
        { op: 'vfio.getIrqInfo', device, index: 'MSIX' },
        { op: 'guest.msixEnable', device },
      ])
        expect(sys.apply(cmd), `${cmd.op} ${device}`).toMatchObject({
          ok: false,
          errno: 'ENODEV',
          field: 'device',
        });
      delivers(sys);
    }
    const sys = ready();
    for (const op of ['toString', 'constructor', '__proto__'])
      expect(sys.apply({ op })).toMatchObject({ ok: false, errno: 'ENOTTY', field: 'op' });
    const doc = {
      ...SMALL,
      steps: [{ command: { op: 'eventfd.create' }, expect: { snapshot: { 'devices.__proto__': {} } } }],
    };
    const parsed = parseScenario(doc);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(runScenario(parsed.scenario).passed).toBe(false);
  });

  it('3. deep nesting is invalid input (exit 2 with the JSON path), not a crash', () => {
    const nested = '['.repeat(1500) + '1' + ']'.repeat(1500);
    const text = JSON.stringify(SMALL).replace(
      '"op":"guest.msixEnable"',
      `"x":${nested},"op":"guest.msixEnable"`,
    );
    const r = cli(['run', scenarioFile(null, text)]);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/steps\.0\.command\.x/);
    expect(r.out).not.toMatch(/RangeError|at .*\.js:\d+/);
  });

  it('4. a tiny scenario cannot run the CLI out of memory: the run stops at a limit it names', () => {
    const doc = {
      ...SMALL,
      steps: [
        { command: { op: 'guest.msixEnable', device: 'nic0' } },
        { command: { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 64 } },
        { command: { op: 'guest.unmask', device: 'nic0', vector: 0 } },
        { command: { op: 'device.raise', device: 'nic0', count: 1000000 } },
        { command: { op: 'device.raise', device: 'nic0', count: 1000000 } },
        { command: { op: 'run' } },
      ],
    };
    const r = cli(['run', scenarioFile(doc), '--max-trace-events', '200000']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/limit of 1000000 \(options\.limits\.interrupts/);
    expect(r.out).toMatch(/limit of 200000 hop events \(options\.limits\.trace_events\)/);
  });

  it('5. a step without expect fails when its command fails', () => {
    // a kernel errno the author did not expect: SET_IRQS on an index the device lacks
    const command = {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [-1],
    };
    const parsed = parseScenario({ ...SMALL, steps: [{ command }] });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(runScenario(parsed.scenario).passed).toBe(false);
  });

  it('5. an unknown op or field, a missing field or an unknown device is invalid input when the file is parsed', () => {
    for (const [command, path] of [
      [{ op: 'no.such' }, /steps\.0\.command/],
      [{ op: 'guest.msixEnable', device: 'nic0', bogus: 1 }, /steps\.0\.command.*bogus|Unrecognized key/],
      [{ op: 'guest.program', device: 'nic0' }, /steps\.0\.command\.vector/],
      [{ op: 'guest.msixEnable', device: 'nic9' }, /steps\.0\.command\.device: no device named "nic9"/],
      [{ op: 'device.raise', device: 'nic0', vector: -1 }, /steps\.0\.command\.vector/],
    ] as const) {
      const parsed = parseScenario({ ...SMALL, steps: [{ command }] });
      expect(parsed.ok, JSON.stringify(command)).toBe(false);
      if (!parsed.ok) expect(parsed.errors.join('\n')).toMatch(path);
    }
    const r = cli(['run', scenarioFile({ ...SMALL, steps: [{ command: { op: 'no.such' } }] })]);
    expect(r.status).toBe(2);
  });

  it("6. run refuses unknown fields and NaN; '' and ' ' are no integer", () => {
    const sys = ready();
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 3 });
    expect(sys.apply({ op: 'run', maxEvent: 2 })).toMatchObject({ ok: false, field: 'maxEvent' });
    expect(sys.apply({ op: 'run', until: Number.NaN })).toMatchObject({ ok: false, field: 'until' });
    expect(sys.snapshot().queue.length).toBeGreaterThan(0);
    for (const vector of ['', ' '])
      expect(sys.apply({ op: 'device.raise', device: 'nic0', vector })).toMatchObject({
        ok: false,
        field: 'vector',
      });
  });

  it('8. restore checks its input before touching the live trace', () => {
    const sys = ready();
    const len = sys.traceLength();
    const snap = sys.snapshot();
    expect(() => sys.restore({} as never)).toThrow();
    expect(() => sys.restore({ ...snap, next_irq: -1 })).toThrow();
    expect(sys.traceLength()).toBe(len);
    delivers(sys);
  });

  it('9. a byte order mark is allowed; costs are bounded and must exist', () => {
    const text = '\ufeff' + JSON.stringify(SMALL);
    expect(cli(['run', scenarioFile(null, text)]).status).toBe(0);
    const huge = cli(['run', scenarioFile({ ...SMALL, options: { cost: { msi_write: 1e308 } } })]);
    expect(huge.status).toBe(2);
    expect(huge.out).toMatch(/options\.cost\.msi_write/);
    const unknown = cli(['run', scenarioFile({ ...SMALL, options: { cost: { msi_wrte: 3 } } })]);
    expect(unknown.status).toBe(2);
    expect(unknown.out).toMatch(/msi_wrte/);
    expect(() => createSystem(SMALL.topology, { cost: { nope: 1 } as never })).toThrow(/options\.cost\.nope/);
  });

  it('9. control characters in user text reach the terminal escaped', () => {
    const doc = {
      ...SMALL,
      steps: [{ command: { op: 'eventfd.create' }, expect: { snapshot: { 'x\u001b[2J\rPASS': 1 } } }],
    };
    const r = cli(['run', scenarioFile(doc)]);
    expect(r.status).toBe(1);
    expect(r.out.includes(String.fromCharCode(0x1b))).toBe(false);
    expect(r.out).toMatch(/\\u001b\[2J\\u000dPASS/);
  });

  it('an internal error in an event is dropped with its reason, and the system goes on', () => {
    const sys = ready();
    // Corrupt the state behind the engine's back, as a bug would: the raise's event then throws.
    const r = sys.apply({ op: 'device.raise', device: 'nic0', vector: 3 });
    const id = r.ok ? (r.value as number) : 0;
    const table = sys.engine.state.devices.nic0.msix!.table;
    const saved = table[3];
    (table as unknown[])[3] = undefined;
    const run = sys.apply({ op: 'run' });
    expect(run).toMatchObject({ ok: false, errno: 'EIO', tool: true });
    table[3] = saved;
    expect(sys.snapshot().interrupts.find((x) => x.id === id)?.fate).toBe('dropped');
    delivers(sys);
  });

  it('an internal error after other events of the same run replays exactly those, then drops the one that threw', () => {
    const sys = ready();
    const a = sys.apply({ op: 'device.raise', device: 'nic0', vector: 2 }); // masked: it goes pending
    const b = sys.apply({ op: 'device.raise', device: 'nic0', vector: 3 });
    const ia = a.ok ? a.value : 0;
    const ib = b.ok ? b.value : 0;
    const table = sys.engine.state.devices.nic0.msix!.table;
    const saved = table[3];
    (table as unknown[])[3] = undefined;
    // vector 2's raise runs first (one event), then vector 3's throws
    const before = sys.traceLength();
    expect(sys.apply({ op: 'run' })).toMatchObject({ ok: false, errno: 'EIO', tool: true });
    table[3] = saved;
    const rows = sys.traceSlice(before, sys.traceLength()).map((r) => [r.hop, r.irq, r.outcome]);
    expect(rows).toEqual([
      ['msix.pending', ia, 'pending'],
      ['ctl.failed', ib, 'dropped'],
    ]);
    const fates = sys.snapshot().interrupts;
    expect(fates.find((x) => x.id === ia)?.fate).toBe('pending');
    expect(fates.find((x) => x.id === ib)?.fate).toBe('dropped');
    delivers(sys);
  });
});
