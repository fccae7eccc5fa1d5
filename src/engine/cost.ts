// The cost model: virtual nanoseconds each hop takes. Orders of magnitude from published measurements
// (an MSI write and remapping lookup are sub-microsecond; a VM exit to QEMU and back is tens of
// microseconds); the figures are a knob of the scenario (options.cost), not a claim about a machine.
export interface CostModel {
  msi_write: number;
  iommu: number;
  host_irq: number;
  vfio_handler: number;
  eventfd: number;
  irqfd: number;
  lapic: number;
  vm_entry: number;
  guest_handler: number;
  eoi: number;
  posted: number;
  wakeup: number;
  vm_exit: number;
  qemu: number;
  emulate: number;
  device_work: number;
}

export const DEFAULT_COST: CostModel = {
  msi_write: 200,
  iommu: 100,
  host_irq: 400,
  vfio_handler: 200,
  eventfd: 150,
  irqfd: 300,
  lapic: 100,
  vm_entry: 800,
  guest_handler: 1500,
  eoi: 300,
  posted: 150,
  wakeup: 2000,
  vm_exit: 1200,
  qemu: 8000,
  emulate: 4000,
  device_work: 5000,
};
