// The host IRQ layer: interrupts allocated for MSI-X, MSI, IMS entries and INTx lines, their handlers
// (request_irq / free_irq) and the flow handler that runs them. Requesting an interrupt starts it, which
// unmasks it at its chip (the device's MSI-X entry, IMS entry); freeing the last handler shuts it down
// and masks it again (kernel/irq/chip.c: irq_startup, irq_shutdown; kernel/irq/manage.c).

import { defineEvent, type Engine } from '../engine.ts';
import type { HostIrq, PciDeviceState } from '../types.ts';
import { irteAlloc, irteFree } from '../iommu/remap.ts';
import { compatAddress, hex, remappableAddress } from '../iommu/msg.ts';
import { msixUpdateMasks } from '../pci/device.ts';
import { imsUpdateMasks } from '../ims/ims.ts';
import { EV_VFIO_MSI, EV_VFIO_INTX } from '../vfio/handlers.ts';
import { HOP } from '../hops.ts';
import { defineDetail, OUT } from '../sim/trace.ts';

/** First dynamically allocated host vector (arch/x86/include/asm/irq_vectors.h: after the ISA range). */
const FIRST_DYNAMIC_VECTOR = 0x22;
const LAST_DYNAMIC_VECTOR = 0xeb;

type Chip = HostIrq['chip'];

/**
 * Allocates a host interrupt for one hardware source and writes its message into the device's entry,
 * which stays masked until a handler is requested (msi_domain_alloc_irqs, then msi_domain_activate
 * writing the message with __pci_write_msi_msg; with remapping the message is the IRTE handle).
 */
export function hostAllocIrq(e: Engine, chip: Chip, dev: PciDeviceState, hwirq: number): HostIrq {
  const h = e.state.host;
  const irq = h.next_irq++;
  const vector = h.next_vector;
  h.next_vector = vector >= LAST_DYNAMIC_VECTOR ? FIRST_DYNAMIC_VECTOR : vector + 1;
  const remap = e.state.iommu.interrupt_remapping && chip !== 'IO-APIC';
  const hirq: HostIrq = {
    irq,
    chip: remap ? (chip === 'PCI-MSIX' ? 'IR-PCI-MSIX' : chip === 'PCI-MSI' ? 'IR-PCI-MSI' : chip) : chip,
    device: dev.name,
    hwirq,
    action: null,
    vector,
    cpu: 0,
    irte: null,
    started: false,
    owner: null,
    owner_vector: -1,
    pending_irq: 0,
    count: 0,
  };
  let addr = compatAddress(0);
  let data = vector;
  if (remap) {
    const irte = irteAlloc(e, irq, dev.bdf, vector, 0);
    hirq.irte = irte.index;
    addr = remappableAddress(irte.index);
    data = 0;
  }
  h.irqs[irq] = hirq;
  writeMessage(dev, hirq, addr, data);
  return hirq;
}

function writeMessage(dev: PciDeviceState, h: HostIrq, addr: number, data: number): void {
  if (h.chip.endsWith('MSIX') && dev.msix) {
    const entry = dev.msix.table[h.hwirq];
    entry.addr_lo = addr;
    entry.addr_hi = 0;
    entry.data = data;
  } else if (h.chip.endsWith('MSI') && dev.msi) {
    dev.msi.address = addr;
    dev.msi.address_hi = 0;
    dev.msi.data = data;
  } else if (h.chip === 'IMS' && dev.ims) {
    const entry = dev.ims.entries[h.hwirq];
    entry.address = addr;
    entry.address_hi = 0;
    entry.data = data;
  }
}

