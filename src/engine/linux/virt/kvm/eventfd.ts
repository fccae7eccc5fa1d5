// KVM irqfd and GSI routing (virt/kvm/eventfd.c, virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c): KVM_IRQFD
// binds an eventfd to a GSI; KVM_SET_GSI_ROUTING maps the GSI to an MSI address/data; a signal runs
// irqfd_wakeup, which injects through the route into the destination vCPU's LAPIC (kvm_set_msi_irq,
// kvm_irq_delivery_to_apic). A registered irqfd is also the irq-bypass consumer.

import { on, type Engine, type PathName } from '../../../engine.ts';
import { EV } from '../../../datapath.ts';
import { HOP } from '../../../hops.ts';
import { defineDetail, OUT } from '../../../sim/trace.ts';
import type { GsiRoute } from '../../../types.ts';
import { raise } from '../../../errno.ts';
import { eventfdCtxFdget, eventfdDrainCount, eventfdRegisterWaiter } from '../../fs/eventfd.ts';
import { compatDest, msiDeliveryMode, msiVector } from '../../arch/x86/kernel/apic/msi.ts';
import { hex } from '../../../hex.ts';
import { kvmDeliver } from '../../arch/x86/kvm/vcpu.ts';
import {
  APIC_DM_LOWEST,
  APIC_DM_NMI,
  APIC_DM_REMRD,
  APIC_DM_SMI,
  APIC_DM_INIT,
  APIC_DM_STARTUP,
  routeTargets,
} from '../../arch/x86/kvm/irq_comm.ts';
import { PATHS } from '../../../sim/trace.ts';
import { bypassSync } from '../lib/irqbypass.ts';
import { ioapicIrqfdInject, KVM_IOAPIC_NUM_PINS } from '../../arch/x86/kvm/ioapic.ts';

// Hops, detail formats and places this file records (hops.ts, sim/trace.ts).
const H_WAKEUP = HOP['irqfd.wakeup'];
const F_WAKEUP = defineDetail((gsi, vector, vcpu) => `GSI ${gsi}: vector ${hex(vector)} to vCPU ${vcpu}`);

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

// The irqfd.wakeup event's b: where irqfd_wakeup injects, resolved when the eventfd was signalled. A
// destination is irqfdTarget(vCPU, vector, mode): the vector in bits 7:0, the vCPU in 23:8 (KVM_MAX_VCPUS
// is 4096 on x86), and a delivery mode other than fixed/lowest priority in 26:24 (0 for those two, which
// inject a vector into the IRR). The negative codes name why there is none (the queue carries two 32-bit
// integers per event, sim/queue.ts).
const NO_ROUTE = -1;
const NO_VCPU = -2;
const irqfdTarget = (vcpu: number, vector: number, mode = 0): number =>
  ((mode > APIC_DM_LOWEST ? mode : 0) << 24) | (vcpu << 8) | vector;
const targetVcpu = (target: number): number => (target >> 8) & 0xffff;
const targetVector = (target: number): number => target & 0xff;
const targetMode = (target: number): number => (target >> 24) & 7;

/** MSI data bits 10:8 (APIC_DM_*), as the trace names them. */
export const DELIVERY_MODES = ['fixed', 'lowest', 'SMI', 'RemRd', 'NMI', 'INIT', 'SIPI', 'ExtINT'];

/**
 * __apic_accept_irq (arch/x86/kvm/lapic.c, 6.1 and 6.12) for the delivery modes that are not a vector
 * in the IRR. What the page's engine does with each, named on the trace:
 *   NMI     kvm_inject_nmi + kvm_vcpu_kick, SVR not consulted: delivered to the guest's NMI handler (no
 *           IRR, ISR or EOI; a halted Linux vCPU runs the handler and halts again in its idle loop);
 *   SMI     kvm_inject_smi (KVM_REQ_SMI) + kick: the vCPU enters SMM, the firmware's handler: delivered;
 *   INIT    accepted (pending_events = KVM_APIC_INIT): the vCPU reset it causes (kvm_apic_accept_events ->
 *           kvm_vcpu_reset) is not modelled here (irqflow probe --kvm models it): dropped, named;
 *   SIPI    accepted (sipi_vector, KVM_APIC_SIPI), but kvm_apic_accept_events starts only a vCPU in
 *           INIT_RECEIVED and every page vCPU is runnable: no effect, dropped;
 *   RemRd   KVM's PV unhalt (pv_unhalted = 1, KVM_HC_KICK_CPU's mode): no interrupt for the guest;
 *   ExtINT  "Should only be called by kvm_apic_local_deliver() with LVT0": nothing for an MSI.
 */
