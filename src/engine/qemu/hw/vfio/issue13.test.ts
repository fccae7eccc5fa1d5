// Issue 13, read against the source: QEMU 8.2's hw/vfio/pci.c (INTx at realize and after MSI-X, the
// batched enable, nr_vectors after vfio_enable_msix_no_vec), x86 vector reservation
// (arch/x86/kernel/apic/vector.c), per-device chip names (kernel/irq/msi.c), the IDXD virtual device's
// commands (intel/idxd-driver drivers/vfio/mdev/idxd/vdev.c) and the RFC interrupt-context API.
import { describe, expect, it } from 'vitest';
import { createSystem, type System } from '../../../system.ts';
import type { Command, KernelProfile, Topology } from '../../../types.ts';
import { irqDomainHierarchy } from '../../../linux/kernel/irq/genirq.ts';

function ok(sys: System, cmd: Command) {
  const r = sys.apply(cmd);
  expect(r, JSON.stringify(cmd)).toMatchObject({ ok: true });
  return r;
}
const fns = (sys: System, from = 0) => sys.traceSlice(from, sys.traceLength()).map((h) => h.fn);
const setIrqs = (sys: System, from = 0) =>
  sys
    .traceSlice(from, sys.traceLength())
    .filter((h) => h.hop === 'ctl.set_irqs' && h.detail.startsWith('MSIX TRIGGER'))
    .map((h) => h.detail);

function nic(profile: KernelProfile, pin = 1): System {
  return createSystem({
    profile,
    iommu: { interrupt_remapping: true },
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', intx_pin: pin, msix: { table_size: 8 } }],
  });
}

describe('hw/vfio/pci.c: QEMU enables, disables and re-enables INTx', () => {
  it('vfio_realize -> vfio_intx_enable when the device has a pin; vfio_msix_enable starts with vfio_disable_interrupts', () => {
    const sys = nic('6.12');
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    const f = fns(sys);
    const order = ['vfio_realize', 'vfio_intx_enable', 'vfio_intx_disable', 'vfio_enable_msix_no_vec'];
    const at = order.map((n) => f.findIndex((x) => x === n));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('msix');
  });

  it('a function without a pin (a VF) gets no INTx from QEMU', () => {
    const sys = nic('6.12', 0);
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    expect(fns(sys)).not.toContain('vfio_intx_enable');
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('none');
  });

  it('vfio_msix_disable releases each vector, disables the index, then re-enables INTx: a device INTx reaches QEMU', () => {
    const sys = nic('6.12');
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    ok(sys, { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40 });
    ok(sys, { op: 'guest.unmask', device: 'nic0', vector: 0 });
    const at = sys.traceLength();
    ok(sys, { op: 'guest.msixEnable', device: 'nic0', enable: false });
    const f = fns(sys, at);
    const release = f.indexOf('vfio_msix_vector_release');
    const disable = f.indexOf('vfio_msi_disable');
    const intx = f.indexOf('vfio_intx_enable');
    expect(release).toBeGreaterThanOrEqual(0);
    expect(disable).toBeGreaterThan(release);
    expect(intx).toBeGreaterThan(disable);
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.irq_type).toBe('intx');
    expect(s.vfio.nic0.intx.trigger).toBe(s.vmm.nic0.intx_interrupt);
    const raised = ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    sys.run();
    const irq = sys.snapshot().interrupts.find((x) => raised.ok && x.id === raised.value)!;
    // vfio_intx_handler ran and signalled QEMU's INTx eventfd: the interrupt no longer waits at the pin
    expect(irq.where).toBe(`eventfd ${s.vmm.nic0.intx_interrupt} counter`);
  });
});

