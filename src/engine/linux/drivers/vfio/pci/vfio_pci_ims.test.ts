// The IMS backend (RFC v3: vfio_ims_request_interrupt / vfio_ims_free_interrupt): an IMS entry of the
// parent is allocated when a virtual vector gets its eventfd, and given back when it loses it.
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../../system.ts';

const topo = {
  devices: [{ name: 'dsa0', msix: { table_size: 2 }, ims: { size: 2 }, passthrough: false }],
  vdevs: [
    {
      name: 'vdsa0',
      parent: 'dsa0',
      kind: 'idxd-wq' as const,
      wq: 0,
      vectors: ['emulated' as const, 'ims' as const],
      cookie: 11,
    },
    {
      name: 'vdsa1',
      parent: 'dsa0',
      kind: 'idxd-wq' as const,
      wq: 0,
      vectors: ['emulated' as const, 'ims' as const],
      cookie: 12,
    },
  ],
};

describe('IMS-backed vectors', () => {
  it('allocate an IMS entry with the virtual device cookie, and free it on de-assign', () => {
    const sys = createSystem(topo);
    const fd = sys.apply({ op: 'eventfd.create' }).ok ? 6 : -1;
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'vdsa0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 1,
        count: 1,
        data: [fd],
      }).ok,
    ).toBe(true);
    let s = sys.snapshot().state;
    expect(s.devices.dsa0.ims!.entries[0]).toMatchObject({ owner: 'vdsa0', cookie: 11, masked: false });
    expect(s.host.irqs[s.devices.dsa0.ims!.entries[0].host_irq!].chip).toBe('IMS');
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'vdsa0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 1,
        count: 1,
        data: [-1],
      }).ok,
    ).toBe(true);
    s = sys.snapshot().state;
    expect(s.devices.dsa0.ims!.entries[0]).toMatchObject({ owner: null, host_irq: null });
    expect(Object.values(s.host.irqs)).toEqual([]);
  });

  it("ENOSPC when the parent's store is full, and the vector is left without an eventfd", () => {
    const sys = createSystem({ ...topo, devices: [{ ...topo.devices[0], ims: { size: 1 } }] });
    sys.apply({ op: 'eventfd.create' });
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'vdsa0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 1,
        count: 1,
        data: [6],
      }).ok,
    ).toBe(true);
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'vdsa1',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 1,
        count: 1,
        data: [6],
      }),
    ).toMatchObject({ ok: false, errno: 'EBUSY' });
    expect(sys.snapshot().state.vfio.vdsa1.ctx).toEqual({});
  });

  it('an emulated vector allocates nothing', () => {
    const sys = createSystem(topo);
    sys.apply({ op: 'eventfd.create' });
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'vdsa0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 0,
        count: 1,
        data: [6],
      }).ok,
    ).toBe(true);
    const s = sys.snapshot().state;
    expect(s.vfio.vdsa0.ctx['0']).toMatchObject({ backend: 'emulated', host_irq: null, trigger: 6 });
    expect(s.devices.dsa0.ims!.entries.every((x) => x.owner === null)).toBe(true);
  });
});
