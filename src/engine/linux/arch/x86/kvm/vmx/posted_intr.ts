// Posted interrupts (VT-d posted mode + VMX posted-interrupt processing; KVM side in
// arch/x86/kvm/vmx/posted_intr.c). The IOMMU sets the guest vector's bit in the vCPU's descriptor (PIR)
// and, unless ON or SN is set, sets ON and sends the notification vector NV to NDST. A running vCPU moves
// PIR into its virtual IRR with no VM exit; a blocked vCPU has NV = the wake-up vector, whose host handler
// wakes it; a preempted vCPU has SN set and its bits wait in PIR until it runs again.

import { on, type Engine, NK } from '../../../../../engine.ts';
import { EV } from '../../../../../datapath.ts';
import type { PiDesc, Vcpu } from '../../../../../types.ts';
import { msiDeliveryMode } from '../../kernel/apic/msi.ts';
import { hex } from '../../../../../hex.ts';
import { routeTarget } from '../irq_comm.ts';
import { irqBypassRegisterConsumer } from '../../../../virt/lib/irqbypass.ts';
import { lapicSetIrr, scheduleAccept } from '../lapic.ts';
import { vecGet, vecSet } from '../vecset.ts';
import { HOP } from '../../../../../hops.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_PI = NK['pi'];

// arch/x86/include/asm/irq_vectors.h
export const POSTED_INTR_VECTOR = 0xf2;
export const POSTED_INTR_WAKEUP_VECTOR = 0xf1;

/**
 * ndst: the physical APIC id of the pCPU the vCPU is loaded on (vmx_vcpu_pi_load: cpu_physical_id(cpu);
 * the engine runs vCPU i on host CPU i mod cpus and gives host CPU n APIC id n, an x2APIC host's format).
 */
export function piCreate(ndst: number): PiDesc {
  return { pir: [], pir_irq: [], on: false, sn: false, nv: POSTED_INTR_VECTOR, ndst };
}

/**
 * The descriptor as KVM leaves it for each vCPU state (vmx_vcpu_pi_load / vmx_vcpu_pi_put). put returns
 * at once unless vmx_needs_pi_wakeup (posting in use: an assigned device, the IOMMU's posting capability
 * and APICv; IPI virtualization is not modelled): then a vCPU blocking with interrupts not blocked (the
 * engine's halted vCPU ran a Linux guest's sti; hlt) gets the wake-up vector, a preempted one SN. load
 * gives NV back and clears SN; NDST (set at load) stays the pCPU's physical APIC id (piCreate).
 */
export function piSetVcpuState(v: Vcpu, needsWakeup = true): void {
  if (v.state === 'running' || needsWakeup) {
    v.pi.sn = v.state === 'preempted';
    v.pi.nv = v.state === 'halted' ? POSTED_INTR_WAKEUP_VECTOR : POSTED_INTR_VECTOR;
  }
}

/** vmx_needs_pi_wakeup as the engine has it: posted interrupts on (which need APICv). */
export function piNeedsWakeup(e: Engine): boolean {
  return e.state.iommu.posted_interrupts && e.state.kvm.apicv;
}

/** a = vCPU, b = guest vector. */
on('pi.post', (e, irq, vcpuId, vector) => {
  const v = e.state.kvm.vcpus[vcpuId];
  const pi = v.pi;
  const at = `pi:${vcpuId}`;
  const into = vecGet(pi.pir, pi.pir_irq, vector);
  if (into) {
    e.hop('pi.post', irq, at, at, 'coalesced', `PIR bit ${hex(vector)} already set by #${into}`);
    e.coalesced(irq, into, `vCPU ${vcpuId} PIR[${hex(vector)}]`);
    return;
  }
  vecSet(pi.pir, pi.pir_irq, vector, irq);
  e.pending(irq, `vCPU ${vcpuId} PIR[${hex(vector)}]`);
  if (pi.on || pi.sn) {
    const why = pi.sn
      ? `SN set: vCPU ${vcpuId} ${v.state}, no notification`
      : 'ON already set: notification outstanding';
    e.hop('pi.post', irq, at, at, 'pending', `PIR ${hex(vector)} set; ${why}`);
    return;
  }
  pi.on = true;
  if (pi.nv === POSTED_INTR_WAKEUP_VECTOR) {
    e.hop(
      'pi.post',
      irq,
      at,
      at,
      'pending',
      `PIR ${hex(vector)} set, ON; NV ${hex(pi.nv)} (wake-up) to CPU ${pi.ndst}`,
    );
    e.schedule(e.cost.wakeup, EV['pi.wakeup'], irq, vcpuId);
    return;
  }
  e.hop('pi.post', irq, at, at, 'pending', `PIR ${hex(vector)} set, ON; NV ${hex(pi.nv)} to CPU ${pi.ndst}`);
  e.schedule(e.cost.posted, EV['pi.notify'], irq, vcpuId);
});

/**
 * KVM's own injection under APICv (arch/x86/kvm/vmx/vmx.c: vmx_deliver_interrupt ->
 * vmx_deliver_posted_interrupt -> __vmx_deliver_posted_interrupt): KVM sets the PIR bit (a set bit
 * coalesces) and ON (already set: the notification is outstanding, nothing more), whatever SN says (SN
 * only stops the IOMMU); then kvm_vcpu_trigger_posted_interrupt sends POSTED_INTR_VECTOR to a vCPU in
 * guest mode, or kvm_vcpu_wake_up wakes a blocked one (PIR synced at its VM entry); a preempted vCPU
 * finds PIR at its next entry.
 */
