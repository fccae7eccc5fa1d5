// QEMU's vfio-pci MSI-X handling (hw/vfio/pci.c) as the guest sees it, per kernel profile.
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../system.ts';
import type { KernelProfile } from '../../../types.ts';

function nic(profile: KernelProfile) {
  const sys = createSystem({ profile, devices: [{ name: 'nic0', msix: { table_size: 8 } }] });
  sys.apply({ op: 'guest.msixEnable', device: 'nic0' });
  for (const v of [0, 6])
    sys.apply({ op: 'guest.program', device: 'nic0', vector: v, guest_vector: 0x40 + v });
  return sys;
}
const fns = (sys: ReturnType<typeof nic>, from: number) =>
  sys.traceSlice(from, sys.traceLength()).map((h) => h.fn);

describe('QEMU vfio-pci MSI-X', () => {
  it('enables MSI-X on the host with vector 0 and fd -1 when the guest enables it with every entry masked', () => {
    const sys = nic('6.12');
    expect(sys.snapshot().state.devices.nic0.msix!.enable).toBe(true);
    expect(sys.snapshot().state.vfio.nic0.ctx).toEqual({});
  });

  it('6.12: a vector past those enabled is assigned alone (dynamic MSI-X)', () => {
    const sys = nic('6.12');
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    const at = sys.traceLength();
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 6 });
    expect(fns(sys, at)).toContain('pci_msix_alloc_irq_at');
    expect(fns(sys, at)).not.toContain('vfio_msi_disable');
    expect(Object.keys(sys.snapshot().state.vfio.nic0.ctx)).toEqual(['0', '6']);
  });

  it('6.1: a vector past those enabled makes QEMU disable and re-enable the index with more vectors', () => {
    const sys = nic('6.1');
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    const at = sys.traceLength();
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 6 });
    expect(fns(sys, at)).toContain('vfio_msi_disable');
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.num_ctx).toBe(7);
    expect(s.vfio.nic0.ctx['0'].trigger).not.toBeNull();
    expect(s.vfio.nic0.ctx['6'].trigger).not.toBeNull();
    expect(s.vmm.nic0.nr_vectors).toBe(7);
  });

  it("masking a vector keeps the KVM route and points VFIO at QEMU's own eventfd", () => {
    const sys = nic('6.12');
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    sys.apply({ op: 'guest.mask', device: 'nic0', vector: 0 });
    const s = sys.snapshot().state;
    const v = s.vmm.nic0.vectors[0];
    expect(v.virq).not.toBeNull();
    expect(s.kvm.gsi_routes[v.virq!]).toBeDefined();
    expect(s.vfio.nic0.ctx['0'].trigger).toBe(v.interrupt);
  });

  it('refuses a guest entry past the table and a device without MSI-X, changing nothing', () => {
    const sys = nic('6.12');
    expect(sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 8 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      field: 'vector',
    });
    const other = createSystem({ devices: [{ name: 'old0', intx_pin: 1 }] });
    expect(other.apply({ op: 'guest.msixEnable', device: 'old0' })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
      field: 'device',
    });
  });

  it('disabling MSI-X drops what QEMU held pending (msix_vector_unuse) and closes its eventfds', () => {
    const sys = nic('6.12');
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    sys.apply({ op: 'guest.mask', device: 'nic0', vector: 0 });
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0 });
    sys.run();
    const fd = sys.snapshot().state.vmm.nic0.vectors[0].interrupt!;
    expect(sys.snapshot().state.vmm.nic0.msix.pba[0]).toBe(true);
    sys.apply({ op: 'guest.msixEnable', device: 'nic0', enable: false });
    const snap = sys.snapshot();
    expect(snap.state.vmm.nic0.msix.pba[0]).toBe(false);
    expect(snap.interrupts[0]).toMatchObject({
      fate: 'dropped',
      where: 'MSI-X disabled: msix_vector_unuse cleared the pending bit',
    });
    expect(sys.apply({ op: 'eventfd.signal', fd })).toMatchObject({ ok: false, errno: 'EBADF' });
  });

  it('reprogramming an unmasked entry masks it around the write, as Linux does (pci_write_msg_msix)', () => {
    const sys = nic('6.12');
    sys.apply({ op: 'guest.unmask', device: 'nic0', vector: 0 });
    const at = sys.traceLength();
    sys.apply({ op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x41 });
    const fns = sys.traceSlice(at, sys.traceLength()).map((h) => h.fn);
    expect(fns.indexOf('vfio_msix_vector_release')).toBeGreaterThanOrEqual(0);
    expect(fns.indexOf('vfio_msix_vector_do_use')).toBeGreaterThan(fns.indexOf('vfio_msix_vector_release'));
  });
});
