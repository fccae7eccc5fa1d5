// The host IRQ layer: interrupts allocated for MSI-X, MSI, IMS entries and INTx lines, their handlers
// (request_irq / free_irq) and the flow handler that runs them.
//   allocate  msi_domain_alloc_irqs: x86_vector_alloc_irqs -> assign_irq_vector_policy makes only a
//             global reservation (reserve_irq_vector: irq_matrix_reserve, which warns but never fails)
//             and points the interrupt at MANAGED_IRQ_SHUTDOWN_VECTOR; msi_init_virq activates it in
//             reservation mode and clears the activated bit "so request_irq() will assign the final
//             vector" (kernel/irq/msi.c). Reservation mode needs masking (msi_check_reservation_mode:
//             MSI-X, or MSI with per-vector masking); an MSI without it gets its real vector at
//             allocation (activate_reserved) and keeps it until the descriptor is freed. An IRTE with
//             remapping, and the message written to the device's entry, which stays masked;
//   request   request_irq -> irq_startup -> irq_activate: x86_vector_activate -> activate_reserved
//             assigns the real vector (irq_matrix_alloc; -ENOSPC fails request_irq, not the enable),
//             the IRTE is written with it, the cached message rewritten, and the chip unmasked, which
//             sends what the device held pending;
//   free      free_irq -> irq_shutdown_and_deactivate (kernel/irq/chip.c): mask at the chip, then
//             msi_domain_deactivate writes an all-zero message and intel_irq_remapping_deactivate
//             clears the IRTE, so a message already in flight faults instead of reaching a handler;
//             x86_vector_deactivate returns the vector and makes a global reservation again.
// Chip names are what /proc/interrupts shows (chipName): the domain hierarchy is per-device MSI-X / MSI
// (6.2 and later; 6.1 has one global PCI-MSI domain) or IMS -> INTEL-IR (prefix "IR-") -> VECTOR.

import { on, placeSite, type Engine, NK } from '../../../engine.ts';
import { EV } from '../../../datapath.ts';
import type { HostIrq, KernelProfile, PciDeviceState } from '../../../types.ts';
import {
  intelIrqRemappingActivate,
  intelIrReconfigureIrte,
  irteAlloc,
  irteFree,
} from '../../drivers/iommu/intel/irq_remapping.ts';
import { compatAddress, remappableAddress } from '../../arch/x86/kernel/apic/msi.ts';
import { hex } from '../../../hex.ts';
import { msixUpdateMasks } from '../../../hw/pci/device.ts';
import { msiUpdateMasks } from '../../../hw/pci/msi.ts';
import { imsUpdateMasks } from '../../../hw/ims.ts';
import { HOP } from '../../../hops.ts';
import { defineDetail, OUT } from '../../../sim/trace.ts';
import { raise } from '../../../errno.ts';
import { printk } from '../printk/printk.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_VFIO = NK['vfio'];

// Hops, detail formats and places this file records (hops.ts, sim/trace.ts).
const H_HOST_IRQ = HOP['host.irq'];
const H_NO_HANDLER = HOP['host.no_handler'];
const F_HOST_IRQ = defineDetail(
  (irq, vector, hwirq) => `IRQ ${irq}, host vector ${hex(vector)} (hwirq ${hwirq}): handler runs`,
);
const F_NO_HANDLER = defineDetail(
  (irq) => `IRQ ${irq} was freed while the message was in flight: no handler for its vector`,
);
const P_NO_HANDLER = placeSite();

/** Dynamically allocated host vectors (arch/x86/include/asm/irq_vectors.h: after the ISA range). */
const FIRST_DYNAMIC_VECTOR = 0x22;
const LAST_DYNAMIC_VECTOR = 0xeb;
/** arch/x86/include/asm/irq_vectors.h: where a reserved or shut-down interrupt points. */
export const MANAGED_IRQ_SHUTDOWN_VECTOR = 0xef;
/** First GSI of the IOAPIC pins PCI INTx is routed to (legacy IRQ numbers are the GSIs: 16..23). */
const FIRST_PCI_GSI = 16;
const LAST_PCI_GSI = 23;

