// The host's interrupt descriptors by device and hardware IRQ (kernel/irq/irqdesc.c: irq_to_desc, and
// the MSI domain's per-device lookup msi_get_virq in kernel/irq/msi.c): plain reads of the state, below
// everything that allocates or fires them, so the INTx pin model (hw/pci/intx.ts) reaches its line's
// descriptor without importing the IRQ layer that calls down into the device.

import type { Engine } from '../../../engine.ts';
import type { HostIrq } from '../../../types.ts';

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
