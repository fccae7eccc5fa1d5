// Issue 13, the host-kernel items (docs/kernel-notes.md I.12 .. I.16): a host that grants fewer vectors
// than asked (kernel/irq/msi.c msi_handle_pci_fail, drivers/pci/msi/msi.c, vfio_msi_enable's positive
// return, QEMU's vfio_msi_enable retry), a 6.12 host whose MSI-X domain cannot allocate dynamically
// (pci_msix_can_alloc_dyn, VFIO_IRQ_INFO_NORESIZE, vfio_msi_alloc_irq), the pre-2024 INTx code of upstream
// v6.1.0, the host asking for the device back (vfio_pci_core_request) and the virqfd helpers' file.
import { describe, expect, it } from 'vitest';
import { createSystem, type System } from '../../../../system.ts';
import type { Command, Topology } from '../../../../types.ts';
import { topologyErrors } from '../../../../topology.ts';
import { VFIO_IRQ_INFO_NORESIZE } from '../vfio_main.ts';

function ok(sys: System, cmd: Command) {
  const r = sys.apply(cmd);
  expect(r, JSON.stringify(cmd)).toMatchObject({ ok: true });
  return r.ok ? r.value : undefined;
}
const rows = (sys: System, from = 0) => sys.traceSlice(from, sys.traceLength());
/** function@file of each trace row. */
const fnAt = (sys: System, from = 0) => rows(sys, from).map((h) => `${h.fn}@${h.file}`);
const msix = (device: string, start: number, fds: number[]): Command => ({
  op: 'vfio.setIrqs',
  device,
  flags: 'EVENTFD|TRIGGER',
  index: 'MSIX',
  start,
  count: fds.length,
  data: fds,
});

