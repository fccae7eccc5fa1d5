// The hop table: one definition per hop, with the function that performs it in real life and its source
// file. Hops through the VFIO front end differ between the designs (the merged code and the four IMS /
// interrupt-context generations, src/engine/linux/drivers/vfio/pci/designs.ts); the names are data (`by` here, the tables
// in designs.ts), and the few rules in which the designs behave differently are DesignRules.

import type { DesignGeneration, KernelProfile } from './types.ts';

export interface HopDef {
  key: string;
  /** Caption shown in the page. */
  label: string;
  /** `function@file` in the kernel (or QEMU); `hw: what@specification` for a step the hardware performs. */
  fn: string;
  /** Per-design overrides of fn, for hops inside the VFIO front end and its backends. */
  by?: Partial<Record<DesignGeneration, string>>;
  /** Per-kernel names where a release renamed or inlined the function (the profile picks). */
  release?: Partial<Record<KernelProfile, string>>;
}

const VFIO_INTRS = 'drivers/vfio/pci/vfio_pci_intrs.c';
const VFIO_IMS_V1 = 'drivers/vfio/pci/vfio_pci_ims.c';
const KVM_EVENTFD = 'virt/kvm/eventfd.c';
const LAPIC = 'arch/x86/kvm/lapic.c';
const PI = 'arch/x86/kvm/vmx/posted_intr.c';
const IR = 'drivers/iommu/intel/irq_remapping.c';
const QEMU_VFIO = 'hw/vfio/pci.c';
const QEMU_MSIX = 'hw/pci/msix.c';

