// Issue 13, the device side, read against the source:
//  - QEMU's hw/pci/msix.c msix_notify (7.2 .. 8.2): assert(vector < msix_entries_nr), then
//    "if (!dev->msix_entry_used[vector]) return;" before the mask test; msix_vector_unuse clears the
//    pending bit at 0; e1000e_init_msix uses all E1000E_MSIX_VEC_NUM vectors (hw/net/e1000e.c);
//  - the function's MSI-X Enable written outside VFIO (PCIe Base Spec 6.1.4 / 7.7.2.2);
//  - drivers/vfio/pci/vfio_pci_config.c vfio_config_do_rw: no writefn for PCI_CAP_ID_MSIX;
//  - drivers/vfio/pci/vfio_pci_rdwr.c vfio_pci_bar_rw excludes only the table; QEMU 8.2's
//    msix_pba_mmio_write ignores a PBA write;
//  - drivers/irqchip/irq-pci-intel-idxd.c (Gleixner's IMS series, patch V3 33/33): idxd_mask /
//    idxd_unmask on the slot's control word, and the chip name "PCI-IDXD" (IR-PCI-IDXD-<bdf>).
import { describe, expect, it } from 'vitest';
import { createSystem, type System } from '../../../system.ts';
import type { Command, TraceEvent } from '../../../types.ts';

function ok(sys: System, cmd: Command) {
  const r = sys.apply(cmd);
  expect(r, JSON.stringify(cmd)).toMatchObject({ ok: true });
  return r;
}
const since = (sys: System, from: number): TraceEvent[] => sys.traceSlice(from, sys.traceLength());

/** QEMU's e1000e as the oracle boots it, driven from the host side (no VFIO user). */
function e1000e(): System {
  const sys = createSystem({
    profile: '6.12',
    devices: [
      {
        name: 'nic0',
        bdf: '0000:00:02.0',
        intx_pin: 1,
        msix: { table_size: 5, cap: 0xa0, table_bir: 3, pba_bir: 3, pba_offset: 0x2000 },
        msi: { vectors: 1, cap: 0xd0 },
        command: 0x0107,
        model: 'e1000e',
      },
    ],
  });
  for (let v = 0; v < 5; v++) {
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: v * 16, value: 0xfee00000 });
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: v * 16 + 8, value: 0x40 + v });
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: v * 16 + 12, value: 0 });
  }
  ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: true });
  return sys;
}

const raiseHop = (sys: System, from: number) =>
  since(sys, from).find((h) => h.hop === 'dev.raise' || h.hop === 'msix.pending');

describe('hw/pci/msix.c msix_notify: a vector the QEMU device model never declared used', () => {
  it('e1000e_init_msix -> e1000e_use_msix_vectors: all five vectors start used', () => {
    const sys = e1000e();
    expect(sys.snapshot().state.devices.nic0.e1000e!.msix_entry_used).toEqual([1, 1, 1, 1, 1]);
    const at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 2 });
    ok(sys, { op: 'run' });
    expect(raiseHop(sys, at)).toMatchObject({ hop: 'dev.raise', outcome: 'forwarded' });
  });

  it('msix_entry_used[vector] == 0: msix_notify returns before the mask test: no message and no PBA bit', () => {
    const sys = e1000e();
    ok(sys, { op: 'device.msixVectorUnuse', device: 'nic0', vector: 2 });
    expect(sys.snapshot().state.devices.nic0.e1000e!.msix_entry_used[2]).toBe(0);
    // unmasked: dropped
    let at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 2 });
    ok(sys, { op: 'run' });
    const h = raiseHop(sys, at)!;
    expect(h).toMatchObject({ hop: 'dev.raise', outcome: 'dropped', fn: 'msix_notify' });
    expect(h.detail).toContain('msix_entry_used[2] is 0');
    // masked: still dropped, the PBA stays clear (the used test comes first)
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: 2 * 16 + 12, value: 1 });
    at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 2 });
    ok(sys, { op: 'run' });
    expect(raiseHop(sys, at)).toMatchObject({ hop: 'dev.raise', outcome: 'dropped' });
    expect(sys.snapshot().state.devices.nic0.msix!.pba[2]).toBe(false);
    // used again: masked now sets the PBA bit
    ok(sys, { op: 'device.msixVectorUse', device: 'nic0', vector: 2 });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 2 });
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.devices.nic0.msix!.pba[2]).toBe(true);
  });

  it('msix_vector_unuse: at 0 the pending bit is cleared (msix_clr_pending) and its message is lost', () => {
    const sys = e1000e();
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: 1 * 16 + 12, value: 1 });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 1 });
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.devices.nic0.msix!.pba[1]).toBe(true);
    ok(sys, { op: 'device.msixVectorUse', device: 'nic0', vector: 1 }); // count 2
    ok(sys, { op: 'device.msixVectorUnuse', device: 'nic0', vector: 1 }); // count 1: bit kept
    expect(sys.snapshot().state.devices.nic0.msix!.pba[1]).toBe(true);
    const at = sys.traceLength();
    ok(sys, { op: 'device.msixVectorUnuse', device: 'nic0', vector: 1 }); // count 0: bit cleared
    const s = sys.snapshot().state;
    expect(s.devices.nic0.msix!.pba[1]).toBe(false);
    expect(since(sys, at).some((h) => h.hop === 'msix.pending' && h.outcome === 'dropped')).toBe(true);
    // a further unuse returns (count already 0), and unmasking sends nothing
    ok(sys, { op: 'device.msixVectorUnuse', device: 'nic0', vector: 1 });
    const at2 = sys.traceLength();
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: 1 * 16 + 12, value: 0 });
    ok(sys, { op: 'run' });
    expect(since(sys, at2).some((h) => h.hop === 'msix.send')).toBe(false);
  });

  it('assert(vector < msix_entries_nr): past the table is refused (QEMU would abort), and a real device has no msix_entry_used', () => {
    const sys = e1000e();
    expect(sys.apply({ op: 'device.raise', device: 'nic0', vector: 5 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
    expect(sys.apply({ op: 'device.msixVectorUse', device: 'nic0', vector: 5 })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
    const hw = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 4 } }] });
    expect(hw.apply({ op: 'device.msixVectorUnuse', device: 'nic0', vector: 0 })).toMatchObject({
      ok: false,
      errno: 'EOPNOTSUPP',
    });
  });
});