/** Masks or unmasks the source at its chip; an unmask sends what was pending (PBA, IMS pending). */
function chipSetMask(e: Engine, h: HostIrq, masked: boolean): void {
  const dev = e.state.devices[h.device];
  if (h.chip.endsWith('MSIX') && dev.msix) {
    // drivers/pci/msi/msi.c: pci_msix_mask / pci_msix_unmask write the entry's vector control
    dev.msix.table[h.hwirq].vector_ctrl = masked ? 1 : 0;
    if (!masked) msixUpdateMasks(e, dev);
  } else if (h.chip.endsWith('MSI') && dev.msi && dev.msi.per_vector_mask) {
    dev.msi.mask_bits = masked ? dev.msi.mask_bits | (1 << h.hwirq) : dev.msi.mask_bits & ~(1 << h.hwirq);
  } else if (h.chip === 'IMS' && dev.ims) {
    dev.ims.entries[h.hwirq].masked = masked;
    if (!masked) imsUpdateMasks(e, dev);
  }
}

// kernel/irq/manage.c: request_irq -> __setup_irq -> irq_startup (unmask)
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
  chipSetMask(e, h, false);
  // kernel/irq/resend.c: check_irq_resend: an interrupt that arrived while disabled is replayed
  if (h.pending_irq) {
    const irq = h.pending_irq;
    h.pending_irq = 0;
    e.inFlight(irq);
    e.hop(
      'host.irq',
      irq,
      'hostirq',
      `vfio:${owner}`,
      'forwarded',
      `IRQ ${h.irq} started with IRQS_PENDING: resent`,
    );
    e.schedule(e.cost.host_irq, h.chip === 'IO-APIC' ? EV_VFIO_INTX : EV_VFIO_MSI, irq, h.irq);
  }
}

// kernel/irq/manage.c: free_irq -> irq_shutdown (mask) when the last action goes
export function hostFreeIrq(e: Engine, h: HostIrq): void {
  h.action = null;
  h.owner = null;
  h.owner_vector = -1;
  h.started = false;
  chipSetMask(e, h, true);
}

/** Frees the descriptor itself (pci_free_irq_vectors, pci_ims_free_irq): the IRTE goes too. */
export function hostFreeDesc(e: Engine, h: HostIrq): void {
  if (h.started) hostFreeIrq(e, h);
  if (h.irte !== null) irteFree(e, h.irte);
  const dev = e.state.devices[h.device];
  writeMessage(dev, h, 0, 0);
  delete e.state.host.irqs[h.irq];
}

export function hostIrqsOf(e: Engine, device: string, chipSuffix: string): HostIrq[] {
  return Object.values(e.state.host.irqs).filter((h) => h.device === device && h.chip.endsWith(chipSuffix));
}

/** An interrupt reaches its host IRQ (after remapping): a = host IRQ number. */
export const EV_HOST_IRQ = defineEvent('host.irq', (e, irq, hostIrq) => {
  const h = e.state.host.irqs[hostIrq];
  if (!h) {
    e.hop('host.irq', irq, 'hostirq', 'hostirq', 'dropped', `IRQ ${hostIrq} was freed: spurious vector`);
    e.dropped(irq, 'host IRQ freed');
    return;
  }
  if (!h.started || h.owner === null) {
    // kernel/irq/chip.c: handle_edge_irq on a disabled line masks it and marks IRQS_PENDING
    if (h.pending_irq) {
      e.hop(
        'host.masked',
        irq,
        'hostirq',
        'hostirq',
        'coalesced',
        `IRQ ${h.irq} disabled, IRQS_PENDING already set`,
      );
      e.coalesced(irq, h.pending_irq, `host IRQ ${h.irq} IRQS_PENDING`);
    } else {
      h.pending_irq = irq;
      e.hop('host.masked', irq, 'hostirq', 'hostirq', 'pending', `IRQ ${h.irq} has no handler: IRQS_PENDING`);
      e.pending(irq, `host IRQ ${h.irq} IRQS_PENDING`);
    }
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

const H_HOST_IRQ = HOP['host.irq'];
const F_HOST_IRQ = defineDetail(
  (irq, vector, hwirq) => `IRQ ${irq}, host vector ${hex(vector)} (hwirq ${hwirq}): handler runs`,
);
