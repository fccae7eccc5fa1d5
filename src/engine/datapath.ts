// The data path as one table: every event the queue runs, in the order an interrupt meets them, with the
// hops it records, the module whose handler runs it, and the events it hands off to. A module never
// imports another module to reach the next hop: it schedules `EV[key]` from here, and each module
// registers the handler of its own keys with `on(key, fn)` (engine.ts), which refuses a second handler;
// system.ts checks at load that every key below has one (checkEvents).
//
// An event's key is the hop key of the row it records first. Where one hop is reached by two events of a
// different shape (an irqfd on an MSI route and on an IO-APIC pin), the second key carries a variant after
// ':' ('irqfd.wakeup:ioapic'); the row it records is still the hop before the ':'. One event may record
// several rows: the synchronous steps that follow in the same context (`records`, in order; `|` separates
// alternatives: the row records one of them, by the case).
//
// `id` is what a snapshot stores for a queued event (Snapshot.queue[].kind): never renumber an id, give a
// new event the next free one. This leaf module imports nothing.

export interface EventDecl {
  readonly key: string;
  /** Stored in snapshots: stable. */
  readonly id: number;
  /** Rows this event records, in order; `a | b`: one of them. */
  readonly records: readonly string[];
  /** `file: function` of the handler (src/engine-relative): the file registers it with on(key). */
  readonly at: string;
  /** Events it schedules (hands off to). */
  readonly next: readonly string[];
  /** Event arguments: what a and b carry. */
  readonly args: string;
  /** Why the step is where it is, when it is not obvious. */
  readonly note?: string;
}