type Chip = 'PCI-MSIX' | 'PCI-MSI' | 'IO-APIC' | 'IMS';

/**
 * A host vector and CPU, as the x86 vector matrix allocator picks them (kernel/irq/matrix.c:
 * irq_matrix_alloc): the CPU with the fewest vectors in use, then its lowest free vector. It never hands
 * out a vector in use; ENOSPC when every CPU is full.
 */
function allocVector(e: Engine): { vector: number; cpu: number } {
  const h = e.state.host;
  const used = Array.from({ length: h.cpus }, () => new Set<number>());
  for (const x of Object.values(h.irqs)) if (!x.reserved) used[x.cpu]?.add(x.vector);
  let cpu = 0;
  for (let c = 1; c < h.cpus; c++) if (used[c].size < used[cpu].size) cpu = c;
  for (let v = FIRST_DYNAMIC_VECTOR; v <= LAST_DYNAMIC_VECTOR; v++)
    if (!used[cpu].has(v)) return { vector: v, cpu };
  return raise('ENOSPC', `no free host vector on any of the ${h.cpus} host CPUs (irq_matrix_alloc: -ENOSPC)`);
}

/** Vectors irq_matrix_alloc could still hand out, over every host CPU (no state changes). */
export function hostVectorsFree(e: Engine): number {
  const h = e.state.host;
  const used = Array.from({ length: h.cpus }, () => new Set<number>());
  for (const x of Object.values(h.irqs)) if (!x.reserved) used[x.cpu]?.add(x.vector);
  const per = LAST_DYNAMIC_VECTOR - FIRST_DYNAMIC_VECTOR + 1;
  return used.reduce((n, u) => n + per - u.size, 0);
}

/**
 * The chip name /proc/interrupts shows. 6.2 and later create a per-device MSI domain whose name is
 * "%s%s-%s" of the parent's prefix ("IR-" from dmar_msi_parent_ops), the template chip ("PCI-MSIX",
 * "PCI-MSI") and dev_name (kernel/irq/msi.c: msi_create_device_irq_domain); 6.1 has the one global
 * "IR-PCI-MSI" / "PCI-MSI" chip for MSI and MSI-X. INTx is the IOAPIC pin's chip ("IR-IO-APIC" when
 * remapped: ioapic_ir_chip). An IMS domain (pci_create_ims_domain) takes its chip name from the parent
 * driver's template: IDXD's is "PCI-IDXD" (idxd_ims_template, drivers/irqchip/irq-pci-intel-idxd.c in
 * Thomas Gleixner's "[patch V3 33/33] irqchip: Add IDXD Interrupt Message Store driver", 2022), so an
 * IMS interrupt reads IR-PCI-IDXD-<bdf>; IMS exists only with per-device domains, so on both profiles.
 */
export const IDXD_IMS_CHIP = 'PCI-IDXD';

export function chipName(e: Engine, chip: Chip, bdf: string, remap: boolean): string {
  const ir = remap ? 'IR-' : '';
  if (chip === 'IO-APIC') return `${ir}IO-APIC`;
  if (chip === 'IMS') return `${ir}${IDXD_IMS_CHIP}-${bdf}`;
  if (e.state.profile === '6.1') return `${ir}PCI-MSI`;
  return `${ir}${chip}-${bdf}`;
}

/**
 * The irq domain hierarchy from the device's domain down to the vector domain, as
 * /sys/kernel/debug/irq/irqs/<n> lists it. 6.2 and later: the per-device domain is named like its chip
 * (msi_create_device_irq_domain); 6.1: one MSI domain per IOMMU, "INTEL-IR-MSI-<seq>-..."
 * (arch_create_remap_msi_irq_domain in intel_setup_irq_remapping), or x86's global "PCI-MSI" without
 * remapping. intel_setup_irq_remapping names the remapping domain INTEL-IR-<seq>; x86_vector_domain is
 * VECTOR. (An INTx pin's domain is its IO-APIC's, shown here by its chip name.)
 */
