// irq bypass (virt/lib/irqbypass.c): a VFIO vector's producer and a KVM irqfd's consumer pair up when
// they share a token (the eventfd). KVM then programs the vector's IRTE in posted mode when the route
// targets a single vCPU with a postable delivery mode (arch/x86/kvm/vmx/posted_intr.c: vmx_pi_update_irte),
// and back to remapped mode when either side goes or the route stops being postable.

import type { Engine } from '../../../engine.ts';
import { routeTarget } from '../kvm/eventfd.ts';
import { hex, msiDeliveryMode } from '../../arch/x86/kernel/apic/msi.ts';

/** Recomputes every IRTE's mode from the current producers, consumers and routes. */
export function bypassSync(e: Engine): void {
  const s = e.state;
  // without posted interrupts no IRTE is ever posted: nothing to recompute (and setting up a thousand
  // vectors must not cost a million IRTE visits)
  // vmx_can_use_vtd_pi: posting needs the IOMMU's posting capability and APICv (enable_apicv)
  if (!s.iommu.posted_interrupts || !s.kvm.apicv) return;
  for (const host of Object.values(s.host.irqs)) {
    if (host.irte === null) continue;
    const irte = s.iommu.irte[host.irte];
    if (!irte) continue;
    const ctx = host.owner !== null ? s.vfio[host.owner]?.ctx[host.owner_vector] : undefined;
    let target: { vcpu: number; vector: number } | null = null;
    const irqfd = ctx && ctx.producer && ctx.trigger !== null ? s.kvm.irqfds[ctx.trigger] : undefined;
    if (irqfd && s.iommu.posted_interrupts) {
      const route = s.kvm.gsi_routes[irqfd.gsi];
      // kvm_irq_is_postable: fixed or lowest-priority delivery
      if (route && msiDeliveryMode(route.data) <= 1) target = routeTarget(e, route);
    }
    const from = host.owner !== null ? `vfio:${host.owner}` : 'hostirq';
    if (target && (irte.mode !== 'posted' || irte.pi_vcpu !== target.vcpu || irte.vector !== target.vector)) {
      irte.mode = 'posted';
      irte.pi_vcpu = target.vcpu;
      irte.vector = target.vector;
      e.hop(
        'ctl.bypass',
        0,
        from,
        'iommu',
        'done',
        `${host.action}: IRTE ${irte.index} posted to vCPU ${target.vcpu} vector ${hex(target.vector)}`,
      );
    } else if (!target && irte.mode === 'posted') {
      irte.mode = 'remapped';
      irte.pi_vcpu = null;
      irte.vector = host.vector;
      irte.dest = host.cpu;
      e.hop(
        'ctl.unbypass',
        0,
        from,
        'iommu',
        'done',
        `IRQ ${host.irq}: IRTE ${irte.index} back to remapped, host vector ${hex(host.vector)}`,
      );
    }
  }
}
