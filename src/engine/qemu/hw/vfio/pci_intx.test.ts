// QEMU enables INTx through KVM itself (hw/vfio/pci.c, 8.2): vfio_intx_enable -> vfio_intx_enable_kvm
// (mask, a resample irqfd on intx.route.irq, the resamplefd as VFIO's UNMASK eventfd, unmask), and
// vfio_intx_disable -> vfio_intx_disable_kvm first.
import { describe, expect, it } from 'vitest';
import { createSystem, type System } from '../../../system.ts';
import type { Command } from '../../../types.ts';

function ok(sys: System, cmd: Command) {
  const r = sys.apply(cmd);
  expect(r, JSON.stringify(cmd)).toMatchObject({ ok: true });
  return r;
}

function nic(gsi?: number): System {
  return createSystem({
    profile: '6.12',
    iommu: { interrupt_remapping: true },
    devices: [
      { name: 'nic0', bdf: '0000:65:00.0', intx_pin: 1, msix: { table_size: 4 }, guest_intx_gsi: gsi },
    ],
  });
}
const steps = (sys: System, from = 0) =>
  sys
    .traceSlice(from, sys.traceLength())
    .filter((h) => h.irq === 0)
    .map((h) => h.fn);

describe('hw/vfio/pci.c vfio_intx_enable_kvm: QEMU binds INTx to KVM with a resample irqfd', () => {
  it('at realize: TRIGGER, then mask, KVM_IRQFD with resample on the route GSI, UNMASK eventfd, unmask', () => {
    const sys = nic(11);
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    const f = steps(sys);
    const want = ['vfio_intx_enable', 'vfio_intx_enable_kvm', 'kvm_irqfd_assign'];
    const at = want.map((n) => f.indexOf(n));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const s = sys.snapshot().state;
    const trig = s.vmm.nic0.intx_interrupt!;
    const unmask = s.vmm.nic0.intx_unmask!;
    expect(s.kvm.irqfds[trig]).toMatchObject({ gsi: 11, resamplefd: unmask });
    expect(s.vfio.nic0.intx).toMatchObject({
      enabled: true,
      trigger: trig,
      unmask_fd: unmask,
      masked: false,
    });
    expect(s.vmm.nic0.intx_kvm_accel).toBe(true);
    // the four SET_IRQS calls, in QEMU's order
    const sets = sys
      .traceSlice(0, sys.traceLength())
      .filter((h) => h.hop === 'ctl.intx' && h.detail.startsWith('INTX '))
      .map((h) => h.detail.split(' ').slice(0, 2).join(' '));
    expect(sets).toEqual(['INTX TRIGGER', 'INTX MASK', 'INTX UNMASK', 'INTX UNMASK']);
  });

  it('a device INTx then goes through the irqfd and the IO-APIC, and the EOI unmasks through the resamplefd', () => {
    const sys = nic(11);
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    ok(sys, { op: 'kvm.ioapic', pin: 11, vector: 0x51, dest: 0 });
    const at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0' });
    ok(sys, { op: 'run' });
    const hops = sys.traceSlice(at, sys.traceLength()).map((h) => h.hop);
    for (const h of [
      'vfio.intxhandler',
      'irqfd.wakeup',
      'ioapic.set',
      'guest.handler',
      'ioapic.eoi',
      'irqfd.unmask',
    ])
      expect(hops).toContain(h);
    expect(sys.snapshot().state.vfio.nic0.intx.masked).toBe(false);
  });

  it('vfio_msix_enable -> vfio_intx_disable -> vfio_intx_disable_kvm first; vfio_msix_disable re-enables INTx through KVM', () => {
    const sys = nic(11);
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    const trig = sys.snapshot().state.vmm.nic0.intx_interrupt!;
    let at = sys.traceLength();
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    const f = steps(sys, at);
    expect(f.indexOf('vfio_intx_disable_kvm')).toBeGreaterThanOrEqual(0);
    expect(f.indexOf('vfio_intx_disable_kvm')).toBeLessThan(f.indexOf('vfio_intx_disable'));
    let s = sys.snapshot().state;
    expect(s.kvm.irqfds[trig]).toBeUndefined();
    expect(s.vmm.nic0).toMatchObject({ intx_kvm_accel: false, intx_unmask: null });
    at = sys.traceLength();
    ok(sys, { op: 'guest.msixEnable', device: 'nic0', enable: false });
    expect(steps(sys, at)).toContain('vfio_intx_enable_kvm');
    s = sys.snapshot().state;
    expect(s.vmm.nic0.intx_kvm_accel).toBe(true);
    expect(s.kvm.irqfds[s.vmm.nic0.intx_interrupt!]).toMatchObject({ gsi: 11 });
  });

  it('without a route for the pin (no guest_intx_gsi) INTx stays in QEMU (vfio_intx_interrupt)', () => {
    const sys = nic();
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    expect(steps(sys)).not.toContain('vfio_intx_enable_kvm');
    expect(Object.keys(sys.snapshot().state.kvm.irqfds)).toEqual([]);
  });

  it('topology: guest_intx_gsi must be an IO-APIC GSI', () => {
    expect(() => nic(24)).toThrow(/guest_intx_gsi/);
  });
});