export function irqDomainHierarchy(profile: KernelProfile, h: Pick<HostIrq, 'chip_name'>): string[] {
  const remapped = h.chip_name.startsWith('IR-');
  const msi = !h.chip_name.includes('IO-APIC') && !h.chip_name.includes(IDXD_IMS_CHIP);
  const top = profile === '6.1' && msi ? (remapped ? 'INTEL-IR-MSI-0' : 'PCI-MSI') : h.chip_name;
  return [top, ...(remapped ? ['INTEL-IR-0'] : []), 'VECTOR'];
}

/** irq_matrix_reserve: a global reservation never fails; past what is free it only warns. */
function reserveVector(e: Engine): void {
  const h = e.state.host;
  const total = h.cpus * (LAST_DYNAMIC_VECTOR - FIRST_DYNAMIC_VECTOR + 1);
  const taken = Object.values(h.irqs).length;
  if (taken >= total)
    printk(
      e,
      'warn',
      'irq_matrix_reserve@kernel/irq/matrix.c',
      'Interrupt reservation exceeds available resources',
    );
}

/** Reservation mode (msi_check_reservation_mode): the source can be masked until the real vector comes. */
function canReserve(chip: Chip, dev: PciDeviceState): boolean {
  if (chip === 'PCI-MSIX' || chip === 'IMS') return true;
  if (chip === 'PCI-MSI') return dev.msi?.per_vector_mask === true;
  return false;
}

/** activate_reserved: the real vector for an interrupt that holds only a reservation (-ENOSPC when none). */
export function hostActivate(e: Engine, h: HostIrq): void {
  if (!h.reserved) return;
  let got: { vector: number; cpu: number };
  try {
    got = allocVector(e);
  } catch {
    return raise(
      'ENOSPC',
      `request_irq(${h.irq}): x86_vector_activate found no free vector (assign_irq_vector_any_locked: -ENOSPC); the enable only reserved one`,
    );
  }
  h.vector = got.vector;
  h.cpu = got.cpu;
  h.reserved = false;
  // intel_irq_remapping_activate -> intel_ir_reconfigure_irte: the IRTE takes the new vector and CPU
  if (h.irte !== null) intelIrReconfigureIrte(e, h.irte, got.vector, got.cpu);
  else if (h.chip !== 'IO-APIC') {
    h.msg_addr = compatAddress(got.cpu);
    h.msg_data = got.vector;
  }
}

/** x86_vector_deactivate: the vector goes back and a global reservation is made again. */
function deactivateVector(e: Engine, h: HostIrq): void {
  if (!h.can_reserve || h.reserved) return;
  h.reserved = true;
  h.vector = MANAGED_IRQ_SHUTDOWN_VECTOR;
  h.cpu = 0;
  if (h.irte !== null) intelIrReconfigureIrte(e, h.irte, MANAGED_IRQ_SHUTDOWN_VECTOR, 0);
  else if (h.chip !== 'IO-APIC') {
    h.msg_addr = compatAddress(0);
    h.msg_data = MANAGED_IRQ_SHUTDOWN_VECTOR;
  }
}

/** The legacy IRQ of an INTx pin is its GSI: the IOAPIC's PCI pins, 16..23 (no sharing modelled). */
function intxGsi(e: Engine): number {
  for (let gsi = FIRST_PCI_GSI; gsi <= LAST_PCI_GSI; gsi++) if (!e.state.host.irqs[gsi]) return gsi;
  return raise(
    'ENOSPC',
    `every IOAPIC PCI pin (GSI ${FIRST_PCI_GSI}..${LAST_PCI_GSI}) is in use: shared INTx lines are not modelled`,
  );
}

/**
 * Allocates a host interrupt for one hardware source and writes its message into the device's entry.
 * `irte` places it at a given remapping entry (a multi-vector MSI block: one handle, subhandle = vector).
 */