describe('a host that grants fewer vectors than asked (I.12)', () => {
  const top = (irte: number, profile: '6.1' | '6.12' = '6.1'): Topology => ({
    profile,
    iommu: { interrupt_remapping: true, irte_entries: irte },
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 8 } }],
  });

  it('msi_handle_pci_fail (kernel/irq/msi.c): MSI-X runs out of IRTEs after 3, pci_alloc_irq_vectors retries with 3, vfio_msi_enable frees them and SET_IRQS returns 3', () => {
    for (const profile of ['6.1', '6.12'] as const) {
      const sys = createSystem(top(3, profile));
      const fds = Array.from({ length: 8 }, () => ok(sys, { op: 'eventfd.create' }) as number);
      const at = sys.traceLength();
      expect(ok(sys, msix('nic0', 0, fds))).toBe(3);
      const s = sys.snapshot().state;
      expect(s.vfio.nic0.irq_type).toBe('none');
      expect(Object.keys(s.host.irqs)).toEqual([]);
      expect(s.iommu.irte.filter(Boolean)).toEqual([]);
      expect(s.host.log.map((l) => l.text)).toContain("DMAR-IR: IR0: can't allocate an IRTE");
      const fns = fnAt(sys, at);
      expect(fns).toContain('msi_handle_pci_fail@kernel/irq/msi.c');
      expect(rows(sys, at).some((h) => /gave 3 of 8 MSI-X vectors.*SET_IRQS returns 3/.test(h.detail))).toBe(
        true,
      );
      // asking for what the host has works
      expect(ok(sys, msix('nic0', 0, fds.slice(0, 3)))).toBe(0);
      expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('msix');
    }
  });

  it('msi_handle_pci_fail: nothing allocated is -ENOSPC, not a positive count', () => {
    const sys = createSystem({
      ...top(1),
      devices: [
        { name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 8 } },
        { name: 'nic1', bdf: '0000:66:00.0', msix: { table_size: 8 } },
      ],
    });
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    expect(ok(sys, msix('nic0', 0, [fd]))).toBe(0);
    const r = sys.apply(msix('nic1', 0, [fd]));
    expect(r).toMatchObject({ ok: false, errno: 'ENOSPC' });
    expect(sys.snapshot().state.vfio.nic1.irq_type).toBe('none');
  });

  it('6.12 dynamic MSI-X (pci_msix_alloc_irq_at) past the free IRTEs: alloc_irte fails, -ENOSPC for that vector only, no IRQ number taken', () => {
    const sys = createSystem(top(1, '6.12'));
    const a = ok(sys, { op: 'eventfd.create' }) as number;
    const b = ok(sys, { op: 'eventfd.create' }) as number;
    expect(ok(sys, msix('nic0', 0, [a]))).toBe(0);
    const next = sys.snapshot().state.host.next_irq;
    expect(sys.apply(msix('nic0', 1, [b]))).toMatchObject({ ok: false, errno: 'ENOSPC' });
    const s = sys.snapshot().state;
    expect(s.host.next_irq).toBe(next);
    expect(s.vfio.nic0.ctx[0]?.trigger).toBe(a);
    expect(s.vfio.nic0.ctx[1]).toBeUndefined();
    expect(s.host.log.slice(-2).map((l) => l.text)).toEqual([
      "DMAR-IR: IR0: can't allocate an IRTE",
      'DMAR-IR: Failed to allocate IRTE',
    ]);
  });

  it('multi-MSI without an aligned IRTE block answers 1 (msi_handle_pci_fail: "Let a failed PCI multi MSI allocation retry")', () => {
    const sys = createSystem({
      profile: '6.12',
      iommu: { interrupt_remapping: true, irte_entries: 2 },
      devices: [{ name: 'nic0', bdf: '0000:65:00.0', msi: { vectors: 4 }, msix: null }],
    });
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    const at = sys.traceLength();
    expect(
      ok(sys, {
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'EVENTFD|TRIGGER',
        index: 'MSI',
        start: 0,
        count: 4,
        data: [fd, fd, fd, fd],
      }),
    ).toBe(1);
    expect(fnAt(sys, at)).toContain('msi_handle_pci_fail@kernel/irq/msi.c');
  });

  it('multi-MSI without remapping: the vector domain lacks MSI_FLAG_MULTI_PCI_MSI (6.1 pci_msi_domain_check_cap, 6.12 msi_capability_init)', () => {
    for (const [profile, fn] of [
      ['6.1', 'pci_msi_domain_check_cap@drivers/pci/msi/irqdomain.c'],
      ['6.12', 'msi_capability_init@drivers/pci/msi/msi.c'],
    ] as const) {
      const sys = createSystem({
        profile,
        iommu: { interrupt_remapping: false },
        devices: [{ name: 'nic0', msi: { vectors: 4 }, msix: null }],
      });
      const fd = ok(sys, { op: 'eventfd.create' }) as number;
      const at = sys.traceLength();
      expect(
        ok(sys, {
          op: 'vfio.setIrqs',
          device: 'nic0',
          flags: 'EVENTFD|TRIGGER',
          index: 'MSI',
          start: 0,
          count: 4,
          data: [fd, fd, fd, fd],
        }),
      ).toBe(1);
      expect(fnAt(sys, at)).toContain(fn);
    }
  });

  it('QEMU vfio_msi_enable (hw/vfio/pci.c): a positive SET_IRQS is "Failed to enable 4 MSI vectors, retry with 1"; the retry enables 1 and the guest gets vector 0 only', () => {
    const sys = createSystem({
      profile: '6.12',
      iommu: { interrupt_remapping: false },
      devices: [{ name: 'nic0', bdf: '0000:65:00.0', msi: { vectors: 4 }, msix: null }],
    });
    ok(sys, { op: 'guest.msiEnable', device: 'nic0', vectors: 4, guest_vector: 0x40 });
    const r = rows(sys);
    const retry = r.findIndex(
      (h) => h.detail === 'vfio: Error: Failed to enable 4 MSI vectors, retry with 1',
    );
    expect(retry).toBeGreaterThanOrEqual(0);
    expect(`${r[retry].fn}@${r[retry].file}`).toBe('vfio_msi_enable@hw/vfio/pci.c');
    const sets = r.filter((h) => h.hop === 'ctl.set_irqs').map((h) => h.detail);
    expect(sets).toEqual(['MSI TRIGGER start 0 count 4', 'MSI TRIGGER start 0 count 1']);
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.irq_type).toBe('msi');
    expect(s.vmm_msi?.nic0.nr_vectors).toBe(1);
    expect(s.vmm_msi?.nic0.mme).toBe(4); // the guest keeps what it wrote
    expect(Object.keys(s.kvm.gsi_routes)).toHaveLength(1); // the first try's routes are gone
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 1 });
    sys.run();
    const c = sys.snapshot().state.counters;
    expect(c.delivered).toBe(1);
    expect(c.dropped).toBe(1);
  });

  it('a guest enabling MSI with MSI-X on (or the reverse) is refused as not modelled, and changes nothing', () => {
    const both = (): System =>
      createSystem({
        devices: [{ name: 'nic0', intx_pin: 1, msix: { table_size: 4 }, msi: { vectors: 2 } }],
      });
    let sys = both();
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    let before = JSON.stringify(sys.snapshot().state);
    expect(sys.apply({ op: 'guest.msiEnable', device: 'nic0', vectors: 2 })).toMatchObject({
      ok: false,
      errno: 'EOPNOTSUPP',
    });
    expect(JSON.stringify(sys.snapshot().state)).toBe(before);
    sys = both();
    ok(sys, { op: 'guest.msiEnable', device: 'nic0', vectors: 2 });
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('msi');
    before = JSON.stringify(sys.snapshot().state);
    expect(sys.apply({ op: 'guest.msixEnable', device: 'nic0' })).toMatchObject({
      ok: false,
      errno: 'EOPNOTSUPP',
    });
    expect(JSON.stringify(sys.snapshot().state)).toBe(before);
    // MSI off gives INTx back to QEMU (vfio_msi_disable -> vfio_intx_enable)
    ok(sys, { op: 'guest.msiEnable', device: 'nic0', enable: false });
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('intx');
  });

  it('QEMU vfio_msix_vector_do_use: MSI-X does not retry ("vfio: failed to enable vectors, 2"), the index stays off', () => {
    const sys = createSystem({
      ...top(2),
      devices: [{ name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 8 } }],
    });
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    for (const n of [0, 1, 2]) {
      ok(sys, { op: 'guest.program', device: 'nic0', vector: n, guest_vector: 0x40 + n });
      ok(sys, { op: 'guest.unmask', device: 'nic0', vector: n });
    }
    const failed = rows(sys).filter((h) => h.detail.startsWith('vfio: failed to enable vectors, 2'));
    expect(failed).toHaveLength(1);
    // the error_report is the caller's, after vfio_enable_vectors returns
    expect(`${failed[0].fn}@${failed[0].file}`).toBe('vfio_msix_vector_do_use@hw/vfio/pci.c');
    expect(sys.snapshot().state.vfio.nic0.irq_type).toBe('none');
  });

  it('msi_init_virq: an MSI without per-vector masking takes its real vector at allocation; none left is -ENOSPC before anything changes, never a count', () => {
    const sys = createSystem({
      profile: '6.12',
      host: { cpus: 1 },
      iommu: { interrupt_remapping: false },
      devices: [
        { name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 202 } },
        { name: 'nic1', bdf: '0000:66:00.0', msi: { vectors: 1 }, msix: null },
      ],
    });
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    // 0x22..0xeb: 202 dynamic vectors on the one CPU, all requested by nic0
    expect(
      ok(
        sys,
        msix(
          'nic0',
          0,
          Array.from({ length: 202 }, () => fd),
        ),
      ),
    ).toBe(0);
    const before = Object.keys(sys.snapshot().state.host.irqs).length;
    const r = sys.apply({
      op: 'vfio.setIrqs',
      device: 'nic1',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 1,
      data: [fd],
    });
    expect(r).toMatchObject({ ok: false, errno: 'ENOSPC' });
    const s = sys.snapshot().state;
    expect([s.vfio.nic1.irq_type, s.devices.nic1.msi?.enable, Object.keys(s.host.irqs).length]).toEqual([
      'none',
      false,
      before,
    ]);
  });

  it('irte_entries is checked: a number in 1..65536, and only with interrupt remapping', () => {
    expect(
      topologyErrors({ iommu: { irte_entries: 0 }, devices: [{ name: 'a', msix: { table_size: 1 } }] }),
    ).toEqual([expect.stringContaining('irte_entries must be 1..65536')]);
    expect(
      topologyErrors({
        iommu: { interrupt_remapping: false, irte_entries: 4 },
        devices: [{ name: 'a', msix: { table_size: 1 } }],
      }),
    ).toEqual([expect.stringContaining('needs interrupt remapping')]);
  });
});

