// An MSI or MSI-X message is a memory write the function issues as a bus master: with Bus Master Enable
// clear (command register bit 2) it may not issue it (PCIe Base Spec 7.5.1.1.3), and QEMU drops the
// write on the disabled bus-master address space (hw/pci/pci.c: pci_msi_trigger -> dma_memory_write on
// bus_master_as). Nothing is latched: the interrupt is lost, not pending.
import type { Engine } from '../../engine.ts';
import type { PciDeviceState } from '../../types.ts';

const PCI_COMMAND_MASTER = 1 << 2;

/** True, with the drop recorded, when `dev` may not send `irq`'s message. */
export function busMasterDrop(
  e: Engine,
  dev: PciDeviceState,
  irq: number,
  from: string,
  hop: 'msix.send' | 'msi.send' | 'ims.send' = 'msix.send',
): boolean {
  if (dev.command & PCI_COMMAND_MASTER) return false;
  e.hop(
    hop,
    irq,
    from,
    'iommu',
    'dropped',
    `Bus Master Enable is clear in ${dev.name}'s command register: the message write is not issued`,
  );
  e.dropped(irq, 'Bus Master disabled: message write not issued');
  return true;
}
