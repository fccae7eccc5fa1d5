// MSI of a PCI function (PCIe Base Spec 6.1.1): one address, one data; multiple vectors differ in the low
// bits of data; optional per-vector mask and pending bits.
import type { Engine } from '../../engine.ts';
import type { MsiState, MsiTopology, PciDeviceState } from '../../types.ts';
import { EV_MSG } from '../../linux/drivers/iommu/intel/irq_remapping.ts';
import { hex } from '../../linux/arch/x86/kernel/apic/msi.ts';
import { busMasterDrop } from './busmaster.ts';

export const PCI_CAP_ID_MSI = 0x05;

export function msiCreate(t: MsiTopology): MsiState {
  return {
    cap: t.cap ?? 0x50,
    mmc: t.vectors,
    mme: 1,
    enable: false,
    addr64: t.addr64 ?? true,
    per_vector_mask: t.per_vector_mask ?? false,
    address: 0,
    address_hi: 0,
    data: 0,
    mask_bits: 0,
    pending_bits: 0,
    pending_irq: new Array<number>(32).fill(0),
  };
}

/** Message Control: enable bit 0, MMC bits 3:1 (log2), MME bits 6:4, 64-bit bit 7, per-vector mask bit 8. */
export function msiMessageControl(m: MsiState): number {
  return (
    (m.enable ? 1 : 0) |
    (Math.log2(m.mmc) << 1) |
    (Math.log2(m.mme) << 4) |
    (m.addr64 ? 0x80 : 0) |
    (m.per_vector_mask ? 0x100 : 0)
  );
}

export function msiVectorMasked(m: MsiState, vector: number): boolean {
  return m.per_vector_mask && (m.mask_bits & (1 << vector)) !== 0;
}

/** Vector n of a multi-message MSI replaces the low log2(MME) bits of data with n. */
export function msiMessage(m: MsiState, vector: number): { addr_lo: number; data: number } {
  const low = m.mme - 1;
  return { addr_lo: m.address, data: ((m.data & ~low) | (vector & low)) >>> 0 };
}

/** A vector unmasked with its pending bit set sends its message once (PCIe Base Spec 6.1.1.2). */
export function msiUpdateMasks(e: Engine, dev: PciDeviceState): void {
  const m = dev.msi;
  if (!m || !m.enable) return;
  for (let v = 0; v < m.mme; v++) {
    if (!(m.pending_bits & (1 << v)) || msiVectorMasked(m, v)) continue;
    const irq = m.pending_irq[v];
    m.pending_bits &= ~(1 << v);
    m.pending_irq[v] = 0;
    e.inFlight(irq);
    if (busMasterDrop(e, dev, irq, `msi:${dev.name}`, 'msi.send')) continue;
    const msg = msiMessage(m, v);
    e.hop(
      'msi.send',
      irq,
      `msi:${dev.name}`,
      'iommu',
      'forwarded',
      `vector ${v} unmasked with its pending bit set: write ${hex(msg.data)} to ${hex(msg.addr_lo)}`,
    );
    e.schedule(e.cost.msi_write, EV_MSG, irq, msg.addr_lo | 0, msg.data | 0);
  }
}