describe('a 6.12 host whose MSI-X domain cannot allocate dynamically (I.13)', () => {
  const top = (dyn?: boolean): Topology => ({
    profile: '6.12',
    host: dyn === undefined ? {} : { msix_alloc_dyn: dyn },
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 8 } }],
  });

  it('vfio_pci_ioctl_get_irq_info keeps VFIO_IRQ_INFO_NORESIZE when !has_dyn_msix (6c8017c6a58d clears it only for dynamic MSI-X)', () => {
    const info = (sys: System) =>
      ok(sys, { op: 'vfio.getIrqInfo', device: 'nic0', index: 'MSIX' }) as { flags: number };
    expect(info(createSystem(top())).flags & VFIO_IRQ_INFO_NORESIZE).toBe(0);
    expect(info(createSystem(top(false))).flags & VFIO_IRQ_INFO_NORESIZE).toBe(VFIO_IRQ_INFO_NORESIZE);
  });

  it('vfio_msi_alloc_irq: a vector past the enable-time allocation is -EINVAL without has_dyn_msix, and the block unwinds', () => {
    const sys = createSystem(top(false));
    const a = ok(sys, { op: 'eventfd.create' }) as number;
    const b = ok(sys, { op: 'eventfd.create' }) as number;
    expect(ok(sys, msix('nic0', 0, [a]))).toBe(0);
    const r = sys.apply(msix('nic0', 1, [b]));
    expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
    expect(r.ok ? '' : r.message).toContain('has_dyn_msix');
    const s = sys.snapshot().state;
    expect(Object.values(s.host.irqs).filter((h) => h.chip.endsWith('MSIX'))).toHaveLength(1);
    // the dynamic host allocates it on the spot
    const dyn = createSystem(top());
    ok(dyn, { op: 'eventfd.create' });
    ok(dyn, { op: 'eventfd.create' });
    ok(dyn, msix('nic0', 0, [a]));
    expect(ok(dyn, msix('nic0', 1, [b]))).toBe(0);
  });

  it('QEMU sees NORESIZE (vfio_msix_early_setup) and grows by disable + re-enable, as on 6.1', () => {
    const grow = (sys: System) => {
      ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
      for (const n of [0, 1]) {
        ok(sys, { op: 'guest.program', device: 'nic0', vector: n, guest_vector: 0x40 + n });
        ok(sys, { op: 'guest.unmask', device: 'nic0', vector: n });
      }
      return rows(sys)
        .filter((h) => h.hop === 'ctl.set_irqs')
        .map((h) => h.detail);
    };
    expect(grow(createSystem(top(false)))).toEqual(grow(createSystem({ ...top(), profile: '6.1' })));
    expect(grow(createSystem(top(false)))).not.toEqual(grow(createSystem(top())));
  });

  it('msix_alloc_dyn true on 6.1 is refused: 6.1 has no dynamic MSI-X', () => {
    expect(topologyErrors({ ...top(true), profile: '6.1' })).toEqual([
      expect.stringContaining("unsupported on profile '6.1'"),
    ]);
  });
});

