// The engine contract (DESIGN.md): errno results, never a throw; internal errors undone; topology checks.
import { describe, expect, it } from 'vitest';
import { createSystem, TopologyError } from './system.ts';
import { COMMAND_BY_OP } from './commands.ts';
import type { Snapshot, Topology } from './types.ts';

const topo: Topology = { devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 4 } }] };

describe('createSystem / apply', () => {
  it('refuses a bad topology with every problem named', () => {
    const bad = {
      devices: [{ name: 'Nic', msix: { table_size: 4096 } }, { name: 'Nic' }],
      vdevs: [{ name: 'v', parent: 'x', kind: 'idxd-wq', wq: 0, vectors: ['ims'] }],
    };
    try {
      createSystem(bad as unknown as Topology);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TopologyError);
      const errors = (err as TopologyError).errors.join('\n');
      expect(errors).toMatch(/devices\[0\]\.name/);
      expect(errors).toMatch(/table_size must be 1\.\.2048/);
      expect(errors).toMatch(/parent 'x'/);
    }
  });

  it('answers unknown commands with ENOTTY and bad fields with EINVAL naming the field', () => {
    const sys = createSystem(topo);
    expect(sys.apply({ op: 'nope' })).toMatchObject({ ok: false, errno: 'ENOTTY', field: 'op' });
    expect(sys.apply({ op: 'device.raise', device: 'nic0', vector: 'x' })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      field: 'vector',
    });
    expect(sys.apply({ op: 'device.raise', device: 'ghost' })).toMatchObject({
      ok: false,
      errno: 'ENODEV',
      field: 'device',
    });
    expect(sys.apply({ op: 'device.raise', device: 'nic0', extra: 1 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      field: 'extra',
    });
    expect(sys.apply(null as never)).toMatchObject({ ok: false, errno: 'EINVAL' });
  });

  it('leaves the state untouched when a command is refused', () => {
    const sys = createSystem(topo);
    sys.apply({ op: 'eventfd.create' });
    const before = sys.snapshot();
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 9,
        count: 1,
        data: [6],
      }).ok,
    ).toBe(false);
    expect(model(sys.snapshot())).toEqual(model(before));
    // the refusal is a trace row where the kernel refused it
    const row = sys.traceSlice(before.trace_length, sys.traceLength());
    expect(row).toMatchObject([{ outcome: 'failed', fn: 'vfio_pci_ioctl_set_irqs', to: 'vfio:nic0' }]);
    expect(row[0].detail).toMatch(/^EINVAL.*by kernel/);
  });

  it('undoes a command that fails inside the engine (a bug) and says so', () => {
    const sys = createSystem(topo);
    sys.apply({ op: 'eventfd.create' });
    sys.apply({ op: 'device.raise', device: 'nic0' });
    const before = sys.snapshot();
    COMMAND_BY_OP.set('test.crash', {
      op: 'test.crash',
      label: '',
      group: 'device',
      doc: '',
      fields: {},
      fn: 'test',
      node: () => 'kvm',
      run: (e) => {
        e.state.devices.nic0.command = 0xffff;
        e.newIrq('x', 'direct');
        throw new TypeError('boom');
      },
    });
    try {
      const r = sys.apply({ op: 'test.crash' });
      expect(r).toMatchObject({ ok: false, errno: 'EIO', tool: true });
      expect(model(sys.snapshot())).toEqual(model(before));
    } finally {
      COMMAND_BY_OP.delete('test.crash');
    }
  });

  it('runs to a virtual time and stops there', () => {
    const sys = createSystem(topo);
    sys.apply({ op: 'guest.msixEnable', device: 'nic0' });
    sys.apply({ op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40 });
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0 });
    const r = sys.run({ until: 500 });
    expect(r.idle).toBe(false);
    expect(r.time).toBe(500);
    expect(sys.run().idle).toBe(true);
  });

  it('steps one event at a time and returns the hops it recorded', () => {
    const sys = createSystem(topo);
    sys.apply({ op: 'device.raise', device: 'nic0' });
    expect(sys.step().map((h) => h.hop)).toEqual(['intx.assert']);
    expect(sys.step()).toEqual([]);
  });
});

describe('dispose', () => {
  it('gives the trace back and refuses any later call, naming dispose', () => {
    const sys = createSystem(topo);
    sys.dispose();
    expect(() => sys.apply({ op: 'device.raise', device: 'nic0' })).toThrow(/disposed/);
    expect(() => sys.run()).toThrow(/disposed/);
    expect(() => sys.step()).toThrow(/disposed/);
    expect(() => sys.snapshot()).toThrow(/disposed/);
    expect(() => sys.traceLength()).toThrow(/disposed/);
  });
});

/** A snapshot without the trace's length: what a refused command must leave as it was. */
function model(s: Snapshot): Omit<Snapshot, 'trace_length' | 'trace_strings'> {
  const { trace_length: _l, trace_strings: _s, ...rest } = s;
  return rest;
}