export const EVENTS = [
  // ---- the device (hardware models, src/engine/hw)
  {
    key: 'dev.raise',
    id: 20,
    records: [
      'dev.raise',
      'msix.send | msix.pending | msi.send | intx.assert | dev.raise (dropped: QEMU msix_entry_used 0)',
    ],
    at: 'hw/pci/device.ts: the dev.raise handler, msixSend',
    next: ['ir.remap', 'host.irq'],
    args: 'a = device ordinal, b = vector',
    note: 'the function uses MSI-X, else MSI, else INTx (PCIe 6.1); an INTx pin goes to its host IRQ without remapping (hw/pci/intx.ts: intxAssert)',
  },
  {
    key: 'ims.send',
    id: 6,
    records: ['ims.send | ims.pending'],
    at: 'hw/ims.ts: imsRaise',
    next: ['ir.remap'],
    args: 'a = device ordinal, b = IMS entry index',
  },
  {
    key: 'dev.raise:wq',
    id: 9,
    records: ['dev.raise (blocked: PASID mismatch) | ims.send | ims.pending'],
    at: 'linux/drivers/dma/idxd/vdev.ts: the dev.raise:wq handler',
    next: ['ir.remap'],
    args: 'a = virtual device ordinal, b = IMS entry index',
    note: "the work queue's completion fires its IMS entry (direct path of a virtual device)",
  },
  // ---- the IOMMU: the IRTE lookup is one step whose result is one of four rows
  {
    key: 'ir.remap',
    id: 19,
    records: ['ir.remap | ir.post | ir.fault | ir.compat'],
    at: 'linux/drivers/iommu/intel/irq_remapping.ts: the ir.remap handler',
    next: ['host.irq', 'pi.post'],
    args: 'a = message address (low 32 bits), b = message data',
    note: "the hardware's lookup of the IRTE that irq_remapping.c programmed: remapped goes to a host vector, posted to a vCPU's descriptor",
  },
  // ---- the host kernel's hard-irq context: flow handler, VFIO's handler, eventfd, irqfd
  {
    key: 'host.irq',
    id: 21,
    records: ['host.irq | host.intx | host.no_handler'],
    at: 'linux/kernel/irq/genirq.ts: the host.irq handler',
    next: ['vfio.msihandler', 'vfio.intxhandler'],
    args: 'a = host IRQ number',
  },
  {
    key: 'vfio.msihandler',
    id: 3,
    records: ['vfio.msihandler | vfio.imshandler | host.no_handler'],
    at: 'linux/drivers/vfio/pci/vfio_pci_intrs_handlers.ts: the vfio.msihandler handler',
    next: ['eventfd.signal'],
    args: 'a = host IRQ number',
  },
  {
    key: 'vfio.intxhandler',
    id: 5,
    records: ['vfio.intxhandler', 'eventfd.signal | eventfd.count | vfio.no_trigger'],
    at: 'linux/drivers/vfio/pci/vfio_pci_intrs_handlers.ts: the vfio.intxhandler handler',
    next: ['irqfd.wakeup', 'irqfd.wakeup:ioapic', 'vmm.interrupt'],
    args: 'a = host IRQ number',
    note: 'vfio_intx_handler signals in its own context (vfio_send_intx_eventfd), so the signal is a row of this event',
  },
  {
    key: 'eventfd.signal',
    id: 4,
    records: ['eventfd.signal | eventfd.count', 'irqfd.unmask (a virqfd waiter)'],
    at: 'linux/fs/eventfd.ts: eventfdSignal',
    next: ['irqfd.wakeup', 'irqfd.wakeup:ioapic', 'vmm.interrupt'],
    args: 'a = eventfd, b = trace string id of the node that signals',
    note: "the waiter decides: a KVM irqfd (its route is resolved here, as irqfd_wakeup reads it when woken: linux/virt/kvm/eventfd.ts: irqfdInject), a VFIO virqfd (run in this context), QEMU's handler (queued), or nobody (counted)",
  },
  {
    key: 'irqfd.wakeup',
    id: 1,
    records: [
      'irqfd.wakeup',
      'kvm.set_irr | kvm.coalesced | kvm.no_lapic | kvm.post | kvm.accept_other (NMI, SMI, INIT, SIPI, RemRd, ExtINT)',
      'kvm.kick',
    ],
    at: 'linux/virt/kvm/eventfd.ts: the irqfd.wakeup handler, kvmDeliver',
    next: ['lapic.accept'],
    args: 'a = GSI, b = irqfdTarget(vCPU, vector, mode) or NO_ROUTE / NO_VCPU',
  },
  {
    key: 'irqfd.wakeup:ioapic',
    id: 0,
    records: ['irqfd.wakeup', 'ioapic.set', 'kvm.set_irr | kvm.coalesced | kvm.no_lapic | kvm.post'],
    at: 'linux/arch/x86/kvm/ioapic.ts: the irqfd.wakeup:ioapic handler',
    next: ['lapic.accept'],
    args: 'a = GSI (= IO-APIC pin), b = 1 for a resample irqfd, else 0',
  },
  // ---- posting: the IOMMU (or KVM under APICv) sets the PIR bit; the CPU moves it to the vIRR
  {
    key: 'pi.post',
    id: 15,
    records: ['pi.post'],
    at: 'linux/arch/x86/kvm/vmx/posted_intr.ts: the pi.post handler',
    next: ['pi.notify', 'pi.wakeup'],
    args: 'a = vCPU, b = guest vector',
    note: "the notification vector was chosen by the vCPU's state (vmx_vcpu_pi_load/put: linux/arch/x86/kvm/vcpu.ts, piSetVcpuState)",
  },
  {
    key: 'pi.notify',
    id: 16,
    records: ['pi.notify'],
    at: 'linux/arch/x86/kvm/vmx/posted_intr.ts: its handler',
    next: ['lapic.accept'],
    args: 'a = vCPU',
  },
  {
    key: 'pi.wakeup',
    id: 17,
    records: ['pi.wakeup'],
    at: 'linux/arch/x86/kvm/vmx/posted_intr.ts: its handler',
    next: ['pi.sync'],
    args: 'a = vCPU',
  },
  {
    key: 'pi.sync',
    id: 18,
    records: ['pi.sync'],
    at: 'linux/arch/x86/kvm/vmx/posted_intr.ts: its handler',
    next: ['lapic.accept'],
    args: 'a = vCPU',
  },
  // ---- the vCPU's LAPIC and the guest
  {
    key: 'lapic.accept',
    id: 10,
    records: ['lapic.accept | lapic.vid (none while the vCPU cannot take it)'],
    at: 'linux/arch/x86/kvm/lapic.ts: the lapic.accept handler',
    next: ['lapic.eoi', 'guest.handler:fasteoi'],
    args: 'a = vCPU',
  },
  {
    key: 'lapic.eoi',
    id: 11,
    records: ['lapic.eoi | lapic.veoi'],
    at: 'linux/arch/x86/kvm/lapic.ts: the lapic.eoi handler',
    next: ['guest.handler'],
    args: 'a = vCPU, b = guest vector',
    note: 'a Linux guest acks an edge vector before its handler runs (apic_ack_edge)',
  },
  {
    key: 'guest.handler',
    id: 14,
    records: ['guest.handler'],
    at: 'guest/driver.ts: the guest.handler handler, guestHandle',
    next: ['lapic.accept'],
    args: 'a = vCPU, b = guest vector',
  },
  {
    key: 'guest.handler:fasteoi',
    id: 12,
    records: ['guest.handler'],
    at: 'guest/driver.ts: the guest.handler:fasteoi handler, guestHandle',
    next: ['lapic.eoi:level'],
    args: 'a = vCPU, b = guest vector',
    note: 'a level IO-APIC vector: handle_fasteoi_irq runs the handler before the EOI',
  },
  {
    key: 'lapic.eoi:level',
    id: 13,
    records: [
      'lapic.eoi',
      'ioapic.eoi',
      'eventfd.signal (each resamplefd)',
      'irqfd.unmask (the virqfd on it)',
      'ctl.intx (the unmask)',
    ],
    note: "the ack notifier (irqfd_resampler_ack) and VFIO's unmask virqfd run in the EOI's context",
    at: 'linux/arch/x86/kvm/ioapic.ts: the lapic.eoi:level handler (lapic.ts: lapicLevelEoi, then kvmIoapicEoi)',
    next: ['lapic.accept'],
    args: 'a = vCPU, b = guest vector',
  },
  // ---- QEMU's side (bypass off, or an intercepted access) and the intercepted path
  {
    key: 'vmm.interrupt',
    id: 2,
    records: [
      'vmm.interrupt | vmm.msix_pending',
      'kvm.send_msi',
      'kvm.set_irr | kvm.coalesced | kvm.post | kvm.accept_other',
    ],
    at: 'qemu/hw/vfio/pci.ts: the vmm.interrupt handler',
    next: ['lapic.accept'],
    args: 'a = device ordinal, b = vector',
  },
  {
    key: 'vdev.emulate',
    id: 7,
    records: ['vdev.emulate', 'vdev.complete (polled)'],
    at: 'linux/drivers/dma/idxd/vdev.ts: the vdev.emulate handler',
    next: ['vdev.complete'],
    args: 'a = virtual device ordinal, b = the value the guest wrote',
    note: 'after guest.mmio and vmm.region_write, recorded by the command (guest/driver.ts: guestMmioWrite)',
  },
  {
    key: 'vdev.complete',
    id: 8,
    records: ['vdev.complete', 'vfio.send_signal'],
    at: 'linux/drivers/dma/idxd/vdev.ts: the vdev.complete handler',
    next: ['eventfd.signal'],
    args: 'a = virtual device ordinal',
  },
] as const satisfies readonly EventDecl[];

export type EventKey = (typeof EVENTS)[number]['key'];

/** Event ids by key: what `Engine.schedule` takes as its kind. */
export const EV = Object.fromEntries(EVENTS.map((d) => [d.key, d.id])) as {
  readonly [K in EventKey]: number;
};

/** Events by id (the queue's kind). */
export const EVENT_BY_ID: readonly EventDecl[] = (() => {
  const out: EventDecl[] = [];
  for (const d of EVENTS) out[d.id] = d;
  return out;
})();