describe('the pre-2024 INTx code of upstream v6.1.0 (I.14)', () => {
  const top = (handler?: 'per-trigger'): Topology => ({
    profile: '6.1',
    host: handler ? { intx_handler: handler } : {},
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', intx_pin: 1, msix: null }],
  });
  const intx = (fd: number): Command => ({
    op: 'vfio.setIrqs',
    device: 'nic0',
    flags: 'EVENTFD|TRIGGER',
    index: 'INTX',
    start: 0,
    count: 1,
    data: [fd],
  });

  it('v6.1.0 vfio_intx_set_signal: fd -1 enables INTx with no handler (the interrupt waits at the pin); the persistent handler (18c198c96a81) takes it and drops it', () => {
    const old = createSystem(top('per-trigger'));
    ok(old, intx(-1));
    expect(old.snapshot().state.vfio.nic0.irq_type).toBe('intx');
    expect(old.snapshot().state.host.irqs['16'].started).toBe(false);
    ok(old, { op: 'device.raise', device: 'nic0' });
    old.run();
    expect(rows(old).some((h) => h.detail === 'pin asserted; no host handler on the line')).toBe(true);

    const now = createSystem(top());
    ok(now, intx(-1));
    expect(now.snapshot().state.host.irqs['16'].started).toBe(true);
    ok(now, { op: 'device.raise', device: 'nic0' });
    now.run();
    expect(rows(now).some((h) => h.hop === 'vfio.no_trigger')).toBe(true);
  });

  it('v6.1.0: a new trigger is free_irq + request_irq; the persistent code only swaps the pointer', () => {
    const names = (sys: System) => {
      const a = ok(sys, { op: 'eventfd.create' }) as number;
      const b = ok(sys, { op: 'eventfd.create' }) as number;
      ok(sys, intx(a));
      const at = sys.traceLength();
      ok(sys, intx(b));
      return rows(sys, at).map((h) => h.detail);
    };
    const old = names(createSystem(top('per-trigger')));
    expect(old.some((d) => d.startsWith('free_irq(16)'))).toBe(true);
    expect(old.some((d) => d.startsWith('request_irq(16'))).toBe(true);
    expect(names(createSystem(top()))).toContain('INTx trigger eventfd 7');
  });

  it('v6.1.0: a bad fd while enabled has already released the old trigger: INTx stays enabled with no handler; the hardened code changes nothing', () => {
    const old = createSystem(top('per-trigger'));
    const a = ok(old, { op: 'eventfd.create' }) as number;
    ok(old, intx(a));
    expect(old.apply(intx(99))).toMatchObject({ ok: false, errno: 'EBADF' });
    let s = old.snapshot().state;
    expect([s.vfio.nic0.irq_type, s.vfio.nic0.intx.trigger, s.host.irqs['16'].started]).toEqual([
      'intx',
      null,
      false,
    ]);
    const now = createSystem(top());
    ok(now, { op: 'eventfd.create' });
    ok(now, intx(a));
    expect(now.apply(intx(99))).toMatchObject({ ok: false, errno: 'EBADF' });
    s = now.snapshot().state;
    expect([s.vfio.nic0.intx.trigger, s.host.irqs['16'].started]).toEqual([a, true]);
  });

  it('v6.1.0 under QEMU: vfio_realize -> vfio_intx_enable sets its eventfd, so the handler is requested then; MSI-X enable frees it', () => {
    const sys = createSystem({
      profile: '6.1',
      host: { intx_handler: 'per-trigger' },
      devices: [{ name: 'nic0', bdf: '0000:65:00.0', intx_pin: 1, msix: { table_size: 4 } }],
    });
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    let s = sys.snapshot().state;
    expect([s.vfio.nic0.irq_type, s.host.irqs['16'].started]).toEqual(['intx', true]);
    ok(sys, { op: 'guest.msixEnable', device: 'nic0' });
    s = sys.snapshot().state;
    expect([s.vfio.nic0.irq_type, s.host.irqs['16'].started]).toEqual(['msix', false]);
  });

  it("intx_handler 'per-trigger' is refused on 6.12, which was released with the persistent handler", () => {
    expect(topologyErrors({ ...top('per-trigger'), profile: '6.12' })).toEqual([
      expect.stringContaining("unsupported on profile '6.12'"),
    ]);
  });
});