describe('hw/vfio/pci.c (QEMU 8.2): nr_vectors after vfio_enable_msix_no_vec', () => {
  it('stays 0, so the first use of vector 0 on a NORESIZE kernel (6.1) disables and re-enables the index', () => {
    const sys = nic('6.1');
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    expect(sys.snapshot().state.vmm.nic0.nr_vectors).toBe(0);
    ok(sys, { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40 });
    const at = sys.traceLength();
    ok(sys, { op: 'guest.unmask', device: 'nic0', vector: 0 });
    expect(fns(sys, at)).toContain('vfio_msi_disable');
    expect(setIrqs(sys, at)).toEqual(['MSIX TRIGGER start 0 count 0', 'MSIX TRIGGER start 0 count 1']);
    expect(sys.snapshot().state.vmm.nic0.nr_vectors).toBe(1);
  });

  it('6.12 (dynamic MSI-X): the first use of vector 0 is one SET_IRQS for vector 0', () => {
    const sys = nic('6.12');
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    ok(sys, { op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40 });
    const at = sys.traceLength();
    ok(sys, { op: 'guest.unmask', device: 'nic0', vector: 0 });
    expect(setIrqs(sys, at)).toEqual(['MSIX TRIGGER start 0 count 1']);
    expect(fns(sys, at)).not.toContain('vfio_msi_disable');
  });
});

describe('hw/vfio/pci.c: MSI-X enable with entries already unmasked is batched', () => {
  for (const profile of ['6.1', '6.12'] as const)
    it(`${profile}: routes deferred, one vfio_enable_vectors at commit`, () => {
      const sys = nic(profile);
      for (const v of [1, 3]) {
        ok(sys, { op: 'guest.program', device: 'nic0', vector: v, guest_vector: 0x40 + v });
        ok(sys, { op: 'guest.unmask', device: 'nic0', vector: v });
      }
      const at = sys.traceLength();
      ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
      const f = fns(sys, at);
      expect(f).toContain('vfio_pci_prepare_kvm_msi_virq_batch');
      expect(f.indexOf('vfio_pci_commit_kvm_msi_virq_batch')).toBeLessThan(f.indexOf('vfio_enable_vectors'));
      // 6.12 (not NORESIZE): vfio_enable_vectors first enables the index with no vector
      expect(setIrqs(sys, at)).toEqual(
        profile === '6.1'
          ? ['MSIX TRIGGER start 0 count 4']
          : ['MSIX TRIGGER start 0 count 1', 'MSIX TRIGGER start 0 count 4'],
      );
      const s = sys.snapshot().state;
      expect(s.vmm.nic0.nr_vectors).toBe(4);
      expect(Object.keys(s.vfio.nic0.ctx).filter((k) => s.vfio.nic0.ctx[k].trigger !== null)).toEqual([
        '1',
        '3',
      ]);
      expect(Object.keys(s.kvm.irqfds)).toHaveLength(2);
    });
});

describe('arch/x86/kernel/apic/vector.c: host vectors reserved at allocation, assigned at request_irq', () => {
  it('reserve_irq_vector at allocation, activate_reserved at request_irq, x86_vector_deactivate at free_irq', () => {
    const sys = nic('6.1');
    ok(sys, { op: 'eventfd.create' });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 2,
      data: [6, -1],
    });
    const irqs = () => Object.values(sys.snapshot().state.host.irqs).sort((a, b) => a.hwirq - b.hwirq);
    expect(irqs().map((h) => [h.reserved, h.vector])).toEqual([
      [false, 0x22],
      [true, 0xef], // MANAGED_IRQ_SHUTDOWN_VECTOR until request_irq
    ]);
    expect(sys.snapshot().state.iommu.irte[irqs()[1].irte!]!.vector).toBe(0xef);
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [-1],
    });
    expect(irqs()[0]).toMatchObject({ reserved: true, vector: 0xef });
  });

  it('exhaustion fails at request_irq (-ENOSPC), not at the enable, and the reservation warns', () => {
    const sys = createSystem({
      profile: '6.1',
      host: { cpus: 1 },
      devices: [{ name: 'nic0', msix: { table_size: 256 } }],
    });
    ok(sys, { op: 'eventfd.create' });
    const r = sys.apply({
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 203,
      data: new Array(203).fill(6),
    });
    expect(r).toMatchObject({ ok: false, errno: 'ENOSPC' });
    expect(r.ok ? '' : r.message).toContain('request_irq');
    expect(sys.snapshot().state.host.log.map((l) => l.text)).toContain(
      'Interrupt reservation exceeds available resources',
    );
  });
});

