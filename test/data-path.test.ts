// The host data path's rules as the oracle recorded them (oracle/fixtures/dp-*.jsonl), each named by the
// kernel or QEMU function that makes it so. The fixtures themselves are compared line by line in
// conformance.test.ts; these say which rule a difference would break.
import { describe, expect, it } from 'vitest';
import { ok } from './apply-ok.ts';
import { createSystem, type System } from '../src/engine/index.ts';

const e1000e = () =>
  createSystem({
    profile: '6.12',
    iommu: { interrupt_remapping: true },
    devices: [
      {
        name: 'nic0',
        bdf: '0000:00:02.0',
        intx_pin: 1,
        msix: { table_size: 5, cap: 0xa0, table_bir: 3, pba_bir: 3, pba_offset: 0x2000 },
        msi: { vectors: 1, cap: 0xd0 },
        command: 0x0103,
        model: 'e1000e',
      },
    ],
  });

const cfgr = (sys: System, offset: number, size = 2) =>
  ok(sys, { op: 'vfio.configRead', device: 'nic0', offset, size });
const cfgw = (sys: System, offset: number, value: number, size = 2) =>
  ok(sys, { op: 'vfio.configWrite', device: 'nic0', offset, size, value });
const bar = (sys: System, b: number, offset: number, value?: number) =>
  value === undefined
    ? ok(sys, { op: 'vfio.barRead', device: 'nic0', bar: b, offset })
    : ok(sys, { op: 'vfio.barWrite', device: 'nic0', bar: b, offset, value });

/** oracle/vfio-probe.c run_raise: cause N through e1000e's BAR0 registers. */
function raiseCause(sys: System, n: number): void {
  bar(sys, 0, 0xe4, 0x000cba98);
  bar(sys, 0, 0xd8, 0xffffffff);
  bar(sys, 0, 0xc0);
  bar(sys, 0, 0xd0, 1 << (20 + n));
  bar(sys, 0, 0xc8, 1 << (20 + n));
  ok(sys, { op: 'run' });
}

function msix2(sys: System): [number, number] {
  const e0 = ok(sys, { op: 'eventfd.create' }) as number;
  const e1 = ok(sys, { op: 'eventfd.create' }) as number;
  cfgw(sys, 4, 0x0107);
  ok(sys, {
    op: 'vfio.setIrqs',
    device: 'nic0',
    flags: 'EVENTFD|TRIGGER',
    index: 'MSIX',
    start: 0,
    count: 2,
    data: [e0, e1],
  });
  return [e0, e1];
}