describe('vfio_pci_core_request (drivers/vfio/pci/vfio_pci_core.c): the host asks for the device back (I.15)', () => {
  const top: Topology = { devices: [{ name: 'nic0', bdf: '0000:65:00.0', msix: { table_size: 2 } }] };

  it('no REQ trigger: pci_warn "No device request channel registered" at count 0 only', () => {
    const sys = createSystem(top);
    expect(ok(sys, { op: 'host.request', device: 'nic0' })).toBe(false);
    ok(sys, { op: 'host.request', device: 'nic0', count: 1 });
    const log = sys.snapshot().state.host.log;
    expect(log.map((l) => [l.level, l.text])).toEqual([
      ['warn', 'vfio-pci 0000:65:00.0: No device request channel registered, blocked until released by user'],
    ]);
    expect(rows(sys).filter((h) => h.hop === 'vfio.request')).toHaveLength(2);
  });

  it('with a REQ trigger: eventfd_signal every time, pci_notice_ratelimited "Relaying device request to user (#n)" when n % 10 == 0', () => {
    const sys = createSystem(top);
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'REQ',
      start: 0,
      count: 1,
      data: [fd],
    });
    for (const count of [0, 1, 10]) expect(ok(sys, { op: 'host.request', device: 'nic0', count })).toBe(true);
    sys.run();
    const s = sys.snapshot().state;
    expect(s.eventfds[fd].count).toBe(3);
    expect(s.host.log.map((l) => [l.level, l.text])).toEqual([
      ['notice', 'vfio-pci 0000:65:00.0: Relaying device request to user (#0)'],
      ['notice', 'vfio-pci 0000:65:00.0: Relaying device request to user (#10)'],
    ]);
    const req = rows(sys).find((h) => h.hop === 'vfio.request');
    expect(`${req?.fn}@${req?.file}`).toBe('vfio_pci_core_request@drivers/vfio/pci/vfio_pci_core.c');
  });
});

