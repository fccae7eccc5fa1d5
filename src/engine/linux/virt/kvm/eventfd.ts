// KVM irqfd and GSI routing (virt/kvm/eventfd.c, virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c): KVM_IRQFD
// binds an eventfd to a GSI; KVM_SET_GSI_ROUTING maps the GSI to an MSI address/data; a signal runs
// irqfd_wakeup, which injects through the route into the destination vCPU's LAPIC (kvm_set_msi_irq,
// kvm_irq_delivery_to_apic). A registered irqfd is also the irq-bypass consumer.

import { defineEvent, type Engine, type PathName } from '../../../engine.ts';
import { HOP } from '../../../hops.ts';
import { defineDetail, OUT } from '../../../sim/trace.ts';
import type { GsiRoute } from '../../../types.ts';
import { raise } from '../../../errno.ts';
import { eventfdCtxFdget, eventfdDrainCount } from '../../fs/eventfd.ts';
import { compatDest, hex, msiDeliveryMode, msiVector } from '../../arch/x86/kernel/apic/msi.ts';
import { lapicKick, lapicSetIrr, lapicSoftwareEnabled } from '../../arch/x86/kvm/lapic.ts';
import { kvmIntrIsSingleVcpu, kvmIrqDestinations, kvmSetMsiIrq } from '../../arch/x86/kvm/irq_comm.ts';
import { PATHS } from '../../../sim/trace.ts';
import { bypassSync } from '../lib/irqbypass.ts';
import { piDeliverPostedInterrupt } from '../../arch/x86/kvm/vmx/posted_intr.ts';
import { ioapicIrqfdInject, KVM_IOAPIC_NUM_PINS } from '../../arch/x86/kvm/ioapic.ts';

/** KVM_MAX_IRQ_ROUTES on x86. */
export const KVM_MAX_IRQ_ROUTES = 4096;

// kvm_irqfd_assign: one irqfd per eventfd per VM (EBUSY)
export function kvmIrqfdAssign(e: Engine, fd: number, gsi: number, resamplefd?: number): void {
  eventfdCtxFdget(e, fd);
  // KVM_IRQFD_FLAG_RESAMPLE: the resamplefd must be an eventfd too (kvm_irqfd_assign)
  if (resamplefd !== undefined) eventfdCtxFdget(e, resamplefd, 'resample');
  // No range check on the GSI: only the routing table is bounded; a signal on a GSI without a route is
  // consumed and delivers nothing (oracle/kvm-fixtures/kvm-irqfd: GSI 5000 accepted)
  if (e.state.kvm.irqfds[fd])
    raise('EBUSY', `eventfd ${fd} already has an irqfd (GSI ${e.state.kvm.irqfds[fd].gsi})`, 'fd');
  e.state.kvm.irqfds[fd] = resamplefd === undefined ? { fd, gsi } : { fd, gsi, resamplefd };
  e.state.eventfds[fd].label = `irqfd GSI ${gsi}`;
  e.hop(
    'ctl.irqfd',
    0,
    'vmm',
    'irqfd',
    'done',
    `KVM_IRQFD fd ${fd} -> GSI ${gsi}${resamplefd === undefined ? '' : `, resamplefd ${resamplefd}`}`,
  );
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
    irqfdInject(e, irq, gsi, e.cost.eventfd, resamplefd !== undefined);
  }
}

