// Builds the initial state from a plain-JSON topology, after checking it. A bad topology is a list of
// messages naming the field, never an exception from deep inside the engine.

import type { DesignGeneration, SystemState, Topology, Vcpu } from './types.ts';
import { DESIGN_IDS } from './linux/drivers/vfio/pci/designs.ts';
import { deviceCreate } from './hw/pci/device.ts';
import { vdevCreate } from './linux/drivers/dma/idxd/vdev.ts';
import { vfioDeviceCreate } from './linux/drivers/vfio/device.ts';
import { vmmDeviceCreate } from './qemu/hw/vfio/pci.ts';
import { guestDriverCreate } from './guest/driver.ts';
import { piCreate } from './linux/arch/x86/kvm/vmx/posted_intr.ts';
import { ioapicCreate } from './linux/arch/x86/kvm/ioapic.ts';
import { FIRST_EVENTFD } from './linux/fs/eventfd.ts';
import { MSIX_MAX_ENTRIES } from './hw/pci/msix.ts';
import { msiMessageControl } from './hw/pci/msi.ts';
import { INTR_REMAP_TABLE_ENTRIES } from './linux/drivers/iommu/intel/irq_remapping.ts';
import { PCI_COMMAND_INTX_DISABLE } from './hw/pci/intx.ts';

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export function topologyErrors(t: unknown): string[] {
  const errs: string[] = [];
  if (typeof t !== 'object' || t === null) return ['topology must be an object'];
  const top = t as Topology;
  if (top.profile !== undefined && top.profile !== '6.1' && top.profile !== '6.12')
    errs.push(`topology.profile '${String(top.profile)}' is not 6.1 or 6.12`);
  if (top.design !== undefined && !DESIGN_IDS.includes(top.design))
    errs.push(`topology.design '${String(top.design)}' is not ${DESIGN_IDS.join(', ')}`);
  // The merged kernel has no IMS backend and no emulated vectors: a virtual device has no upstream code.
  else if (top.design === 'merged' && Array.isArray(top.vdevs) && top.vdevs.length > 0)
    errs.push(
      `topology.design 'merged' cannot build virtual device '${String(top.vdevs[0]?.name)}': the merged kernel ` +
        `(6.1, 6.12) has no IMS backend and no emulated vectors; choose an RFC design (${DESIGN_IDS.filter((d) => d !== 'merged').join(', ')})`,
    );
  const cpus = top.host?.cpus ?? 8;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 256) errs.push('topology.host.cpus must be 1..256');
  const irte = top.iommu?.irte_entries;
  if (irte !== undefined && (!Number.isInteger(irte) || irte < 1 || irte > INTR_REMAP_TABLE_ENTRIES))
    errs.push(
      `topology.iommu.irte_entries must be 1..${INTR_REMAP_TABLE_ENTRIES} (INTR_REMAP_TABLE_ENTRIES)`,
    );
  else if (irte !== undefined && top.iommu?.interrupt_remapping === false)
    errs.push(
      'topology.iommu.irte_entries needs interrupt remapping: without it there is no remapping table',
    );
  const dyn = top.host?.msix_alloc_dyn;
  if (dyn !== undefined && typeof dyn !== 'boolean')
    errs.push('topology.host.msix_alloc_dyn must be true or false');
  // 6.1 has no dynamic MSI-X at all (pci_msix_alloc_irq_at came in 6.2, vfio's use of it in 6.5)
  else if (dyn === true && top.profile === '6.1')
    errs.push(
      "topology.host.msix_alloc_dyn true is unsupported on profile '6.1': dynamic MSI-X allocation " +
        '(pci_msix_alloc_irq_at, v6.2; vfio has_dyn_msix, v6.5) is not in 6.1',
    );
  const ih = top.host?.intx_handler;
  if (ih !== undefined && ih !== 'persistent' && ih !== 'per-trigger')
    errs.push(`topology.host.intx_handler '${String(ih)}' is not persistent or per-trigger`);
  else if (ih === 'per-trigger' && top.profile !== '6.1')
    errs.push(
      "topology.host.intx_handler 'per-trigger' is unsupported on profile '6.12': the pre-2024 INTx code " +
        "is upstream v6.1.0's; 6.12 was released with the persistent handler (use profile '6.1')",
    );
  const vcpus = top.vm?.vcpus ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 64) errs.push('topology.vm.vcpus must be 1..64');
  if (top.vm?.apicv !== undefined && typeof top.vm.apicv !== 'boolean')
    errs.push('topology.vm.apicv must be true or false');

  if (!Array.isArray(top.devices) || top.devices.length === 0)
    return [...errs, 'topology.devices must list at least one PCI device'];
  const names = new Set<string>();
  top.devices.forEach((d, i) => {
    const at = `topology.devices[${i}]`;
    if (typeof d !== 'object' || d === null) return errs.push(`${at} must be an object`);
    if (typeof d.name !== 'string' || !NAME.test(d.name)) errs.push(`${at}.name must match ${NAME}`);
    else if (names.has(d.name)) errs.push(`${at}.name '${d.name}' is used twice`);
    else names.add(d.name);
    if (d.msix) {
      const n = d.msix.table_size;
      if (!Number.isInteger(n) || n < 1 || n > MSIX_MAX_ENTRIES)
        errs.push(`${at}.msix.table_size must be 1..${MSIX_MAX_ENTRIES} (11-bit N-1 field)`);
    }
    if (d.msi) {
      const n = d.msi.vectors;
      if (![1, 2, 4, 8, 16, 32].includes(n))
        errs.push(`${at}.msi.vectors must be 1, 2, 4, 8, 16 or 32 (Multiple Message Capable)`);
    }
    if (d.ims && (!Number.isInteger(d.ims.size) || d.ims.size < 1 || d.ims.size > 32768))
      errs.push(`${at}.ims.size must be 1..32768`);
    if (d.command !== undefined && (!Number.isInteger(d.command) || d.command < 0 || d.command > 0xffff))
      errs.push(`${at}.command must be a 16-bit command register value`);
    if (d.model !== undefined && d.model !== 'e1000e')
      errs.push(`${at}.model '${String(d.model)}' is unsupported: only e1000e's registers are modelled`);
    for (const [cap, c] of [
      ['msix', d.msix?.cap],
      ['msi', d.msi?.cap],
    ] as const)
      if (c !== undefined && (!Number.isInteger(c) || c < 0x40 || c > 0xf0 || c % 4 !== 0))
        errs.push(`${at}.${cap}.cap must be a dword-aligned offset 0x40..0xf0 in config space`);
    if ((d.msix?.cap ?? 0x70) === (d.msi?.cap ?? 0x50) && d.msix && d.msi)
      errs.push(`${at}: the MSI and MSI-X capabilities cannot share an offset`);
    if (d.intx_pin !== undefined && (!Number.isInteger(d.intx_pin) || d.intx_pin < 0 || d.intx_pin > 4))
      errs.push(`${at}.intx_pin must be 0..4`);
    if (d.intx_routed !== undefined && typeof d.intx_routed !== 'boolean')
      errs.push(`${at}.intx_routed must be true or false`);
    if (d.intx_routed === false && d.intx_pin === 0)
      errs.push(`${at}.intx_routed: false needs a pin (intx_pin 0 already means no INTx)`);
    if (
      d.guest_intx_gsi !== undefined &&
      (!Number.isInteger(d.guest_intx_gsi) || d.guest_intx_gsi < 0 || d.guest_intx_gsi > 23)
    )
      errs.push(`${at}.guest_intx_gsi must be an IO-APIC GSI 0..23 (KVM_IOAPIC_NUM_PINS)`);
    return 0;
  });
  (top.vdevs ?? []).forEach((v, i) => {
    const at = `topology.vdevs[${i}]`;
    if (typeof v !== 'object' || v === null) return errs.push(`${at} must be an object`);
    if (typeof v.name !== 'string' || !NAME.test(v.name)) errs.push(`${at}.name must match ${NAME}`);
    else if (names.has(v.name)) errs.push(`${at}.name '${v.name}' is used twice`);
    else names.add(v.name);
    const parent = top.devices.find((d) => d.name === v.parent);
    if (!parent) errs.push(`${at}.parent '${String(v.parent)}' is not a PCI device of the topology`);
    if (v.kind !== 'idxd-wq')
      errs.push(`${at}.kind '${String(v.kind)}' is unsupported: only idxd-wq is modelled`);
    if (
      !Array.isArray(v.vectors) ||
      v.vectors.length < 1 ||
      v.vectors.length > 2048 ||
      !v.vectors.every((b) => b === 'ims' || b === 'emulated')
    )
      errs.push(`${at}.vectors must list 1..2048 backends, each 'ims' or 'emulated'`);
    else if (v.vectors.includes('ims') && !parent?.ims)
      errs.push(`${at} has IMS-backed vectors but its parent has no ims`);
    if (!Number.isInteger(v.wq) || v.wq < 0)
      errs.push(`${at}.wq must be the parent's work queue index (>= 0)`);
    if (Array.isArray(v.vectors) && v.vectors.length < 2)
      errs.push(`${at}.vectors: the misc vector plus one for the work queue needs at least 2`);
    return 0;
  });
  return errs;
}