export function hostAllocIrq(
  e: Engine,
  chip: Chip,
  dev: PciDeviceState,
  hwirq: number,
  irte?: { index: number; msgIndex: number },
): HostIrq {
  const h = e.state.host;
  const reserve = canReserve(chip, dev);
  // assign_irq_vector_policy: a reservation only; an interrupt that cannot wait masked (INTx, MSI
  // without per-vector masking) is activated at once and takes its real vector here
  if (reserve) reserveVector(e);
  const { vector, cpu } = reserve ? { vector: MANAGED_IRQ_SHUTDOWN_VECTOR, cpu: 0 } : allocVector(e);
  // the IRQ number is taken once the remapping entry is (alloc_irte can fail: -ENOSPC, I.12)
  const irq = chip === 'IO-APIC' ? intxGsi(e) : h.next_irq;
  const remap = e.state.iommu.interrupt_remapping && chip !== 'IO-APIC';
  const hirq: HostIrq = {
    irq,
    chip: remap ? (chip === 'PCI-MSIX' ? 'IR-PCI-MSIX' : chip === 'PCI-MSI' ? 'IR-PCI-MSI' : chip) : chip,
    chip_name: chipName(e, chip, dev.bdf, e.state.iommu.interrupt_remapping),
    reserved: reserve,
    can_reserve: reserve,
    device: dev.name,
    hwirq,
    action: null,
    vector,
    cpu,
    irte: null,
    started: false,
    owner: null,
    owner_vector: -1,
    msg_addr: compatAddress(cpu),
    msg_data: vector,
    count: 0,
  };
  if (remap) {
    const entry = irteAlloc(e, irq, dev.bdf, vector, cpu, irte?.index);
    hirq.irte = entry.index;
    // fill_msi_msg: the block's handle with SHV; the device adds the vector as the subhandle
    hirq.msg_addr = remappableAddress(irte ? irte.msgIndex : entry.index);
    hirq.msg_data = 0;
  }
  if (chip !== 'IO-APIC') h.next_irq++;
  h.irqs[irq] = hirq;
  if (chip !== 'IO-APIC') writeMessage(dev, hirq, hirq.msg_addr, hirq.msg_data);
  return hirq;
}

function writeMessage(dev: PciDeviceState, h: HostIrq, addr: number, data: number): void {
  if (h.chip.endsWith('MSIX') && dev.msix) {
    const entry = dev.msix.table[h.hwirq];
    entry.addr_lo = addr;
    entry.addr_hi = 0;
    entry.data = data;
  } else if (h.chip.endsWith('MSI') && dev.msi) {
    // One message for the whole function; vector 0's IRQ writes it for the block.
    if (h.hwirq === 0) {
      dev.msi.address = addr;
      dev.msi.address_hi = 0;
      dev.msi.data = data;
    }
  } else if (h.chip === 'IMS' && dev.ims) {
    const entry = dev.ims.entries[h.hwirq];
    entry.address = addr;
    entry.address_hi = 0;
    entry.data = data;
  }
}

/** Masks or unmasks the source at its chip; an unmask sends what was pending (PBA, MSI, IMS pending). */
function chipSetMask(e: Engine, h: HostIrq, masked: boolean): void {
  const dev = e.state.devices[h.device];
  if (h.chip.endsWith('MSIX') && dev.msix) {
    // drivers/pci/msi/msi.c: pci_msix_mask / pci_msix_unmask write the entry's vector control
    dev.msix.table[h.hwirq].vector_ctrl = masked ? 1 : 0;
    if (!masked) msixUpdateMasks(e, dev);
  } else if (h.chip.endsWith('MSI') && dev.msi && dev.msi.per_vector_mask) {
    dev.msi.mask_bits = masked ? dev.msi.mask_bits | (1 << h.hwirq) : dev.msi.mask_bits & ~(1 << h.hwirq);
    if (!masked) msiUpdateMasks(e, dev);
  } else if (h.chip === 'IMS' && dev.ims) {
    dev.ims.entries[h.hwirq].masked = masked;
    if (!masked) imsUpdateMasks(e, dev);
  }
}

