// The cost model as the page shows it: each number of src/engine/cost.ts, the hop it delays and the
// engine file that charges it. The defaults are orders of magnitude (cost.ts says so), a knob of the
// scenario (options.cost), not a measurement of a machine; the side-by-side view lets the user edit them.

import { DEFAULT_COST, type CostModel } from '../../engine/index.ts';

export interface CostDoc {
  key: keyof CostModel;
  /** The virtual time between which hops it is (the engine schedules the next hop this far ahead). */
  charged: string;
  /** The engine file that schedules with it. */
  where: string;
}

/** One row per cost, in the order an interrupt meets them. Read from the engine's `e.cost.*` uses. */
export const COST_DOCS: readonly CostDoc[] = [
  {
    key: 'msi_write',
    charged: 'device raises → MSI/MSI-X/IMS write reaches the IOMMU',
    where: 'src/engine/hw/pci/device.ts, hw/pci/msi.ts, hw/ims.ts, hw/pci/intx.ts',
  },
  {
    key: 'iommu',
    charged: 'IRTE lookup → host IRQ (remapped or compatibility format)',
    where: 'src/engine/linux/drivers/iommu/intel/irq_remapping.ts',
  },
  {
    key: 'posted',
    charged: 'posted IRTE → PIR bit set, and PIR → notification',
    where: 'src/engine/linux/drivers/iommu/intel/irq_remapping.ts, linux/arch/x86/kvm/vmx/posted_intr.ts',
  },
  {
    key: 'lapic',
    charged: 'posted notification → vIRR (no VM exit)',
    where: 'src/engine/linux/arch/x86/kvm/vmx/posted_intr.ts',
  },
  {
    key: 'wakeup',
    charged: 'wake-up vector → halted vCPU runs (pi_wakeup_handler)',
    where: 'src/engine/linux/arch/x86/kvm/vmx/posted_intr.ts',
  },
  {
    key: 'host_irq',
    charged: 'genirq flow handler → vfio_msihandler / vfio_intx_handler',
    where: 'src/engine/linux/kernel/irq/genirq.ts',
  },
  {
    key: 'vfio_handler',
    charged: 'VFIO handler → eventfd_signal',
    where: 'src/engine/linux/drivers/vfio/pci/vfio_pci_intrs_handlers.ts',
  },
  {
    key: 'eventfd',
    charged: 'eventfd_signal → irqfd_wakeup → LAPIC IRR',
    where: 'src/engine/linux/fs/eventfd.ts, linux/virt/kvm/eventfd.ts',
  },
  {
    key: 'irqfd',
    charged: 'no hop charges it today (irqfd_wakeup is inside eventfd)',
    where: 'src/engine/cost.ts only',
  },
  {
    key: 'vm_entry',
    charged: 'IRR set or vCPU woken → vCPU accepts (IRR to ISR)',
    where:
      'src/engine/linux/arch/x86/kvm/lapic.ts, linux/arch/x86/kvm/vcpu.ts, linux/arch/x86/kvm/vmx/posted_intr.ts',
  },
  {
    key: 'eoi',
    charged: 'guest accepts → EOI (apic_ack_edge before the handler)',
    where: 'src/engine/linux/arch/x86/kvm/lapic.ts',
  },
  {
    key: 'guest_handler',
    charged: 'EOI → guest handler done',
    where: 'src/engine/linux/arch/x86/kvm/lapic.ts',
  },
  {
    key: 'vm_exit',
    charged: 'guest MMIO write → EPT-misconfig exit (with qemu)',
    where: 'src/engine/guest/driver.ts',
  },
  {
    key: 'qemu',
    charged: 'QEMU handles the exit or reads the eventfd (vfio_msi_interrupt)',
    where: 'src/engine/guest/driver.ts, linux/fs/eventfd.ts',
  },
  {
    key: 'emulate',
    charged: 'variant driver emulates the register (vidxd_do_command)',
    where: 'src/engine/linux/drivers/dma/idxd/vdev.ts',
  },
  {
    key: 'device_work',
    charged: 'work submitted to the portal → completion fires the IMS entry',
    where: 'src/engine/linux/drivers/dma/idxd/vdev.ts',
  },
];

/** Edits that differ from the defaults: what goes into a scenario's options.cost. */
export function costOverrides(edited: Partial<CostModel>): Partial<CostModel> {
  const out: Partial<CostModel> = {};
  for (const [k, v] of Object.entries(edited) as [keyof CostModel, number][])
    if (Number.isFinite(v) && v !== DEFAULT_COST[k]) out[k] = v;
  return out;
}
