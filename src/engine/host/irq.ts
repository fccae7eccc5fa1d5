// The host IRQ layer: interrupts allocated for MSI-X, MSI, IMS entries and INTx lines, their handlers
// (request_irq / free_irq) and the flow handler that runs them.
//   allocate  msi_domain_alloc_irqs: a host vector (irq_matrix_alloc never hands out one in use), an
//             IRTE with remapping, and the message written to the device's entry, which stays masked;
//   request   request_irq -> irq_startup: activate (IRTE present, cached message rewritten) and unmask
//             at the chip, which sends what the device held pending;
//   free      free_irq -> irq_shutdown_and_deactivate (kernel/irq/chip.c): mask at the chip, then
//             msi_domain_deactivate writes an all-zero message and intel_irq_remapping_deactivate
//             clears the IRTE, so a message already in flight faults instead of reaching a handler.

import { defineEvent, placeSite, type Engine } from '../engine.ts';
import type { HostIrq, PciDeviceState } from '../types.ts';
import { irteAlloc, irteFree } from '../iommu/remap.ts';
import { compatAddress, hex, remappableAddress } from '../iommu/msg.ts';
import { msixUpdateMasks } from '../pci/device.ts';
import { msiUpdateMasks } from '../pci/msi.ts';
import { imsUpdateMasks } from '../ims/ims.ts';
import { EV_VFIO_MSI, EV_VFIO_INTX } from '../vfio/handlers.ts';
import { HOP } from '../hops.ts';
import { defineDetail, OUT } from '../sim/trace.ts';
import { raise } from '../errno.ts';

/** Dynamically allocated host vectors (arch/x86/include/asm/irq_vectors.h: after the ISA range). */
const FIRST_DYNAMIC_VECTOR = 0x22;
const LAST_DYNAMIC_VECTOR = 0xeb;

type Chip = 'PCI-MSIX' | 'PCI-MSI' | 'IO-APIC' | 'IMS';

/**
 * A host vector and CPU, as the x86 vector matrix allocator picks them (kernel/irq/matrix.c:
 * irq_matrix_alloc): the CPU with the fewest vectors in use, then its lowest free vector. It never hands
 * out a vector in use; ENOSPC when every CPU is full.
 */
function allocVector(e: Engine): { vector: number; cpu: number } {
  const h = e.state.host;
  const used = Array.from({ length: h.cpus }, () => new Set<number>());
  for (const x of Object.values(h.irqs)) used[x.cpu]?.add(x.vector);
  let cpu = 0;
  for (let c = 1; c < h.cpus; c++) if (used[c].size < used[cpu].size) cpu = c;
  for (let v = FIRST_DYNAMIC_VECTOR; v <= LAST_DYNAMIC_VECTOR; v++)
    if (!used[cpu].has(v)) return { vector: v, cpu };
  return raise('ENOSPC', `no free host vector on any of the ${h.cpus} host CPUs (irq_matrix_alloc: -ENOSPC)`);
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
  const { vector, cpu } = allocVector(e);
  const irq = h.next_irq++;
  const remap = e.state.iommu.interrupt_remapping && chip !== 'IO-APIC';
  const hirq: HostIrq = {
    irq,
    chip: remap ? (chip === 'PCI-MSIX' ? 'IR-PCI-MSIX' : chip === 'PCI-MSI' ? 'IR-PCI-MSI' : chip) : chip,
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
  if (h.irte !== null) {
    const irte = e.state.iommu.irte[h.irte];
    if (irte) irte.present = true;
  }
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
  if (h.irte !== null) {
    const irte = e.state.iommu.irte[h.irte];
    if (irte) irte.present = false;
  }
  if (h.chip !== 'IO-APIC') writeMessage(e.state.devices[h.device], h, 0, 0);
}

/** Frees the descriptor itself (pci_free_irq_vectors, pci_ims_free_irq): the IRTE goes too. */
export function hostFreeDesc(e: Engine, h: HostIrq): void {
  if (h.started) hostFreeIrq(e, h);
  if (h.irte !== null) irteFree(e, h.irte);
  if (h.chip !== 'IO-APIC') writeMessage(e.state.devices[h.device], h, 0, 0);
  delete e.state.host.irqs[h.irq];
}

/** The host IRQ of one vector (hwirq) of a device's chip, or undefined; allocates nothing. */
export function hostIrqOf(e: Engine, device: string, chipSuffix: string, hwirq: number): HostIrq | undefined {
  const irqs = e.state.host.irqs;
  for (const k in irqs) {
    const h = irqs[k];
    if (h.hwirq === hwirq && h.device === device && h.chip.endsWith(chipSuffix)) return h;
  }
  return undefined;
}

export function hostIrqsOf(e: Engine, device: string, chipSuffix: string): HostIrq[] {
  return Object.values(e.state.host.irqs).filter((h) => h.device === device && h.chip.endsWith(chipSuffix));
}

const H_HOST_IRQ = HOP['host.irq'];
const H_NO_HANDLER = HOP['host.no_handler'];
const F_HOST_IRQ = defineDetail(
  (irq, vector, hwirq) => `IRQ ${irq}, host vector ${hex(vector)} (hwirq ${hwirq}): handler runs`,
);
const F_NO_HANDLER = defineDetail(
  (irq) => `IRQ ${irq} was freed while the message was in flight: no handler for its vector`,
);
const P_NO_HANDLER = placeSite();
const noHandler = (): string => 'no handler: IRQ freed while the message was in flight';

/** An interrupt reaches its host IRQ (after remapping): a = host IRQ number. */
export const EV_HOST_IRQ = defineEvent('host.irq', (e, irq, hostIrq) => {
  const h = e.state.host.irqs[hostIrq];
  if (!h || !h.started || h.owner === null) {
    // arch/x86/kernel/irq.c: common_interrupt finds no descriptor for the vector ("No irq handler")
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
    e.schedule(e.cost.host_irq, EV_VFIO_INTX, irq, h.irq);
    return;
  }
  e.hopf(
    H_HOST_IRQ,
    irq,
    e.ids.hostirq,
    e.node('vfio', e.deviceOrdinal(h.owner)),
    OUT.forwarded,
    F_HOST_IRQ,
    h.irq,
    h.vector,
    h.hwirq,
  );
  e.schedule(e.cost.host_irq, EV_VFIO_MSI, irq, h.irq);
});