// kvm_irqfd_deassign: returns 0 even when no irqfd matches
export function kvmIrqfdDeassign(e: Engine, fd: number, gsi: number): void {
  eventfdCtxFdget(e, fd);
  const irqfd = e.state.kvm.irqfds[fd];
  if (irqfd && irqfd.gsi === gsi) {
    delete e.state.kvm.irqfds[fd];
    e.state.eventfds[fd].label = '';
    // irqfd_resampler_shutdown: the last resampler of the GSI lowers its source of the line
    if (irqfd.resamplefd !== undefined && gsi < KVM_IOAPIC_NUM_PINS) {
      const others = Object.values(e.state.kvm.irqfds).some(
        (f) => f.gsi === gsi && f.resamplefd !== undefined,
      );
      if (!others) e.state.kvm.ioapic[gsi].line &= ~4;
    }
    // irqfd_shutdown: eventfd_ctx_remove_wait_queue reads (and zeroes) the count on the way out
    eventfdDrainCount(e, fd, 'KVM_IRQFD deassign: irqfd_shutdown read the count');
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

/**
 * The vCPUs an MSI reaches, as KVM decodes it (arch/x86/kvm/irq_comm.c: kvm_set_msi_irq, then
 * kvm_irq_delivery_to_apic; the decoding is shared with `irqflow probe --kvm`: ./delivery.ts, checked
 * against KVM itself, oracle/kvm-fixtures/kvm-dest.*) for an xAPIC guest without the x2APIC API. Lowest
 * priority (mode 1, or the redirection hint) picks one LAPIC by vector hashing (KVM's default): on the
 * APIC map's fast path the index runs over the destination's logical bits, so a bit with no LAPIC drops
 * the interrupt; broadcasts and mixed flat/cluster LAPICs take the slow path (vCPU order). (apic_arb_prio
 * matters only with vector_hashing=0, which the probe models and the page does not offer.)
 */
export function routeTargets(
  e: Engine,
  r: Pick<GsiRoute, 'address_lo' | 'data'>,
): { vcpus: number[]; vector: number } | { unsupported: string } {
  const irq = kvmSetMsiIrq(r.address_lo, r.data);
  const mode = irq.delivery_mode;
  if (mode > 1) return { unsupported: `delivery mode ${DELIVERY_MODES[mode]} (data bits 10:8 = ${mode})` };
  const vcpus = e.state.kvm.vcpus;
  const t = kvmIrqDestinations(vcpus, irq, true);
  return { vcpus: t.dest, vector: irq.vector };
}

const DELIVERY_MODES = ['fixed', 'lowest', 'SMI', 'reserved', 'NMI', 'INIT', 'reserved', 'ExtINT'];

/** The single vCPU an MSI reaches, or null: what posting needs (kvm_intr_is_single_vcpu). */
export function routeTarget(e: Engine, r: GsiRoute): { vcpu: number; vector: number } | null {
  const irq = kvmSetMsiIrq(r.address_lo, r.data);
  const vcpu = kvmIntrIsSingleVcpu(e.state.kvm.vcpus, irq, true);
  return vcpu === null ? null : { vcpu, vector: irq.vector };
}

const NO_ROUTE = -1;
const NO_VCPU = -2;
const UNSUPPORTED = -3;

/**
 * irqfd_wakeup resolves the route it holds when the eventfd is signalled, so a later route change
 * cannot redirect it: one injection per destination vCPU is queued now (a = gsi, b = vCPU * 256 +
 * vector, or a negative reason). A multi-destination MSI is one interrupt per LAPIC it reaches: the
 * copies get interrupt ids of their own, so each has one fate.
 */
export function irqfdInject(e: Engine, irq: number, gsi: number, delay: number, resample = false): void {
  const route = e.state.kvm.gsi_routes[gsi];
  // GSI 0-23 without an MSI entry keep their default route: the in-kernel IO-APIC's pin
  if (!route && gsi < KVM_IOAPIC_NUM_PINS) return ioapicIrqfdInject(e, irq, gsi, resample, delay);
  if (!route) return e.schedule(delay, EV_IRQFD, irq, gsi, NO_ROUTE);
  // the common case, a physical fixed MSI to one APIC id, without building destination lists
  const lo = route.address_lo;
  const dest = compatDest(lo);
  if ((lo & 0xc) === 0 && dest !== 0xff && msiDeliveryMode(route.data) === 0) {
    const vcpus = e.state.kvm.vcpus;
    const vcpu = vcpus[dest]?.apic_id === dest ? dest : vcpus.findIndex((v) => v.apic_id === dest);
    return e.schedule(delay, EV_IRQFD, irq, gsi, vcpu < 0 ? NO_VCPU : vcpu * 256 + msiVector(route.data));
  }
  const t = routeTargets(e, route);
  if ('unsupported' in t) return e.schedule(delay, EV_IRQFD, irq, gsi, UNSUPPORTED);
  if (t.vcpus.length === 0) return e.schedule(delay, EV_IRQFD, irq, gsi, NO_VCPU);
  t.vcpus.forEach((vcpu, k) => {
    const id = k === 0 ? irq : multicastCopy(e, irq, vcpu, 'irqfd');
    e.schedule(delay, EV_IRQFD, id, gsi, vcpu * 256 + t.vector);
  });
}

/** A copy of `irq` for one more destination of a multi-destination MSI. */
export function multicastCopy(e: Engine, irq: number, vcpu: number, at: string): number {
  const id = e.newIrq(`kvm:multicast of #${irq}`, PATHS[e.ipath[irq]] as PathName);
  e.hop(
    'irqfd.wakeup',
    id,
    at,
    'kvm',
    'forwarded',
    `a multi-destination MSI: copy of #${irq} for vCPU ${vcpu}`,
  );
  return id;
}

/** irqfd_wakeup -> irqfd_inject through the GSI's route: a = gsi, b = the destination from irqfdInject. */
export const EV_IRQFD = defineEvent('irqfd.wakeup', (e, irq, gsi, target) => {
  if (target === NO_ROUTE) {
    e.hop('irqfd.wakeup', irq, 'irqfd', 'kvm', 'dropped', `GSI ${gsi} has no route`);
    e.dropped(irq, 'GSI without a route');
    return;
  }
  if (target === UNSUPPORTED) {
    e.hop(
      'irqfd.wakeup',
      irq,
      'irqfd',
      'kvm',
      'dropped',
      `GSI ${gsi}: a delivery mode irqflow does not model (only fixed and lowest priority)`,
    );
    e.dropped(irq, 'MSI delivery mode not modelled');
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
  if (!lapicSoftwareEnabled(v.lapic)) {
    // __apic_accept_irq, APIC_DM_FIXED: "if (unlikely(!apic_enabled(apic))) break;"
    e.hop(
      'kvm.no_lapic',
      irq,
      from,
      `lapic:${vcpuId}`,
      'dropped',
      `vCPU ${vcpuId}'s LAPIC is software-disabled (SVR bit 8 clear): a fixed interrupt is not accepted`,
    );
    e.dropped(irq, 'LAPIC software-disabled');
    return;
  }
  // vmx_deliver_interrupt: with APICv KVM posts the vector itself; the IRR-and-kick path only without
  if (e.state.kvm.apicv) return piDeliverPostedInterrupt(e, irq, v, vector, from);
  // 'kvm' (irqfd_wakeup's caller) without a string lookup per interrupt (issue 14)
  if (lapicSetIrr(e, irq, v, vector, from === 'kvm' ? e.ids.kvm : e.sid(from))) lapicKick(e, v, irq);
}

/** KVM_SIGNAL_MSI (kvm_send_userspace_msi -> kvm_set_msi): one interrupt to every vCPU the message reaches. */
export function kvmSignalMsi(e: Engine, irq: number, address_lo: number, data: number): void {
  const t = routeTargets(e, { address_lo, data });
  if (!('vcpus' in t) || t.vcpus.length === 0) {
    const why = 'vcpus' in t ? 'reaches no vCPU' : `uses ${t.unsupported}, not modelled`;
    e.hop('kvm.send_msi', irq, 'vmm', 'kvm', 'dropped', `MSI ${hex(address_lo)}/${hex(data)} ${why}`);
    e.dropped(irq, 'vcpus' in t ? 'MSI route to no vCPU' : 'MSI delivery mode not modelled');
    return;
  }
  e.hop(
    'kvm.send_msi',
    irq,
    'vmm',
    'kvm',
    'forwarded',
    `KVM_SIGNAL_MSI ${hex(address_lo)}/${hex(data)}: vCPU ${t.vcpus.join(', ')}`,
  );
  t.vcpus.forEach((vcpu, k) =>
    kvmDeliver(e, k === 0 ? irq : multicastCopy(e, irq, vcpu, 'kvm'), vcpu, t.vector, 'kvm'),
  );
}
