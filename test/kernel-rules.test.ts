// Rules a kernel engineer checks first, each against the source that sets it (see docs/kernel-notes.md).
import { describe, expect, it } from 'vitest';
import { createSystem, type System } from '../src/engine/index.ts';

const ok = (sys: System, cmd: Parameters<System['apply']>[0]) => {
  const r = sys.apply(cmd);
  if (!r.ok) throw new Error(`${cmd.op}: ${r.errno} ${r.message}`);
  return r.value;
};

describe('multi-vector MSI (intel_irq_remapping_alloc, fill_msi_msg)', () => {
  it('uses one handle with subhandles: vector i reaches its own eventfd', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msi: { vectors: 2 }, msix: null }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, { op: 'eventfd.create' });
    expect(
      ok(sys, {
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSI',
        start: 0,
        count: 2,
        data: [6, 7],
      }),
    ).toBe(0);
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 1 });
    sys.run();
    const s = sys.snapshot().state;
    expect([s.eventfds[6].count, s.eventfds[7].count]).toEqual([0, 1]);
    expect(s.iommu.irte.map((x) => x?.host_irq)).toHaveLength(2);
  });

  it('without interrupt remapping the host gives one vector and the ioctl returns 1', () => {
    const sys = createSystem({
      iommu: { interrupt_remapping: false },
      devices: [{ name: 'nic0', msi: { vectors: 4 }, msix: null }],
    });
    ok(sys, { op: 'eventfd.create' });
    expect(
      ok(sys, {
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSI',
        start: 0,
        count: 2,
        data: [6, 6],
      }),
    ).toBe(1);
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('none');
  });

  it('a masked vector with its pending bit set sends once when unmasked', () => {
    const sys = createSystem({
      devices: [{ name: 'nic0', msi: { vectors: 1, per_vector_mask: true }, msix: null }],
    });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [6],
    });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [-1],
    });
    ok(sys, { op: 'device.raise', device: 'nic0' });
    sys.run();
    expect(sys.snapshot().interrupts[0]).toMatchObject({ fate: 'pending', where: 'nic0 MSI pending[0]' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [6],
    });
    sys.run();
    expect(sys.snapshot().state.eventfds[6].count).toBe(1);
  });
});

describe('free_irq deactivates (irq_shutdown_and_deactivate)', () => {
  it('clears the IRTE and the message, so a message already in flight faults', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 2 } }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [6],
    });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    sys.step(); // the device sends the message
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [-1],
    });
    const s = sys.snapshot().state;
    expect(s.iommu.irte[0]?.present).toBe(false);
    expect(s.devices.nic0.msix!.table[0]).toMatchObject({ addr_lo: 0, data: 0, vector_ctrl: 1 });
    sys.run();
    expect(sys.snapshot().interrupts[0]).toMatchObject({
      fate: 'dropped',
      where: 'remapping fault: Present field in the IRTE entry is clear',
    });
  });

  it('request_irq rewrites the cached message, repairing a corrupted entry (vfio_msi_set_vector_signal)', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 2 } }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [6],
    });
    const good = sys.snapshot().state.devices.nic0.msix!.table[0].addr_lo;
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: 0, value: 0xdead0000 });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [6],
    });
    expect(sys.snapshot().state.devices.nic0.msix!.table[0].addr_lo).toBe(good);
  });

  it('never hands out a host vector already in use', () => {
    const sys = createSystem({ host: { cpus: 1 }, devices: [{ name: 'nic0', msix: { table_size: 2048 } }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 200,
      data: new Array(200).fill(6),
    });
    const r = sys.apply({
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 200,
      count: 100,
      data: new Array(100).fill(6),
    });
    expect(r).toMatchObject({ ok: false, errno: 'ENOSPC' });
    // reserved interrupts all point at MANAGED_IRQ_SHUTDOWN_VECTOR (arch/x86/kernel/apic/vector.c:
    // reserve_irq_vector); the ones that hold a real vector hold distinct ones
    const vectors = Object.values(sys.snapshot().state.host.irqs)
      .filter((h) => !h.reserved)
      .map((h) => h.vector);
    expect(vectors.length).toBe(200); // the failed block unwound its vectors 200 and 201
    expect(new Set(vectors).size).toBe(vectors.length);
  });
});

describe('the IOMMU checks the requester (source-id verification, fault 0x26)', () => {
  it("blocks a message that names another device's IRTE", () => {
    const sys = createSystem({
      devices: [
        { name: 'nic0', msix: { table_size: 1 } },
        { name: 'nic1', msix: { table_size: 1 } },
      ],
    });
    ok(sys, { op: 'eventfd.create' });
    for (const d of ['nic0', 'nic1'])
      ok(sys, {
        op: 'vfio.setIrqs',
        device: d,
        flags: 'EVENTFD|TRIGGER',
        index: 'MSIX',
        start: 0,
        count: 1,
        data: [6],
      });
    const nic0addr = sys.snapshot().state.devices.nic0.msix!.table[0].addr_lo;
    ok(sys, { op: 'device.msixWrite', device: 'nic1', offset: 0, value: nic0addr });
    ok(sys, { op: 'device.raise', device: 'nic1', vector: 0 });
    sys.run();
    expect(sys.snapshot().state.iommu.faults[0].reason).toBe(0x26);
  });
});