describe("the function's own MSI-X Enable written outside VFIO (PCIe Base Spec 6.1.4, 7.7.2.2)", () => {
  it('Enable cleared: the function signals on its pin; vfio-pci keeps irq_type msix', () => {
    const sys = createSystem({
      devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 4 } }],
    });
    const fd = (ok(sys, { op: 'eventfd.create' }) as { value: number }).value;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [fd],
    });
    ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: false });
    const at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    ok(sys, { op: 'run' });
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.irq_type).toBe('msix');
    expect(s.devices.nic0.intx.asserted).toBe(true);
    expect(since(sys, at).some((h) => h.hop === 'msix.send')).toBe(false);
  });

  it('Enable set again: INTx deasserted (msix_write_config: pci_device_deassert_intx), pending entries sent once', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 4 } }] });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 }); // MSI-X off: the pin
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.devices.nic0.intx.asserted).toBe(true);
    ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: true });
    expect(sys.snapshot().state.devices.nic0.intx.asserted).toBe(false);
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 1 }); // entry masked since reset: PBA
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.devices.nic0.msix!.pba[1]).toBe(true);
    ok(sys, { op: 'device.functionMask', device: 'nic0', masked: true });
    ok(sys, { op: 'device.msixWrite', device: 'nic0', offset: 16 + 12, value: 0 });
    ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: false });
    ok(sys, { op: 'device.functionMask', device: 'nic0', masked: false });
    expect(sys.snapshot().state.devices.nic0.msix!.pba[1]).toBe(true); // disabled: nothing sent
    const at = sys.traceLength();
    ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: true });
    expect(since(sys, at).filter((h) => h.hop === 'msix.send')).toHaveLength(1);
    expect(sys.snapshot().state.devices.nic0.msix!.pba[1]).toBe(false);
  });
});