/** irq_domain_activate_irq: the IRTE present again and the cached message rewritten into the device. */
function activate(e: Engine, h: HostIrq): void {
  if (h.irte !== null) intelIrqRemappingActivate(e, h.irte, true);
  if (h.chip !== 'IO-APIC') writeMessage(e.state.devices[h.device], h, h.msg_addr, h.msg_data);
}

// kernel/irq/manage.c: request_irq -> __setup_irq -> irq_startup: activate, then unmask
export function hostRequestIrq(
  e: Engine,
  h: HostIrq,
  name: string,
  owner: string,
  ownerVector: number,
): void {
  hostActivate(e, h); // may fail with ENOSPC before anything changes
  h.action = name;
  h.owner = owner;
  h.owner_vector = ownerVector;
  h.started = true;
  activate(e, h);
  chipSetMask(e, h, false);
}

// kernel/irq/manage.c: free_irq -> irq_shutdown_and_deactivate when the last action goes
export function hostFreeIrq(e: Engine, h: HostIrq): void {
  h.action = null;
  h.owner = null;
  h.owner_vector = -1;
  h.started = false;
  chipSetMask(e, h, true);
  if (h.irte !== null) intelIrqRemappingActivate(e, h.irte, false);
  if (h.chip !== 'IO-APIC') writeMessage(e.state.devices[h.device], h, 0, 0);
  deactivateVector(e, h);
}

/** Frees the descriptor itself (pci_free_irq_vectors, pci_ims_free_irq): the IRTE goes too. */
export function hostFreeDesc(e: Engine, h: HostIrq): void {
  if (h.started) hostFreeIrq(e, h);
  if (h.irte !== null) irteFree(e, h.irte);
  if (h.chip !== 'IO-APIC') writeMessage(e.state.devices[h.device], h, 0, 0);
  delete e.state.host.irqs[h.irq];
}

/** The host IRQ of one vector (hwirq) of a device's chip, or undefined; allocates nothing. */
// The descriptor lookups live in irqdesc.ts (the hardware's INTx line reaches its descriptor too).
export { hostIrqOf, hostIrqsOf } from './irqdesc.ts';

const noHandler = (): string => 'no handler: IRQ freed while the message was in flight';

/** An interrupt reaches its host IRQ (after remapping): a = host IRQ number. */
on('host.irq', (e, irq, hostIrq) => {
  const h = e.state.host.irqs[hostIrq];
  if (!h || !h.started || h.owner === null) {
    // arch/x86/kernel/irq.c: common_interrupt finds no descriptor for the vector ("No irq handler")
    printk(
      e,
      'emerg',
      'common_interrupt@arch/x86/kernel/irq.c',
      `${h ? h.cpu : 0}.${h ? hex(h.vector) : '?'} No irq handler for vector (pr_emerg_ratelimited)`,
    );
    e.hopf(H_NO_HANDLER, irq, e.ids.hostirq, e.ids.hostirq, OUT.dropped, F_NO_HANDLER, hostIrq, 0, 0);
    e.dropped(irq, e.place(P_NO_HANDLER, 0, 0, noHandler));
    return;
  }
  h.count++;
  if (h.chip === 'IO-APIC') {
    e.hop(
      'host.intx',
      irq,
      'hostirq',
      `vfio:${h.owner}`,
      'forwarded',
      `IRQ ${h.irq} (IO-APIC INTx of ${h.device}): ${h.action}`,
    );
    e.schedule(e.cost.host_irq, EV['vfio.intxhandler'], irq, h.irq);
    return;
  }
  e.hopf(
    H_HOST_IRQ,
    irq,
    e.ids.hostirq,
    e.nodeId(N_VFIO, e.deviceOrdinal(h.owner)),
    OUT.forwarded,
    F_HOST_IRQ,
    h.irq,
    h.vector,
    h.hwirq,
  );
  e.schedule(e.cost.host_irq, EV['vfio.msihandler'], irq, h.irq);
});