/**
 * The design when the topology names none: the merged code for plain vfio-pci devices; a topology with
 * virtual devices (IMS-backed or emulated vectors, which only the RFCs implement) gets RFC v3, the
 * last IMS generation posted. Asking for `merged` with virtual devices is refused (topologyErrors).
 */
export function defaultDesign(t: Pick<Topology, 'vdevs'>): DesignGeneration {
  return (t.vdevs?.length ?? 0) > 0 ? 'rfc-v3' : 'merged';
}

export function buildState(t: Topology): SystemState {
  const vcpus: Vcpu[] = Array.from({ length: t.vm?.vcpus ?? 1 }, (_, id) => ({
    id,
    apic_id: id,
    state: 'running',
    // a Linux guest's LAPIC after boot: software-enabled, spurious vector 0xff, flat logical mode with
    // one bit per CPU (arch/x86/kernel/apic/apic_flat_64.c: flat_init_apic_ldr), TPR 0
    lapic: {
      tpr: 0,
      svr: 0x1ff,
      ldr: id < 8 ? ((1 << id) << 24) >>> 0 : 0,
      dfr: 0xffffffff,
      arb_prio: 0,
      irr: [],
      isr: [],
      irr_irq: [],
      isr_irq: [],
    },
    pi: piCreate(id % (t.host?.cpus ?? 8)),
    handled: {},
    accept_scheduled: false,
    in_irq: false,
  }));
  const s: SystemState = {
    profile: t.profile ?? '6.12',
    design: t.design ?? defaultDesign(t),
    time: 0,
    iommu: {
      interrupt_remapping: t.iommu?.interrupt_remapping ?? true,
      posted_interrupts: (t.iommu?.posted_interrupts ?? false) && (t.iommu?.interrupt_remapping ?? true),
      irte: [],
      faults: [],
      ...(t.iommu?.irte_entries !== undefined ? { irte_entries: t.iommu.irte_entries } : {}),
    },
    devices: {},
    vdevs: {},
    host: {
      cpus: t.host?.cpus ?? 8,
      irqs: {},
      next_irq: 40,
      log: [],
      ...(t.host?.msix_alloc_dyn === false ? { msix_alloc_dyn: false as const } : {}),
      ...(t.host?.intx_handler === 'per-trigger' ? { intx_handler: 'per-trigger' as const } : {}),
    },
    vfio: {},
    eventfds: {},
    next_fd: FIRST_EVENTFD,
    kvm: {
      gsi_routes: {},
      irqfds: {},
      vcpus,
      next_gsi: 24,
      // posted interrupts imply APICv: vmx_can_use_vtd_pi needs enable_apicv
      apicv: t.vm?.apicv ?? ((t.iommu?.posted_interrupts ?? false) && (t.iommu?.interrupt_remapping ?? true)),
      ioapic: ioapicCreate(),
    },
    vmm: {},
    guest: {},
    counters: { raised: 0, delivered: 0, coalesced: 0, dropped: 0, drop_reasons: {} },
  };
  t.devices.forEach((d, i) => {
    const dev = deviceCreate(d, i);
    s.devices[d.name] = dev;
    if (dev.passthrough) {
      const vfio = vfioDeviceCreate(d.name, 'vfio-pci');
      // vfio_config_init: vconfig starts as a copy of the physical config space
      if (dev.msi) vfio.vconfig.msi_flags = msiMessageControl(dev.msi);
      vfio.vconfig.virq_disabled = (dev.command & PCI_COMMAND_INTX_DISABLE) !== 0;
      s.vfio[d.name] = vfio;
      if (dev.msix) {
        s.vmm[d.name] = vmmDeviceCreate(d.name, dev.msix.table_size);
        s.vmm[d.name].intx_route = d.guest_intx_gsi ?? null;
        s.guest[d.name] = guestDriverCreate(d.name, dev.msix.table_size);
      }
    }
  });
  for (const v of t.vdevs ?? []) {
    const vdev = vdevCreate(v);
    s.vdevs[v.name] = vdev;
    const vfio = vfioDeviceCreate(v.name, 'idxd-vdev');
    // marked emulated by the variant driver at open (RFC v1 vfio_pci_ims_set_emulated, v2/v3
    // vfio_pci_set_emulated): vectors with no host interrupt behind them
    vfio.emulated = v.vectors.flatMap((b, i) => (b === 'emulated' ? [i] : []));
    s.vfio[v.name] = vfio;
    s.vmm[v.name] = vmmDeviceCreate(v.name, v.vectors.length);
    s.guest[v.name] = guestDriverCreate(v.name, v.vectors.length);
  }
  return s;
}