describe('vfio_pci_config.c vfio_config_do_rw / vfio_pci_rdwr.c vfio_pci_bar_rw: user space writes MSI-X state', () => {
  const sys0 = () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 4 } }] });
    return sys;
  };
  it('a Message Control write through the config region is dropped (no writefn for PCI_CAP_ID_MSIX) and traced', () => {
    const sys = sys0();
    const at = sys.traceLength();
    ok(sys, { op: 'vfio.configWrite', device: 'nic0', offset: 0x72, size: 2, value: 0xc003 });
    const s = sys.snapshot().state;
    expect(s.devices.nic0.msix!.enable).toBe(false);
    expect(s.devices.nic0.msix!.function_mask).toBe(false);
    const h = since(sys, at).find((x) => x.hop === 'ctl.config')!;
    expect(h.fn).toBe('vfio_config_do_rw');
    expect(h.detail).toContain('no writefn for PCI_CAP_ID_MSIX');
    expect(sys.apply({ op: 'vfio.configRead', device: 'nic0', offset: 0x72, size: 2 })).toMatchObject({
      ok: true,
      value: 0x0003,
    });
  });

  it('a PBA write through the BAR reaches the function and changes no bit (msix_pba_mmio_write, QEMU 8.2)', () => {
    const sys = sys0();
    ok(sys, { op: 'device.msixEnable', device: 'nic0', enable: true });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 1 }); // masked entry: PBA bit 1
    ok(sys, { op: 'run' });
    const at = sys.traceLength();
    ok(sys, { op: 'vfio.barWrite', device: 'nic0', bar: 3, offset: 0x2000, value: 0 });
    ok(sys, { op: 'vfio.barWrite', device: 'nic0', bar: 3, offset: 0x2000, value: 0xd });
    const pba = sys.snapshot().state.devices.nic0.msix!.pba;
    expect(pba).toEqual([false, true, false, false]);
    const hs = since(sys, at).filter((h) => h.hop === 'ctl.config');
    expect(hs).toHaveLength(2);
    expect(hs[0].fn).toBe('msix_pba_mmio_write');
    expect(sys.apply({ op: 'vfio.barRead', device: 'nic0', bar: 3, offset: 0x2000 })).toMatchObject({
      ok: true,
      value: 2,
    });
  });
});

const imsTopo = {
  profile: '6.12' as const,
  iommu: { interrupt_remapping: true },
  devices: [
    { name: 'dsa0', bdf: '0000:6a:01.0', msix: { table_size: 2 }, ims: { size: 2 }, passthrough: false },
  ],
  vdevs: [
    {
      name: 'vdsa0',
      parent: 'dsa0',
      kind: 'idxd-wq' as const,
      wq: 0,
      vectors: ['emulated' as const, 'ims' as const],
      cookie: 11,
    },
  ],
};

function imsUp(): System {
  const sys = createSystem(imsTopo);
  const fd = (ok(sys, { op: 'eventfd.create' }) as { value: number }).value;
  ok(sys, {
    op: 'vfio.setIrqs',
    device: 'vdsa0',
    flags: 'EVENTFD|TRIGGER',
    index: 'MSIX',
    start: 1,
    count: 1,
    data: [fd],
  });
  return sys;
}

describe('drivers/irqchip/irq-pci-intel-idxd.c: the IDXD IMS chip', () => {
  it('the chip name is the template\'s "PCI-IDXD" with the IR- prefix and dev_name (msi_create_device_irq_domain)', () => {
    const s = imsUp().snapshot().state;
    const h = s.host.irqs[s.devices.dsa0.ims!.entries[0].host_irq!];
    expect(h.chip_name).toBe('IR-PCI-IDXD-0000:6a:01.0');
  });

  it('idxd_mask: a raise while masked is held pending; idxd_unmask sends it once', () => {
    const sys = imsUp();
    ok(sys, { op: 'device.imsMask', device: 'dsa0', ims: 0, masked: true });
    expect(sys.snapshot().state.devices.dsa0.ims!.entries[0].masked).toBe(true);
    ok(sys, { op: 'device.raise', device: 'dsa0', ims: 0, count: 2 });
    ok(sys, { op: 'run' });
    let e0 = sys.snapshot().state.devices.dsa0.ims!.entries[0];
    expect(e0.pending).toBe(true);
    const at = sys.traceLength();
    ok(sys, { op: 'device.imsMask', device: 'dsa0', ims: 0, masked: false });
    ok(sys, { op: 'run' });
    const t = since(sys, at);
    expect(t.find((h) => h.hop === 'ctl.device')!.fn).toBe('idxd_unmask');
    expect(t.filter((h) => h.hop === 'ims.send')).toHaveLength(1);
    e0 = sys.snapshot().state.devices.dsa0.ims!.entries[0];
    expect(e0).toMatchObject({ masked: false, pending: false });
  });

  it('only an allocated slot has a descriptor and so a mask callback', () => {
    const sys = imsUp();
    expect(sys.apply({ op: 'device.imsMask', device: 'dsa0', ims: 1, masked: true })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
    expect(sys.apply({ op: 'device.imsMask', device: 'dsa0', ims: 2, masked: true })).toMatchObject({
      ok: false,
      errno: 'EINVAL',
    });
  });
});