describe('the host data path (vfio_pci_config.c, vfio_pci_rdwr.c, QEMU e1000e)', () => {
  it('BAR access with Memory Space off is EIO (vfio_pci_core_do_io_rw)', () => {
    const sys = e1000e();
    cfgw(sys, 4, 0);
    expect(sys.apply({ op: 'vfio.barRead', device: 'nic0', bar: 0, offset: 0xc0 })).toMatchObject({
      ok: false,
      errno: 'EIO',
    });
  });

  it('the MSI-X table reads as all ones and drops writes; the PBA reads through', () => {
    const sys = e1000e();
    msix2(sys);
    expect(bar(sys, 3, 0)).toBe(0xffffffff);
    bar(sys, 3, 0xc, 0);
    raiseCause(sys, 3); // vector 3 is not allocated: masked, pending
    expect(bar(sys, 3, 0x2000)).toBe(0x8);
    expect(sys.engine.state.devices.nic0.msix!.table[3].vector_ctrl & 1).toBe(1);
  });

  it('a cause reaches vfio_msihandler through IVAR; Bus Master off loses it, not holds it', () => {
    const sys = e1000e();
    const [, e1] = msix2(sys);
    raiseCause(sys, 1);
    expect(ok(sys, { op: 'eventfd.read', fd: e1 })).toBe(1);
    cfgw(sys, 4, 0x0002);
    raiseCause(sys, 1);
    cfgw(sys, 4, 0x0006);
    ok(sys, { op: 'run' });
    expect(ok(sys, { op: 'eventfd.read', fd: e1 })).toBe(0);
    expect(sys.engine.state.devices.nic0.msix!.pba[1]).toBe(false);
    expect(sys.engine.state.counters.drop_reasons['Bus Master disabled: message write not issued']).toBe(1);
  });

  it('the user cannot set the MSI-X Function Mask through config space (init_pci_cap_msix_perm)', () => {
    const sys = e1000e();
    msix2(sys);
    cfgw(sys, 0xa2, 0xc004);
    expect(cfgr(sys, 0xa2)).toBe(0x8004);
    expect(sys.engine.state.devices.nic0.msix!.function_mask).toBe(false);
  });

  it('MSI flags, address and data are virtual: the user reads what it wrote, not what VFIO enabled', () => {
    const sys = e1000e();
    const e0 = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [e0],
    });
    expect(cfgr(sys, 0xd2)).toBe(0x0080);
    expect(cfgr(sys, 0xd4, 4)).toBe(0);
    cfgw(sys, 0xd4, 0xfee01000, 4);
    expect(cfgr(sys, 0xd4, 4)).toBe(0xfee01000);
    expect(sys.engine.state.devices.nic0.msi!.enable).toBe(true);
  });

  it("Interrupt Disable is the user's own bit: writing it masks INTx (vfio_basic_config_write)", () => {
    const sys = e1000e();
    const e0 = ok(sys, { op: 'eventfd.create' }) as number;
    cfgw(sys, 4, 0x0107);
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'INTX',
      start: 0,
      count: 1,
      data: [e0],
    });
    raiseCause(sys, 0);
    expect(ok(sys, { op: 'eventfd.read', fd: e0 })).toBe(1);
    // automasked: the physical bit is set, the user's view is not
    expect(sys.engine.state.devices.nic0.command & 0x400).toBe(0x400);
    expect((cfgr(sys, 4) as number) & 0x400).toBe(0);
    // while the user holds Interrupt Disable, an unmask does nothing ("ctx->masked && !vdev->virq_disabled")
    bar(sys, 0, 0xc0);
    bar(sys, 0, 0xc0, 0xffffffff);
    cfgw(sys, 4, 0x0507);
    ok(sys, { op: 'vfio.setIrqs', device: 'nic0', flags: 'NONE|UNMASK', index: 'INTX', start: 0, count: 1 });
    expect(sys.engine.state.devices.nic0.command & 0x400).toBe(0x400);
    cfgw(sys, 4, 0x0107);
    expect(sys.engine.state.devices.nic0.command & 0x400).toBe(0);
  });

  it('the legacy IRQ descriptor outlives INTx disable: its count goes on (pdev->irq)', () => {
    const sys = e1000e();
    const e0 = ok(sys, { op: 'eventfd.create' }) as number;
    cfgw(sys, 4, 0x0107);
    const enable = {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'INTX',
      start: 0,
      count: 1,
      data: [e0],
    };
    ok(sys, enable);
    raiseCause(sys, 0);
    bar(sys, 0, 0xc0);
    ok(sys, { op: 'vfio.setIrqs', device: 'nic0', flags: 'NONE|TRIGGER', index: 'INTX', start: 0, count: 0 });
    ok(sys, enable);
    const h = Object.values(sys.engine.state.host.irqs).find((x) => x.chip === 'IO-APIC')!;
    expect(h.count).toBe(1);
  });

  it('a batch raise fires consecutive vectors round by round (device.raise with vectors and count)', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', msix: { table_size: 4 } }] });
    const r = sys.apply({ op: 'device.raise', device: 'nic0', vector: 1, vectors: 3, count: 2 });
    expect(r).toEqual({ ok: true, value: { first: 1, count: 6 } });
    const order = sys.snapshot().queue.map((q) => q.b);
    expect(order).toEqual([1, 2, 3, 1, 2, 3]);
    expect(sys.apply({ op: 'device.raise', device: 'nic0', vector: 2047, vectors: 2 })).toMatchObject({
      ok: false,
      field: 'vectors',
    });
  });

  it('review fixes against QEMU 7.2 and vfio_pci_config.c', () => {
    const sys = e1000e();
    // the command register takes only the function's writable bits (QEMU pci_init_wmask)
    cfgw(sys, 4, 0xffff);
    // Interrupt Disable is the user's virtual bit; with INTx unused the physical one follows it
    expect(sys.engine.state.devices.nic0.command).toBe(0x0507);
    expect(cfgr(sys, 4)).toBe(0x0507);
    cfgw(sys, 4, 0x0107);
    // MSI flags: the enable bit is the ioctl's (vfio_msi_config_write: "MSI is enabled via ioctl")
    cfgw(sys, 0xd2, 0x0081);
    expect(cfgr(sys, 0xd2)).toBe(0x0080);
    const e0 = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [e0],
    });
    // written back to the hardware: a user write of 0x0080 turns the device's MSI off
    cfgw(sys, 0xd2, 0x0080);
    expect(sys.engine.state.devices.nic0.msi!.enable).toBe(false);
    // the address is virtual, taken as written
    cfgw(sys, 0xd4, 0xfee00003, 4);
    expect(cfgr(sys, 0xd4, 4)).toBe(0xfee00003);
  });

  it('e1000e: OTHER under MSI-X, the IMS mask, ICR[OTHER] clearing the other causes, IMC reads 0', () => {
    const sys = e1000e();
    const [e0] = msix2(sys);
    bar(sys, 0, 0xe4, 0x00080000); // OTHER -> vector 0
    bar(sys, 0, 0xd0, (1 << 24) | 0x4 | 0x20000 | 0x7408); // OTHER, LSC, ACK, and bits IMS cannot hold
    expect(bar(sys, 0, 0xd0)).toBe((1 << 24) | 0x4 | 0x20000);
    bar(sys, 0, 0xc8, 0x4); // LSC: an "other" cause
    ok(sys, { op: 'run' });
    expect(ok(sys, { op: 'eventfd.read', fd: e0 })).toBe(1);
    expect((bar(sys, 0, 0xc8) as number) & (1 << 24)).toBe(1 << 24);
    bar(sys, 0, 0xc0, 1 << 24); // clearing OTHER clears LSC with it
    expect((bar(sys, 0, 0xc8) as number) & 0x4).toBe(0);
    expect(bar(sys, 0, 0xd8)).toBe(0);
  });

  it('the MSI-X table reads as all ones even with Memory Space off (no device access there)', () => {
    const sys = e1000e();
    msix2(sys);
    cfgw(sys, 4, 0x0000);
    expect(bar(sys, 3, 0)).toBe(0xffffffff);
    expect(sys.apply({ op: 'vfio.barRead', device: 'nic0', bar: 3, offset: 0x2000 })).toMatchObject({
      errno: 'EIO',
    });
  });

  it('DATA_BOOL data are bytes: 256 is malformed, not true', () => {
    const sys = e1000e();
    expect(
      sys.apply({
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'BOOL|TRIGGER',
        index: 'MSIX',
        start: 0,
        count: 1,
        data: [256],
      }),
    ).toMatchObject({ ok: false, field: 'data', tool: true });
  });
});
