// A BAR through the VFIO device fd (drivers/vfio/pci/vfio_pci_rdwr.c: vfio_pci_bar_rw): in the BAR that
// holds the MSI-X table, the table itself reads as all ones and drops writes (only VFIO_DEVICE_SET_IRQS
// programs it), Memory Space or not; the rest reaches the device, refused with EIO while Memory Space is
// off.

import type { Engine } from '../../../../engine.ts';
import type { VfioTarget } from '../device.ts';
import { raise, raiseTool } from '../../../../errno.ts';
import { hex } from '../../../arch/x86/kernel/apic/msi.ts';
import { memoryEnabled } from './vfio_pci_config.ts';
import { e1000eRead, e1000eWrite } from '../../../../qemu/hw/net/e1000e_core.ts';

function access(t: VfioTarget, bar: number, off: number): 'table' | 'pba' | 'regs' {
  const dev = t.hw;
  if (t.vdev)
    raiseTool(
      'EINVAL',
      `${t.vfio.device} is a virtual device: its BAR0 is emulated by its driver (guest.mmioWrite)`,
      'device',
    );
  if (off % 4 !== 0)
    raiseTool('EINVAL', `offset ${hex(off)}: irqflow models 32-bit aligned BAR accesses`, 'offset');
  const m = dev.msix;
  // the excluded range is filled and dropped before any device access: no Memory Space check there
  if (m && bar === m.table_bir && off >= m.table_offset && off < m.table_offset + m.table_size * 16)
    return 'table';
  // vfio_pci_iordwr*: "if (!__vfio_pci_memory_enabled(vdev)) return -EIO" for what reaches the device
  if (!memoryEnabled(dev))
    raise('EIO', `Memory Space is off in ${dev.name}'s command register: BAR access refused`, 'bar');
  if (m && bar === m.pba_bir && off >= m.pba_offset && off < m.pba_offset + Math.ceil(m.table_size / 64) * 8)
    return 'pba';
  if (bar === 0 && dev.e1000e) return 'regs';
  const modelled = (m && (bar === m.table_bir || bar === m.pba_bir)) || (bar === 0 && dev.e1000e);
  return raiseTool(
    'EINVAL',
    `BAR ${bar} offset ${hex(off)} of ${dev.name} is not modelled: irqflow has the MSI-X table and PBA${dev.e1000e ? " and e1000e's interrupt registers in BAR0" : ''}`,
    modelled ? 'offset' : 'bar',
  );
}

/** A 32-bit pread of BAR `bar` at `off`; returns the value. */
export function vfioBarRead(e: Engine, t: VfioTarget, bar: number, off: number): number {
  const where = access(t, bar, off);
  const dev = t.hw;
  if (where === 'table') return 0xffffffff; // vfio_pci_core_do_io_rw: the excluded range reads as 0xff
  if (where === 'pba') {
    const m = dev.msix!;
    const first = ((off - m.pba_offset) / 4) * 32;
    let v = 0;
    for (let i = 0; i < 32 && first + i < m.table_size; i++) if (m.pba[first + i]) v |= 1 << i;
    return v >>> 0;
  }
  return e1000eRead(e, dev, off);
}

/** A 32-bit pwrite of BAR `bar` at `off`. */
export function vfioBarWrite(e: Engine, t: VfioTarget, bar: number, off: number, value: number): void {
  const where = access(t, bar, off);
  if (where === 'table') return; // dropped: the table is the kernel's (vfio_pci_core_do_io_rw, x_start..x_end)
  if (where === 'pba') return; // the PBA is read-only (PCIe Base Spec 7.7.2.5)
  e1000eWrite(e, t.hw, off, value);
}