export const HOPS: readonly HopDef[] = [
  // ---- hardware
  { key: 'dev.raise', label: 'device raises a vector', fn: 'hw: device event@PCIe function' },
  {
    key: 'msix.pending',
    label: 'masked: PBA bit set',
    fn: 'hw: PBA bit set@PCIe Base Spec 6.1.4.5',
  },
  {
    key: 'msix.send',
    label: 'MSI-X message write',
    fn: 'hw: MSI-X write@PCIe Base Spec 6.1.4',
  },
  {
    key: 'msi.send',
    label: 'MSI message write',
    fn: 'hw: MSI write@PCIe Base Spec 6.1.1',
  },
  {
    key: 'ims.pending',
    label: 'masked: IMS pending set',
    fn: 'hw: IMS pending bit@Intel Scalable IOV spec 3.2',
  },
  {
    key: 'ims.send',
    label: 'IMS message write',
    fn: 'hw: IMS write@Intel Scalable IOV spec 3.2',
  },
  { key: 'intx.assert', label: 'INTx asserted', fn: 'hw: INTx pin@PCI Local Bus Spec 2.2.6' },
  // ---- IOMMU
  {
    key: 'ir.remap',
    label: 'IRTE lookup: remapped',
    fn: 'hw: IRTE lookup (modify_irte wrote it)@' + IR,
  },
  { key: 'ir.fault', label: 'remapping fault', fn: 'dmar_fault@drivers/iommu/intel/dmar.c' },
  {
    key: 'ir.compat',
    label: 'compatibility-format message',
    fn: 'x86 MSI compatibility format@arch/x86/kernel/apic/msi.c',
  },
  {
    key: 'ir.post',
    label: 'IRTE posted: PIR bit set',
    fn: 'hw: posted IRTE (intel_ir_set_vcpu_affinity)@' + IR,
  },
  // ---- posted interrupts
  {
    key: 'pi.notify',
    label: 'notification vector: PIR to vIRR, no VM exit',
    fn: 'hw: PIR to vIRR, no VM exit@Intel SDM vol. 3 30.6',
  },
  { key: 'pi.wakeup', label: 'wake-up vector wakes the halted vCPU', fn: 'pi_wakeup_handler@' + PI },
  {
    key: 'pi.post',
    label: 'PIR bit set in the posted-interrupt descriptor',
    fn: 'hw: PIR bit, ON, notify@Intel VT-d spec 9.12',
  },
  { key: 'pi.sync', label: 'vCPU entry: PIR moved to IRR', fn: 'vmx_sync_pir_to_irr@arch/x86/kvm/vmx/vmx.c' },
  // ---- host IRQ layer
  { key: 'host.irq', label: 'host IRQ flow handler', fn: 'handle_edge_irq@kernel/irq/chip.c' },
  {
    key: 'host.no_handler',
    label: 'no handler for the vector: dropped',
    fn: 'common_interrupt@arch/x86/kernel/irq.c',
  },
  { key: 'host.intx', label: 'host INTx line', fn: 'handle_fasteoi_irq@kernel/irq/chip.c' },
  // ---- VFIO front end and backends
  {
    key: 'vfio.msihandler',
    label: 'VFIO MSI/MSI-X handler signals the trigger',
    fn: 'vfio_msihandler@' + VFIO_INTRS,
  },
  {
    key: 'vfio.imshandler',
    label: 'VFIO handler of an IMS-backed vector',
    fn: 'vfio_msihandler@' + VFIO_INTRS,
    by: { 'rfc-v1': 'vfio_pci_ims_irq_handler@' + VFIO_IMS_V1 },
  },
  {
    key: 'vfio.intxhandler',
    label: 'VFIO INTx handler: automask, signal',
    fn: 'vfio_intx_handler@' + VFIO_INTRS,
  },
  {
    key: 'vfio.send_signal',
    label: 'emulated vector signalled by the virtual device driver',
    fn: 'vfio_pci_send_signal@' + VFIO_INTRS,
    by: { 'rfc-v1': 'vfio_pci_ims_send_signal@' + VFIO_IMS_V1 },
  },
  {
    key: 'vfio.no_trigger',
    label: 'no trigger eventfd: dropped',
    fn: 'vfio_send_intx_eventfd@' + VFIO_INTRS,
  },
  // ---- eventfd, KVM
  {
    key: 'eventfd.signal',
    label: 'eventfd signalled',
    fn: 'eventfd_signal@fs/eventfd.c',
    // 6.8 (3652117f8548, "eventfd: simplify eventfd_signal()"): an inline over eventfd_signal_mask
    release: { '6.12': 'eventfd_signal (inline: eventfd_signal_mask)@include/linux/eventfd.h' },
  },
  { key: 'eventfd.count', label: 'no irqfd: counted for a reader', fn: 'eventfd_signal_mask@fs/eventfd.c' },
  { key: 'eventfd.read', label: 'user space reads the counter', fn: 'eventfd_read@fs/eventfd.c' },
  {
    key: 'irqfd.wakeup',
    label: 'irqfd wake-up: inject through the MSI route',
    fn: 'irqfd_wakeup@' + KVM_EVENTFD,
  },
  { key: 'kvm.set_irr', label: 'LAPIC IRR set', fn: '__apic_accept_irq@' + LAPIC },
  { key: 'kvm.coalesced', label: 'IRR already set: coalesced', fn: '__apic_accept_irq@' + LAPIC },
  { key: 'kvm.kick', label: 'vCPU kicked to take the interrupt', fn: 'kvm_vcpu_kick@virt/kvm/kvm_main.c' },
  // kvm_cpu_get_interrupt -> kvm_get_apic_interrupt on 6.1 and 6.12; the IRR-to-ISR part became
  // kvm_apic_ack_interrupt for 6.13 (lore 20240906043413.1049633-2-seanjc@google.com)
  { key: 'lapic.accept', label: 'vCPU accepts: IRR to ISR', fn: 'kvm_get_apic_interrupt@' + LAPIC },
  { key: 'guest.handler', label: 'guest interrupt handler', fn: 'handle_edge_irq (guest)@kernel/irq/chip.c' },
  { key: 'lapic.eoi', label: 'guest EOI (apic_ack_edge): ISR cleared', fn: 'apic_set_eoi@' + LAPIC },
  { key: 'kvm.set_lapic', label: 'KVM_SET_LAPIC', fn: 'kvm_apic_set_state@' + LAPIC },
  { key: 'kvm.no_lapic', label: 'LAPIC refuses the interrupt', fn: '__apic_accept_irq@' + LAPIC },
  {
    key: 'irqfd.unmask',
    label: 'unmask irqfd: INTx unmasked',
    fn: 'vfio_pci_intx_unmask_handler@' + VFIO_INTRS,
  },
  // ---- QEMU (VMM)
  {
    key: 'vmm.interrupt',
    label: 'QEMU handles the vector (bypass off)',
    fn: 'vfio_msi_interrupt@' + QEMU_VFIO,
  },
  { key: 'vmm.msix_pending', label: 'guest masked: virtual PBA bit set', fn: 'msix_notify@' + QEMU_MSIX },
  {
    key: 'vmm.unmask_pending',
    label: 'guest unmasked: pending message sent',
    fn: 'msix_handle_mask_update@' + QEMU_MSIX,
  },
  { key: 'kvm.send_msi', label: 'KVM_SIGNAL_MSI injects', fn: 'kvm_send_userspace_msi@virt/kvm/irqchip.c' },
  // ---- intercepted path (virtual device)
  {
    key: 'guest.mmio',
    label: 'guest writes an emulated register: VM exit',
    fn: 'handle_ept_misconfig@arch/x86/kvm/vmx/vmx.c',
  },
  {
    key: 'vmm.region_write',
    label: 'QEMU forwards the access to VFIO',
    fn: 'vfio_region_write@hw/vfio/region.c',
  },
  {
    key: 'vdev.emulate',
    label: 'virtual device driver emulates the command',
    fn: 'vidxd_do_command@drivers/dma/idxd/vdev.c',
  },
  {
    key: 'vdev.complete',
    label: 'completion signalled on emulated vector 0',
    fn: 'vidxd_send_interrupt@drivers/dma/idxd/vdev.c',
  },
  {
    key: 'guest.submit',
    label: 'guest submits work to the portal (direct)',
    fn: 'MOVDIR64B/ENQCMD to the WQ portal@drivers/dma/idxd/submit.c',
  },
  // ---- control plane (commands)
  // A refused command: fn names the entry point that refused it (CommandSpec.fn), or irqflow's own check.
  { key: 'ctl.failed', label: 'command refused', fn: 'irqflow: checkArgs@src/engine/commands.ts' },
  { key: 'ctl.set_irqs', label: 'VFIO_DEVICE_SET_IRQS', fn: 'vfio_pci_set_irqs_ioctl@' + VFIO_INTRS },
  { key: 'ctl.msi_enable', label: 'enable MSI/MSI-X', fn: 'vfio_msi_enable@' + VFIO_INTRS },
  { key: 'ctl.vector_signal', label: 'set a vector trigger', fn: 'vfio_msi_set_vector_signal@' + VFIO_INTRS },
  { key: 'ctl.intx', label: 'INTx configuration', fn: 'vfio_pci_set_intx_trigger@' + VFIO_INTRS },
  { key: 'ctl.irqfd', label: 'KVM_IRQFD', fn: 'kvm_irqfd_assign@' + KVM_EVENTFD },
  { key: 'ctl.bypass', label: 'irq bypass: IRTE switched to posted mode', fn: 'vmx_pi_update_irte@' + PI },
  { key: 'ctl.unbypass', label: 'irq bypass removed: IRTE back to remapped', fn: 'vmx_pi_update_irte@' + PI },
  { key: 'ctl.vmm', label: 'QEMU reacts to the guest', fn: 'vfio_msix_vector_do_use@' + QEMU_VFIO },
  // ---- APICv (appended: hop numbers stay stable)
  {
    key: 'kvm.post',
    label: 'APICv: KVM sets the PIR bit and ON',
    fn: 'vmx_deliver_posted_interrupt@arch/x86/kvm/vmx/vmx.c',
  },
  {
    key: 'lapic.vid',
    label: 'APICv: the CPU delivers the virtual interrupt (RVI to SVI)',
    fn: 'hw: virtual-interrupt delivery, no VM exit@Intel SDM vol. 3 30.2.2',
  },
  {
    key: 'kvm.ioapic',
    label: 'guest programs an IO-APIC redirection entry',
    fn: 'ioapic_write_indirect@arch/x86/kvm/ioapic.c',
  },
  { key: 'ioapic.set', label: 'IO-APIC pin asserted', fn: 'ioapic_set_irq@arch/x86/kvm/ioapic.c' },
  {
    key: 'ioapic.eoi',
    label: 'EOI of a level vector: Remote IRR cleared, ack notifiers run',
    fn: 'kvm_ioapic_update_eoi@arch/x86/kvm/ioapic.c',
  },
  {
    key: 'lapic.veoi',
    label: 'APICv: EOI virtualized, no VM exit',
    fn: 'hw: EOI virtualization@Intel SDM vol. 3 30.1.3',
  },
];

export const HOP: Record<string, number> = Object.fromEntries(HOPS.map((h, i) => [h.key, i]));

export function hopFn(hop: number, design: DesignGeneration, profile?: KernelProfile): string {
  const h = HOPS[hop];
  return h.by?.[design] ?? (profile ? h.release?.[profile] : undefined) ?? h.fn;
}