describe('KVM', () => {
  it('KVM_IRQFD on an eventfd already signalled injects once and leaves the count (irqfd_inject reads nothing; oracle kvm-irqfd read-e3-assigned)', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 1 } }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [6],
    });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0, count: 2 });
    sys.run();
    expect(sys.snapshot().state.eventfds[6].count).toBe(2);
    ok(sys, { op: 'kvm.route', gsi: 30, address_lo: 0xfee00000, data: 0x45 });
    ok(sys, { op: 'kvm.irqfd', fd: 6, gsi: 30 });
    sys.run();
    const snap = sys.snapshot();
    // the device's two interrupts still wait in the counter; irqfd_inject's own one was delivered
    expect(snap.interrupts.map((r) => r.fate)).toEqual(['pending', 'pending', 'delivered']);
    expect(snap.state.eventfds[6].count).toBe(2);
    expect(snap.state.kvm.vcpus[0].handled[0x45]).toBe(1);
    // the next signal's irqfd_wakeup reads the whole count with it
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    sys.run();
    const after = sys.snapshot();
    expect(after.interrupts.map((r) => r.fate)).toEqual(['coalesced', 'coalesced', 'delivered', 'delivered']);
    expect(after.state.eventfds[6].count).toBe(0);
  });

  it('KVM_IRQFD takes any GSI; only the routing table is bounded (oracle kvm-irqfd: GSI 5000)', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 1 } }] });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, { op: 'kvm.irqfd', fd: 6, gsi: 5000 });
    expect(sys.apply({ op: 'kvm.route', gsi: 5000, address_lo: 0xfee00000, data: 0x45 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
  });

  it('a second vector on the same eventfd gets no bypass producer (irq_bypass_register_producer: -EBUSY)', () => {
    const sys = createSystem({
      iommu: { interrupt_remapping: true, posted_interrupts: true },
      devices: [{ name: 'nic0', msix: { table_size: 2 } }],
    });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, { op: 'kvm.route', gsi: 30, address_lo: 0xfee00000, data: 0x45 });
    ok(sys, { op: 'kvm.irqfd', fd: 6, gsi: 30 });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 2,
      data: [6, 6],
    });
    const s = sys.snapshot().state;
    expect([s.vfio.nic0.ctx[0].producer, s.vfio.nic0.ctx[1].producer]).toEqual([true, false]);
    const modes = Object.values(s.host.irqs).map((h) => s.iommu.irte[h.irte!]!.mode);
    expect(modes).toEqual(['posted', 'remapped']);
  });

  it('irqfd_wakeup injects with the route it holds when signalled: a later route change does not redirect it', () => {
    const sys = createSystem({ vm: { vcpus: 2 }, devices: [{ name: 'nic0', msix: { table_size: 1 } }] });
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    ok(sys, { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40, vcpu: 0 });
    ok(sys, { op: 'guest.unmask', device: 'nic0', vector: 0 });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    while (!sys.step().some((h) => h.hop === 'eventfd.signal'));
    ok(sys, { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x41, vcpu: 1 });
    sys.run();
    expect(sys.snapshot().interrupts[0]).toMatchObject({
      fate: 'delivered',
      where: 'guest vector 0x40 on vCPU 0',
    });
  });

  it('a vCPU halts only while running, and not with an interrupt pending', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 1 } }] });
    ok(sys, { op: 'kvm.vcpu', vcpu: 0, state: 'preempted' });
    expect(sys.apply({ op: 'kvm.vcpu', vcpu: 0, state: 'halted' })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      field: 'state',
    });
  });

  it('waking a halted vCPU through its LAPIC puts the notification vector back (vmx_vcpu_pi_load)', () => {
    const sys = createSystem({
      iommu: { posted_interrupts: true },
      devices: [{ name: 'nic0', msix: { table_size: 1 } }],
    });
    ok(sys, { op: 'eventfd.create' });
    ok(sys, { op: 'kvm.route', gsi: 30, address_lo: 0xfee00000, data: 0x45 });
    ok(sys, { op: 'kvm.irqfd', fd: 6, gsi: 30 });
    ok(sys, { op: 'kvm.vcpu', vcpu: 0, state: 'halted' });
    ok(sys, { op: 'eventfd.signal', fd: 6 });
    sys.run();
    const v = sys.snapshot().state.kvm.vcpus[0];
    expect(v.state).toBe('running');
    expect(v.pi.nv).toBe(0xf2);
  });
});

describe('IDXD virtual device commands (registers.h: enum idxd_cmd, enum idxd_cmdsts_err)', () => {
  it('ENABLE_DEVICE twice reports ERR_DEV_ENABLED; ENABLE_WQ needs an enabled device', () => {
    const sys = createSystem({
      devices: [{ name: 'dsa0', msix: { table_size: 2 }, ims: { size: 4 }, passthrough: false }],
      vdevs: [{ name: 'vdsa0', parent: 'dsa0', kind: 'idxd-wq', wq: 0, vectors: ['emulated', 'ims'] }],
    });
    const cmd = (value: number) => {
      ok(sys, { op: 'guest.mmioWrite', device: 'vdsa0', offset: 0xa0, value });
      sys.run();
      return sys.snapshot().state.vdevs.vdsa0.regs.cmdsts;
    };
    expect(cmd(0x600000)).toBe(0x20); // ENABLE_WQ before ENABLE_DEVICE
    expect(cmd(0x100000)).toBe(0); // ENABLE_DEVICE
    expect(cmd(0x100000)).toBe(0x10); // again
    expect(cmd(0x600001)).toBe(0x02); // ENABLE_WQ 1: the virtual device has one work queue
    expect(cmd(0x600000)).toBe(0);
    expect(sys.snapshot().state.vdevs.vdsa0.regs.wq_enabled).toBe(true);
  });
});
