// KVM irqfd and GSI routing (virt/kvm/eventfd.c, virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c): KVM_IRQFD
// binds an eventfd to a GSI; KVM_SET_GSI_ROUTING maps the GSI to an MSI address/data; a signal runs
// irqfd_wakeup, which injects through the route into the destination vCPU's LAPIC (kvm_set_msi_irq,
// kvm_irq_delivery_to_apic). A registered irqfd is also the irq-bypass consumer.

import { defineEvent, type Engine } from '../engine.ts';
import { HOP } from '../hops.ts';
import { defineDetail, OUT } from '../sim/trace.ts';
import type { GsiRoute } from '../types.ts';
import { raise } from '../errno.ts';
import { eventfdCtxFdget } from './eventfd.ts';
import { compatDest, hex, msiVector } from '../iommu/msg.ts';
import { lapicKick, lapicSetIrr } from './lapic.ts';
import { bypassSync } from './bypass.ts';

/** KVM_MAX_IRQ_ROUTES on x86. */
export const KVM_MAX_IRQ_ROUTES = 4096;

// kvm_irqfd_assign: one irqfd per eventfd per VM (EBUSY)
export function kvmIrqfdAssign(e: Engine, fd: number, gsi: number): void {
  eventfdCtxFdget(e, fd);
  // No range check on the GSI: only the routing table is bounded; a signal on a GSI without a route is
  // consumed and delivers nothing (oracle/kvm-fixtures/kvm-irqfd: GSI 5000 accepted)
  if (e.state.kvm.irqfds[fd])
    raise('EBUSY', `eventfd ${fd} already has an irqfd (GSI ${e.state.kvm.irqfds[fd].gsi})`, 'fd');
  e.state.kvm.irqfds[fd] = { fd, gsi };
  e.state.eventfds[fd].label = `irqfd GSI ${gsi}`;
  e.hop('ctl.irqfd', 0, 'vmm', 'irqfd', 'done', `KVM_IRQFD fd ${fd} -> GSI ${gsi}`);
  bypassSync(e);
  // kvm_irqfd_assign: vfs_poll finds EPOLLIN on an eventfd already signalled and schedules
  // irqfd_inject, which sets the GSI once and does not read the counter: the count stays for the next
  // wakeup, or a reader (oracle/kvm-fixtures/kvm-irqfd: read-e3-assigned 2)
  const efd = e.state.eventfds[fd];
  if (efd.count > 0) {
    const irq = e.newIrq('kvm:irqfd_inject', 'emulated');
    e.hop(
      'eventfd.signal',
      irq,
      'eventfd',
      'irqfd',
      'forwarded',
      `KVM_IRQFD on eventfd ${fd} with count ${efd.count}: irqfd_inject sets GSI ${gsi} once, the count stays`,
      'irqfd_inject@virt/kvm/eventfd.c',
    );
    e.schedule(e.cost.eventfd, EV_IRQFD, irq, gsi, irqfdTarget(e, gsi));
  }
}

// kvm_irqfd_deassign: returns 0 even when no irqfd matches
export function kvmIrqfdDeassign(e: Engine, fd: number, gsi: number): void {
  eventfdCtxFdget(e, fd);
  const irqfd = e.state.kvm.irqfds[fd];
  if (irqfd && irqfd.gsi === gsi) {
    delete e.state.kvm.irqfds[fd];
    e.state.eventfds[fd].label = '';
    e.hop(
      'ctl.irqfd',
      0,
      'vmm',
      'irqfd',
      'done',
      `KVM_IRQFD deassign fd ${fd} GSI ${gsi}`,
      'irqfd_deactivate@virt/kvm/eventfd.c',
    );
    bypassSync(e);
  }
}

export function kvmSetMsiRoute(e: Engine, route: GsiRoute): void {
  if (route.gsi < 0 || route.gsi >= KVM_MAX_IRQ_ROUTES)
    raise('EINVAL', `gsi ${route.gsi} is outside 0..${KVM_MAX_IRQ_ROUTES - 1}`, 'gsi');
  e.state.kvm.gsi_routes[route.gsi] = route;
  e.hop(
    'ctl.irqfd',
    0,
    'vmm',
    'kvm',
    'done',
    `GSI ${route.gsi} -> MSI ${hex(route.address_lo)}/${hex(route.data)}`,
    'kvm_set_irq_routing@virt/kvm/irqchip.c',
  );
  // kvm_irq_routing_update -> kvm_arch_update_irqfd_routing: posted IRTEs follow the new route
  bypassSync(e);
}

/** Resolves an MSI route to (vCPU, vector) as kvm_set_msi_irq does; null when no vCPU has that APIC id. */
export function routeTarget(e: Engine, r: GsiRoute): { vcpu: number; vector: number } | null {
  const dest = compatDest(r.address_lo);
  const vcpus = e.state.kvm.vcpus;
  // vCPU n has APIC id n unless a topology says otherwise: look there first
  const vcpu = vcpus[dest]?.apic_id === dest ? dest : vcpus.findIndex((v) => v.apic_id === dest);
  return vcpu < 0 ? null : { vcpu, vector: msiVector(r.data) };
}

/** irqfd_wakeup -> irqfd_inject through the GSI's route: a = gsi. */
/**
 * The route a signal takes, resolved when the eventfd is signalled: irqfd_wakeup injects in the
 * signaller's context with the routing entry it holds, so a later route change cannot redirect it.
 * Encoded for the queue: vCPU * 256 + vector, -1 no route, -2 no such vCPU.
 */
export function irqfdTarget(e: Engine, gsi: number): number {
  const route = e.state.kvm.gsi_routes[gsi];
  if (!route) return -1;
  const t = routeTarget(e, route);
  return t ? t.vcpu * 256 + t.vector : -2;
}

/** irqfd_wakeup -> irqfd_inject through the GSI's route: a = gsi, b = irqfdTarget at signal time. */
export const EV_IRQFD = defineEvent('irqfd.wakeup', (e, irq, gsi, target) => {
  if (target === -1) {
    e.hop('irqfd.wakeup', irq, 'irqfd', 'kvm', 'dropped', `GSI ${gsi} has no route`);
    e.dropped(irq, 'GSI without a route');
    return;
  }
  if (target < 0) {
    e.hop('irqfd.wakeup', irq, 'irqfd', 'kvm', 'dropped', `the route of GSI ${gsi} names no vCPU`);
    e.dropped(irq, 'MSI route to no vCPU');
    return;
  }
  const vcpu = target >> 8;
  const vector = target & 0xff;
  e.hopf(H_WAKEUP, irq, e.ids.irqfd, e.ids.kvm, OUT.forwarded, F_WAKEUP, gsi, vector, vcpu);
  kvmDeliver(e, irq, vcpu, vector, 'kvm');
});

const H_WAKEUP = HOP['irqfd.wakeup'];
const F_WAKEUP = defineDetail((gsi, vector, vcpu) => `GSI ${gsi}: vector ${hex(vector)} to vCPU ${vcpu}`);

/** kvm_irq_delivery_to_apic -> __apic_accept_irq, then kick the vCPU. */
export function kvmDeliver(e: Engine, irq: number, vcpuId: number, vector: number, from: string): void {
  const v = e.state.kvm.vcpus[vcpuId];
  if (lapicSetIrr(e, irq, v, vector, e.sid(from))) lapicKick(e, v, irq);
}
