// INTx into the guest through KVM (issue 13 item 14), from the source: QEMU hw/vfio/pci.c
// vfio_intx_enable_kvm (resample irqfd + UNMASK eventfd), virt/kvm/eventfd.c (irqfd_inject with
// KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, irqfd_resampler_ack), arch/x86/kvm/ioapic.c (ioapic_service sets
// Remote IRR for a level entry, kvm_ioapic_update_eoi clears it and runs the ack notifiers),
// drivers/vfio/virqfd.c + vfio_pci_intrs.c (the unmask virqfd).
import { describe, expect, it } from 'vitest';
import { ok } from './apply-ok.ts';
import { createSystem, type System } from '../src/engine/index.ts';

function setup(o: { resample?: boolean; masked?: boolean; apicv?: boolean } = {}): System {
  const s = createSystem({
    vm: { vcpus: 1, ...(o.apicv ? { apicv: true } : {}) },
    devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 1 } }],
  });
  ok(s, { op: 'eventfd.create' }); // 6: trigger
  ok(s, { op: 'eventfd.create' }); // 7: resample / unmask
  ok(s, {
    op: 'vfio.setIrqs',
    device: 'nic0',
    flags: 'EVENTFD|TRIGGER',
    index: 'INTX',
    start: 0,
    count: 1,
    data: [6],
  });
  ok(s, {
    op: 'vfio.setIrqs',
    device: 'nic0',
    flags: 'EVENTFD|UNMASK',
    index: 'INTX',
    start: 0,
    count: 1,
    data: [7],
  });
  ok(s, { op: 'kvm.ioapic', pin: 11, vector: 0x51, dest: 0, masked: o.masked ?? false });
  ok(s, { op: 'kvm.irqfd', fd: 6, gsi: 11, ...(o.resample === false ? {} : { resample: 7 }) });
  return s;
}
const hops = (s: System): string[] => s.traceSlice(0, s.traceLength()).map((h) => h.hop);

describe('INTx through KVM', () => {
  it('the resample irqfd: the EOI of the level vector lowers the line and signals the resamplefd, which unmasks INTx', () => {
    const s = setup();
    ok(s, { op: 'device.raise', device: 'nic0' });
    ok(s, { op: 'run' });
    const st = s.snapshot().state;
    expect(st.vfio.nic0.intx.masked).toBe(false);
    expect(st.kvm.ioapic[11]).toMatchObject({ remote_irr: false, line: 0 });
    expect(st.kvm.vcpus[0].handled).toEqual({ [0x51]: 1 });
    expect(hops(s).indexOf('ioapic.eoi')).toBeLessThan(hops(s).indexOf('irqfd.unmask'));
    // the handler quiets the device before the EOI (handle_fasteoi_irq), so the unmask finds it idle
    expect(hops(s).indexOf('guest.handler')).toBeLessThan(hops(s).indexOf('lapic.eoi'));
  });

  it('while Remote IRR is set the IO-APIC delivers nothing new: the level interrupt waits for its EOI', () => {
    const s = setup();
    ok(s, { op: 'device.raise', device: 'nic0' });
    for (let i = 0; i < 200 && !hops(s).includes('ioapic.set'); i++) s.step();
    expect(s.snapshot().state.kvm.ioapic[11].remote_irr).toBe(true);
    ok(s, { op: 'run' });
    expect(s.snapshot().state.kvm.ioapic[11].remote_irr).toBe(false);
  });

  it('a plain irqfd pulses the pin: nothing signals the unmask eventfd, so INTx stays masked after the EOI', () => {
    const s = setup({ resample: false });
    ok(s, { op: 'device.raise', device: 'nic0' });
    ok(s, { op: 'run' });
    const st = s.snapshot().state;
    expect(st.kvm.vcpus[0].handled).toEqual({ [0x51]: 1 });
    expect(st.kvm.ioapic[11].remote_irr).toBe(false);
    expect(st.vfio.nic0.intx.masked).toBe(true);
    ok(s, { op: 'device.raise', device: 'nic0' });
    ok(s, { op: 'run' });
    expect(s.snapshot().state.kvm.vcpus[0].handled).toEqual({ [0x51]: 1 });
  });

  it('a masked redirection entry drops the interrupt (ioapic_service on a masked entry)', () => {
    const s = setup({ masked: true });
    ok(s, { op: 'device.raise', device: 'nic0' });
    ok(s, { op: 'run' });
    expect(s.snapshot().interrupts[0]).toMatchObject({ fate: 'dropped', where: 'IO-APIC pin 11 masked' });
  });

  it('under APICv the EOI of a level vector still exits (EOI-exit bitmap): lapic.eoi, not lapic.veoi', () => {
    const s = setup({ apicv: true });
    ok(s, { op: 'device.raise', device: 'nic0' });
    ok(s, { op: 'run' });
    expect(hops(s)).toContain('lapic.eoi');
    expect(hops(s)).not.toContain('lapic.veoi');
    expect(s.snapshot().state.vfio.nic0.intx.masked).toBe(false);
  });

  it('KVM_IRQFD checks the resamplefd like any eventfd (kvm_irqfd_assign: eventfd_ctx_fdget)', () => {
    const s = createSystem({ devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 1 } }] });
    ok(s, { op: 'eventfd.create' });
    expect(s.apply({ op: 'kvm.irqfd', fd: 6, gsi: 11, resample: 9999 })).toMatchObject({
      ok: false,
      errno: 'EBADF',
    });
    expect(s.apply({ op: 'kvm.irqfd', fd: 6, gsi: 11, resample: 0 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
  });
});