describe('kernel/irq/msi.c: chip names per device (msi_create_device_irq_domain)', () => {
  it('6.12 names the device (IR-PCI-MSIX-<bdf>), 6.1 has one IR-PCI-MSI chip; INTx goes through IR-IO-APIC', () => {
    for (const [profile, name] of [
      ['6.12', 'IR-PCI-MSIX-0000:65:00.0'],
      ['6.1', 'IR-PCI-MSI'],
    ] as const) {
      const sys = nic(profile);
      ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
      const hs = Object.values(sys.snapshot().state.host.irqs);
      expect(hs.find((h) => h.chip.endsWith('MSIX'))!.chip_name).toBe(name);
      const intx = hs.find((h) => h.chip === 'IO-APIC')!;
      expect(intx.chip_name).toBe('IR-IO-APIC');
      expect(intx.irq).toBe(16); // the legacy IRQ of an IOAPIC pin is its GSI
    }
  });

  it("the domain hierarchy as debugfs lists it: 6.12 the per-device domain, 6.1 the IOMMU's INTEL-IR-MSI domain, then INTEL-IR and VECTOR", () => {
    expect(irqDomainHierarchy('6.12', { chip_name: 'IR-PCI-MSIX-0000:65:00.0' })).toEqual([
      'IR-PCI-MSIX-0000:65:00.0',
      'INTEL-IR-0',
      'VECTOR',
    ]);
    expect(irqDomainHierarchy('6.1', { chip_name: 'IR-PCI-MSI' })).toEqual([
      'INTEL-IR-MSI-0',
      'INTEL-IR-0',
      'VECTOR',
    ]);
    expect(irqDomainHierarchy('6.1', { chip_name: 'PCI-MSI' })).toEqual(['PCI-MSI', 'VECTOR']);
  });
});

const VDEV: Topology = {
  design: 'rfc-v3',
  devices: [{ name: 'dsa0', msix: { table_size: 2 }, ims: { size: 4 }, passthrough: false }],
  vdevs: [{ name: 'vdsa0', parent: 'dsa0', kind: 'idxd-wq', wq: 0, vectors: ['emulated', 'ims'], cookie: 4 }],
};
function vdsa(): System {
  const sys = createSystem(VDEV);
  ok(sys, { op: 'guest.msixEnable', device: 'vdsa0' });
  for (const v of [0, 1]) {
    ok(sys, { op: 'guest.program', device: 'vdsa0', vector: v, guest_vector: 0x60 + v });
    ok(sys, { op: 'guest.unmask', device: 'vdsa0', vector: v });
  }
  return sys;
}
const cmd = (sys: System, value: number) => {
  ok(sys, { op: 'guest.mmioWrite', device: 'vdsa0', offset: 0xa0, value });
  sys.run();
  return sys.snapshot().state.vdevs.vdsa0.regs;
};

describe('drivers/vfio/mdev/idxd/vdev.c: vidxd_do_command', () => {
  it('disable-device answers DIS_DEV_EN when already disabled; disable-WQ ignores its operand and answers DEV_NOT_EN', () => {
    const sys = vdsa();
    expect(cmd(sys, 0x200000).cmdsts).toBe(0x31);
    expect(cmd(sys, 0x700005).cmdsts).toBe(0x32);
    cmd(sys, 0x100000);
    cmd(sys, 0x600000);
    expect(cmd(sys, 0x700005)).toMatchObject({ cmdsts: 0, wq_enabled: false });
  });

  it('drain, abort and reset WQ are dispatched; DRAIN_PASID is advertised but answers INVAL_CMD', () => {
    const sys = vdsa();
    expect(cmd(sys, 0x800000).cmdsts).toBe(0x32);
    cmd(sys, 0x100000);
    cmd(sys, 0x600000);
    expect(cmd(sys, 0x800000).cmdsts).toBe(0);
    expect(cmd(sys, 0x900000).cmdsts).toBe(0);
    expect(cmd(sys, 0xa00000)).toMatchObject({ cmdsts: 0, wq_enabled: false });
    expect(cmd(sys, 0xb00000).cmdsts).toBe(0x01);
  });

  it('REQUEST_INT_HANDLE returns the IMS index in the result field; vector 0 is INVAL_INT_IDX', () => {
    const sys = vdsa();
    expect(cmd(sys, 0xd00000).cmdsts).toBe(0x41);
    const ims = sys.snapshot().state.vdevs.vdsa0.vectors[1].ims_index!;
    expect(cmd(sys, 0xd00001).cmdsts).toBe(ims << 8);
  });

  it('a completion with INT_REQ ORs IDXD_INTC_CMD into INTCAUSE before sending vector 0', () => {
    const sys = vdsa();
    expect(cmd(sys, (0x100000 | 0x80000000) >>> 0).intcause & 0x02).toBe(0x02);
    expect(sys.snapshot().state.counters.delivered).toBe(1);
  });
});

