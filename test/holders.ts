// Where a pending interrupt can wait, read from a snapshot's state: each place that holds an interrupt
// and the interrupt id it holds. The conservation property compares this with the interrupts' fates.
import type { SystemState } from '../src/engine/index.ts';

const hex = (n: number) => '0x' + n.toString(16);

export function holders(s: SystemState): Map<number, string> {
  const m = new Map<number, string>();
  const put = (irq: number, where: string) => {
    if (!irq) return;
    if (m.has(irq)) throw new Error(`interrupt ${irq} held twice: ${m.get(irq)} and ${where}`);
    m.set(irq, where);
  };
  for (const d of Object.values(s.devices)) {
    d.msix?.pba.forEach((p, v) => p && put(d.msix!.pba_irq[v], `${d.name} PBA[${v}]`));
    if (d.msi)
      for (let v = 0; v < 32; v++)
        if (d.msi.pending_bits & (1 << v)) put(d.msi.pending_irq[v], `${d.name} MSI pending[${v}]`);
    d.ims?.entries.forEach((x, i) => x.pending && put(x.pending_irq, `${d.name} IMS[${i}] pending`));
    put(d.intx.pending_irq, `${d.name} INTx pending`);
  }
  for (const e of Object.values(s.eventfds))
    for (const irq of e.count_irqs) put(irq, `eventfd ${e.fd} counter`);
  for (const v of s.kvm.vcpus) {
    v.lapic.irr.forEach((vec, k) => put(v.lapic.irr_irq[k], `vCPU ${v.id} IRR[${hex(vec)}]`));
    v.pi.pir.forEach((vec, k) => put(v.pi.pir_irq[k], `vCPU ${v.id} PIR[${hex(vec)}]`));
  }
  for (const d of Object.values(s.vmm))
    d.msix.pba.forEach((p, v) => p && put(d.msix.pba_irq[v], `${d.device} guest PBA[${v}] (QEMU)`));
  return m;
}