export function piDeliverPostedInterrupt(
  e: Engine,
  irq: number,
  v: Vcpu,
  vector: number,
  from: string,
): void {
  const pi = v.pi;
  const at = `pi:${v.id}`;
  const into = vecGet(pi.pir, pi.pir_irq, vector);
  if (into) {
    e.hop('kvm.post', irq, from, at, 'coalesced', `PIR bit ${hex(vector)} already set by #${into}`);
    e.coalesced(irq, into, `vCPU ${v.id} PIR[${hex(vector)}]`);
    return;
  }
  vecSet(pi.pir, pi.pir_irq, vector, irq);
  e.pending(irq, `vCPU ${v.id} PIR[${hex(vector)}]`);
  if (pi.on) {
    e.hop(
      'kvm.post',
      irq,
      from,
      at,
      'pending',
      `PIR ${hex(vector)} set; ON already set: notification outstanding`,
    );
    return;
  }
  pi.on = true;
  if (v.state === 'running') {
    e.hop(
      'kvm.post',
      irq,
      from,
      at,
      'pending',
      `PIR ${hex(vector)} set, ON; POSTED_INTR_VECTOR IPI to vCPU ${v.id}`,
    );
    e.schedule(e.cost.posted, EV['pi.notify'], irq, v.id);
  } else if (v.state === 'halted') {
    e.hop(
      'kvm.post',
      irq,
      from,
      at,
      'pending',
      `PIR ${hex(vector)} set, ON; vCPU ${v.id} blocked: kvm_vcpu_wake_up`,
    );
    v.state = 'running';
    piSetVcpuState(v, piNeedsWakeup(e));
    e.schedule(e.cost.wakeup + e.cost.vm_entry, EV['pi.sync'], irq, v.id);
  } else {
    e.hop(
      'kvm.post',
      irq,
      from,
      at,
      'pending',
      `PIR ${hex(vector)} set, ON; vCPU ${v.id} preempted: PIR waits for its next entry`,
    );
  }
}

/** vmx_sync_pir_to_irr outside a VM entry (the halt check's kvm_apic_has_interrupt). */
export function piSyncPirToIrr(e: Engine, v: Vcpu): void {
  piSyncToIrr(e, v, HOP['pi.sync']);
}

/** Moves every PIR bit into the LAPIC's IRR and clears ON. */
function piSyncToIrr(e: Engine, v: Vcpu, hop: number): void {
  const pi = v.pi;
  pi.on = false;
  const vectors = pi.pir;
  const irqs = pi.pir_irq;
  pi.pir = [];
  pi.pir_irq = [];
  for (let k = 0; k < vectors.length; k++) lapicSetIrr(e, irqs[k], v, vectors[k], e.nodeId(N_PI, v.id), hop);
  scheduleAccept(e, v, e.cost.lapic);
}

// The CPU's posted-interrupt processing on the notification vector, in guest mode: no VM exit.
on('pi.notify', (e, _irq, vcpuId) => {
  const v = e.state.kvm.vcpus[vcpuId];
  if (v.state !== 'running') return; // descheduled meanwhile: the bits stay in PIR until the next entry
  piSyncToIrr(e, v, HOP['pi.notify']);
});

// posted_intr.c: pi_wakeup_handler wakes the blocked vCPU; at VM entry vmx_sync_pir_to_irr moves PIR.
on('pi.wakeup', (e, irq, vcpuId) => {
  const v = e.state.kvm.vcpus[vcpuId];
  if (v.state === 'halted') {
    v.state = 'running';
    piSetVcpuState(v, piNeedsWakeup(e));
  }
  e.hop(
    'pi.wakeup',
    irq,
    `pi:${vcpuId}`,
    `lapic:${vcpuId}`,
    'pending',
    `wake-up vector on CPU ${v.pi.ndst}: vCPU ${vcpuId} woken`,
  );
  e.schedule(e.cost.vm_entry, EV['pi.sync'], irq, vcpuId);
});

on('pi.sync', (e, _irq, vcpuId) => {
  const v = e.state.kvm.vcpus[vcpuId];
  if (v.state !== 'running' || v.pi.pir.length === 0) return;
  piSyncToIrr(e, v, HOP['pi.sync']);
});

/**
 * vmx_pi_update_irte (arch/x86/kvm/vmx/posted_intr.c), as the irq-bypass consumer: recomputes every IRTE's
 * mode from the current producers (VFIO vectors with a trigger), consumers (irqfds on that eventfd) and
 * routes. Posted when the route targets a single vCPU with a postable delivery mode, else remapped. The
 * kernel updates one producer's IRTE per call (irq_set_vcpu_affinity -> intel_ir_set_vcpu_affinity, or
 * NULL to leave posted mode); recomputing all of them gives the IRTEs those calls leave, since each
 * follows its own producer's pairing (which irqbypass.ts keeps, a second producer on one token refused)
 * and its route. The IRTE's other writes are the host's
 * (linux/drivers/iommu/intel/irq_remapping.ts: irteAlloc, intelIrReconfigureIrte,
 * intelIrqRemappingActivate, called from kernel/irq/genirq.ts).
 */
export function vmxPiUpdateIrte(e: Engine): void {
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

irqBypassRegisterConsumer(vmxPiUpdateIrte);