export function kvmAcceptOther(
  e: Engine,
  irq: number,
  vcpuId: number,
  vector: number,
  mode: number,
  from: string,
): void {
  const to = `lapic:${vcpuId}`;
  const fn = '__apic_accept_irq@arch/x86/kvm/lapic.c';
  const accept = (outcome: 'delivered' | 'dropped', detail: string): void =>
    e.hop(
      'kvm.accept_other',
      irq,
      from,
      to,
      outcome,
      `${DELIVERY_MODES[mode]} to vCPU ${vcpuId}: ${detail}`,
      fn,
    );
  switch (mode) {
    case APIC_DM_NMI:
      accept(
        'delivered',
        'kvm_inject_nmi, kvm_vcpu_kick: the guest takes it as an NMI (no IDT vector from the IRR, no EOI)',
      );
      e.delivered(irq, `vCPU ${vcpuId} NMI`);
      return;
    case APIC_DM_SMI:
      accept(
        'delivered',
        'kvm_inject_smi (KVM_REQ_SMI), kvm_vcpu_kick: the vCPU enters SMM (the firmware handles it)',
      );
      e.delivered(irq, `vCPU ${vcpuId} SMM`);
      return;
    case APIC_DM_INIT:
      accept(
        'dropped',
        'accepted (KVM_APIC_INIT pending); the vCPU reset it causes is not modelled by the page (irqflow probe --kvm models it)',
      );
      e.dropped(irq, 'INIT: the vCPU reset is not modelled');
      return;
    case APIC_DM_STARTUP:
      accept(
        'dropped',
        `SIPI vector ${hex(vector)} accepted, but the vCPU is not waiting in INIT_RECEIVED: kvm_apic_accept_events ignores it`,
      );
      e.dropped(irq, 'SIPI to a vCPU not waiting for one');
      return;
    case APIC_DM_REMRD:
      accept('dropped', 'pv_unhalted = 1 and a kick (KVM PV unhalt): no interrupt for the guest');
      e.dropped(irq, 'RemRd: PV unhalt, no interrupt');
      return;
    default:
      accept(
        'dropped',
        'APIC_DM_EXTINT is taken only through LVT0 (kvm_apic_accept_pic_intr): nothing for an MSI',
      );
      e.dropped(irq, 'ExtINT MSI ignored by __apic_accept_irq');
  }
}

/**
 * irqfd_wakeup resolves the route it holds when the eventfd is signalled, so a later route change
 * cannot redirect it: one injection per destination vCPU is queued now (a = gsi, b = irqfdTarget(vCPU,
 * vector) or a negative reason). A multi-destination MSI is one interrupt per LAPIC it reaches: the
 * copies get interrupt ids of their own, so each has one fate.
 */
export function irqfdInject(e: Engine, irq: number, gsi: number, delay: number, resample = false): void {
  const route = e.state.kvm.gsi_routes[gsi];
  // GSI 0-23 without an MSI entry keep their default route: the in-kernel IO-APIC's pin
  if (!route && gsi < KVM_IOAPIC_NUM_PINS) return ioapicIrqfdInject(e, irq, gsi, resample, delay);
  if (!route) return e.schedule(delay, EV['irqfd.wakeup'], irq, gsi, NO_ROUTE);
  // the common case, a physical fixed MSI to one APIC id, without building destination lists
  const lo = route.address_lo;
  const dest = compatDest(lo);
  if ((lo & 0xc) === 0 && dest !== 0xff && msiDeliveryMode(route.data) === 0) {
    const vcpus = e.state.kvm.vcpus;
    const vcpu = vcpus[dest]?.apic_id === dest ? dest : vcpus.findIndex((v) => v.apic_id === dest);
    return e.schedule(
      delay,
      EV['irqfd.wakeup'],
      irq,
      gsi,
      vcpu < 0 ? NO_VCPU : irqfdTarget(vcpu, msiVector(route.data)),
    );
  }
  const t = routeTargets(e, route);
  if (t.vcpus.length === 0) return e.schedule(delay, EV['irqfd.wakeup'], irq, gsi, NO_VCPU);
  t.vcpus.forEach((vcpu, k) => {
    const id = k === 0 ? irq : multicastCopy(e, irq, vcpu, 'irqfd');
    e.schedule(delay, EV['irqfd.wakeup'], id, gsi, irqfdTarget(vcpu, t.vector, t.mode));
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
on('irqfd.wakeup', (e, irq, gsi, target) => {
  if (target === NO_ROUTE) {
    e.hop('irqfd.wakeup', irq, 'irqfd', 'kvm', 'dropped', `GSI ${gsi} has no route`);
    e.dropped(irq, 'GSI without a route');
    return;
  }
  if (target < 0) {
    e.hop('irqfd.wakeup', irq, 'irqfd', 'kvm', 'dropped', `the route of GSI ${gsi} names no vCPU`);
    e.dropped(irq, 'MSI route to no vCPU');
    return;
  }
  const vcpu = targetVcpu(target);
  const vector = targetVector(target);
  e.hopf(H_WAKEUP, irq, e.ids.irqfd, e.ids.kvm, OUT.forwarded, F_WAKEUP, gsi, vector, vcpu);
  const mode = targetMode(target);
  if (mode) return kvmAcceptOther(e, irq, vcpu, vector, mode, 'kvm');
  kvmDeliver(e, irq, vcpu, vector, 'kvm');
});

/** KVM_SIGNAL_MSI (kvm_send_userspace_msi -> kvm_set_msi): one interrupt to every vCPU the message reaches. */
export function kvmSignalMsi(e: Engine, irq: number, address_lo: number, data: number): void {
  const t = routeTargets(e, { address_lo, data });
  if (t.vcpus.length === 0) {
    e.hop(
      'kvm.send_msi',
      irq,
      'vmm',
      'kvm',
      'dropped',
      `MSI ${hex(address_lo)}/${hex(data)} reaches no vCPU`,
    );
    e.dropped(irq, 'MSI route to no vCPU');
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
  t.vcpus.forEach((vcpu, k) => {
    const id = k === 0 ? irq : multicastCopy(e, irq, vcpu, 'kvm');
    if (t.mode > APIC_DM_LOWEST) kvmAcceptOther(e, id, vcpu, t.vector, t.mode, 'kvm');
    else kvmDeliver(e, id, vcpu, t.vector, 'kvm');
  });
}

eventfdRegisterWaiter('irqfd', irqfdInject);