describe('virqfd (I.17)', () => {
  it('vfio_virqfd_enable is named in drivers/vfio/virqfd.c, not vfio_pci_intrs.c', () => {
    const sys = createSystem({ devices: [{ name: 'nic0', intx_pin: 1, msix: null }] });
    const a = ok(sys, { op: 'eventfd.create' }) as number;
    const b = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'INTX',
      start: 0,
      count: 1,
      data: [a],
    });
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|UNMASK',
      index: 'INTX',
      start: 0,
      count: 1,
      data: [b],
    });
    expect(fnAt(sys)).toContain('vfio_virqfd_enable@drivers/vfio/virqfd.c');
  });
});

describe("alloc_irte's power-of-two region for a multi-vector MSI (drivers/iommu/intel/irq_remapping.c)", () => {
  const top: Topology = {
    profile: '6.12',
    iommu: { interrupt_remapping: true },
    devices: [
      { name: 'nic0', bdf: '0000:65:00.0', msi: { vectors: 8 }, msix: null },
      { name: 'nic1', bdf: '0000:66:00.0', msix: { table_size: 4 } },
    ],
  };
  const msi = (fds: number[]): Command => ({
    op: 'vfio.setIrqs',
    device: 'nic0',
    flags: 'EVENTFD|TRIGGER',
    index: 'MSI',
    start: 0,
    count: fds.length,
    data: fds,
  });

  it('3 vectors reserve 4 aligned entries: the 4th is padding, not present, never handed to another vector, and goes with the block', () => {
    const sys = createSystem(top);
    const fds = Array.from({ length: 3 }, () => ok(sys, { op: 'eventfd.create' }) as number);
    expect(ok(sys, msi(fds))).toBe(0);
    let irte = sys.snapshot().state.iommu.irte;
    expect(irte.slice(0, 4).map((t) => t && (t.block === undefined ? 'vector' : `pad@${t.block}`))).toEqual([
      'vector',
      'vector',
      'vector',
      'pad@0',
    ]);
    expect(irte[3]!.present).toBe(false);
    // another device's vector takes the next free entry, past the block
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic1',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [fd],
    });
    irte = sys.snapshot().state.iommu.irte;
    expect(irte[4]?.sid).toBe('0000:66:00.0');
    // the padding cannot be made present by hand
    const r = sys.apply({ op: 'iommu.irtePresent', index: 3, present: true });
    expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
    // MSI off: the whole region is released with its vectors
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'NONE|TRIGGER',
      index: 'MSI',
      start: 0,
      count: 0,
      data: [],
    });
    irte = sys.snapshot().state.iommu.irte;
    expect(irte.slice(0, 4)).toEqual([null, null, null, null]);
    expect(irte[4]?.sid).toBe('0000:66:00.0');
  });

  it('a region with one entry in use is not taken: the block goes to the next aligned region', () => {
    const sys = createSystem(top);
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    // nic1's vector takes IRTE 0 first
    ok(sys, {
      op: 'vfio.setIrqs',
      device: 'nic1',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [fd],
    });
    const fds = Array.from({ length: 3 }, () => ok(sys, { op: 'eventfd.create' }) as number);
    expect(ok(sys, msi(fds))).toBe(0);
    const irte = sys.snapshot().state.iommu.irte;
    expect(irte.slice(4, 8).map((t) => (t?.block === undefined ? t?.sid : 'pad'))).toEqual([
      '0000:65:00.0',
      '0000:65:00.0',
      '0000:65:00.0',
      'pad',
    ]);
    expect(irte.slice(1, 4)).toEqual([null, null, null]);
  });
});