describe('the RFC interrupt-context API a virtual device driver calls', () => {
  it('vfio_pci_send_signal on a vector that is not emulated: WARN_ON_ONCE, nothing signalled, a line in the log', () => {
    const sys = vdsa();
    ok(sys, { op: 'vdev.sendSignal', device: 'vdsa0', vector: 1 });
    const s = sys.snapshot();
    expect(s.interrupts.at(-1)!.fate).toBe('dropped');
    expect(s.state.host.log.at(-1)!.text).toContain('WARN_ON_ONCE');
  });

  it('vfio_pci_set_emulated is all or nothing: a vector with a context is -EBUSY', () => {
    const sys = vdsa();
    expect(sys.apply({ op: 'vdev.setEmulated', device: 'vdsa0', start: 0, count: 2 })).toMatchObject({
      ok: false,
      errno: 'EBUSY',
    });
    expect(sys.snapshot().state.vdevs.vdsa0.vectors[1].backend).toBe('ims');
  });

  it('vfio_pci_ims_set_cookie applies at the next allocation, and a PASID mismatch blocks the completion', () => {
    const sys = vdsa();
    ok(sys, { op: 'vdev.imsSetCookie', device: 'vdsa0', vector: 1, cookie: 9 });
    expect(sys.snapshot().state.devices.dsa0.ims!.entries[0].cookie).toBe(4);
    ok(sys, { op: 'guest.mask', device: 'vdsa0', vector: 1 });
    ok(sys, { op: 'guest.unmask', device: 'vdsa0', vector: 1 });
    cmd(sys, 0x100000);
    cmd(sys, 0x600000);
    const idx = sys.snapshot().state.vdevs.vdsa0.vectors[1].ims_index!;
    expect(sys.snapshot().state.devices.dsa0.ims!.entries[idx].cookie).toBe(9);
    const r = ok(sys, { op: 'guest.submit', device: 'vdsa0' });
    sys.run();
    const irq = sys.snapshot().interrupts.find((x) => r.ok && x.id === r.value)!;
    expect(irq).toMatchObject({
      fate: 'dropped',
      where: 'IMS entry PASID does not match the work queue: interrupt blocked',
    });
  });
});

describe('hw/vfio/pci.c: the guest writes its virtual command register', () => {
  it('vfio_pci_write_config passes Interrupt Disable to VFIO (vdev->virq_disabled): INTx stays masked', () => {
    const sys = nic('6.12');
    ok(sys, { op: 'guest.commandWrite', device: 'nic0', value: 0x0406 });
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.vconfig.virq_disabled).toBe(true);
    expect(s.vfio.nic0.irq_type).toBe('intx'); // realized first: QEMU's INTx is on, and masked by the guest
    expect(s.vfio.nic0.intx.masked).toBe(true);
  });

  it("a virtual device's driver emulates it (vidxd_cfg_write): ENABLE_DEVICE without Bus Master is ERR_BUSMASTER_EN", () => {
    const sys = vdsa();
    ok(sys, { op: 'guest.commandWrite', device: 'vdsa0', value: 0x0002 });
    expect(cmd(sys, 0x100000).cmdsts).toBe(0x12);
  });
});