describe('a pin the platform does not route (vfio/pci: Handle INTx IRQ_NOTCONNECTED, 860be250fc32)', () => {
  const top = (routed: boolean): Topology => ({
    profile: '6.12',
    iommu: { interrupt_remapping: true },
    devices: [{ name: 'nic0', bdf: '0000:65:00.0', intx_routed: routed, msix: { table_size: 4 } }],
  });

  it('vfio_config_init virtualizes the Interrupt Pin to 0 and vfio_pci_get_irq_count follows it: no INTx for the user', () => {
    for (const routed of [true, false]) {
      const sys = createSystem(top(routed));
      expect(ok(sys, { op: 'vfio.configRead', device: 'nic0', offset: 0x3d, size: 1 })).toBe(routed ? 1 : 0);
      expect(ok(sys, { op: 'vfio.getIrqInfo', device: 'nic0', index: 'INTX' })).toMatchObject({
        count: routed ? 1 : 0,
      });
      const fd = ok(sys, { op: 'eventfd.create' }) as number;
      const r = sys.apply({
        op: 'vfio.setIrqs',
        device: 'nic0',
        flags: 'EVENTFD|TRIGGER',
        index: 'INTX',
        start: 0,
        count: 1,
        data: [fd],
      });
      expect(r.ok).toBe(routed);
      if (!r.ok) expect(r.errno).toBe('EINVAL');
    }
  });

  it('QEMU reads pin 0 through VFIO and sets up no INTx; the device asserting its pin reaches nobody', () => {
    const sys = createSystem(top(false));
    ok(sys, { op: 'vmm.realize', device: 'nic0' });
    const s = sys.snapshot().state;
    expect(s.vfio.nic0.irq_type).toBe('none');
    expect(Object.values(s.host.irqs).some((h) => h.chip === 'IO-APIC')).toBe(false);
    const at = sys.traceLength();
    ok(sys, { op: 'device.raise', device: 'nic0', vector: 0 });
    sys.run();
    const row = rows(sys, at).find((h) => h.hop === 'intx.assert')!;
    expect(row.outcome).toBe('pending');
    expect(row.detail).toMatch(/IRQ_NOTCONNECTED/);
  });

  it('an unrouted pin needs a pin', () => {
    const t = top(false);
    t.devices![0].intx_pin = 0;
    expect(topologyErrors(t).join('\n')).toMatch(/intx_routed: false needs a pin/);
  });
});
