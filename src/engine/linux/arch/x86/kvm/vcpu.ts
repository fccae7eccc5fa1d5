// vCPU scheduling states as they matter for interrupt delivery (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c,
// arch/x86/kvm/vmx/posted_intr.c): a running vCPU executes HLT and blocks (halted) unless an interrupt is
// already pending (kvm_vcpu_check_block: kvm_arch_vcpu_runnable); the host preempts a running vCPU;
// a halted or preempted vCPU runs again. The posted-interrupt descriptor follows (vmx_vcpu_pi_put /
// vmx_vcpu_pi_load): SN while preempted, NV = wake-up vector while blocked. Also what sits above the LAPIC
// and the posted-interrupt code: kvm_vcpu_kick, KVM_SET_LAPIC, and the delivery to one vCPU (kvmDeliver).

import type { Engine } from '../../../../engine.ts';
import { EV } from '../../../../datapath.ts';
import type { Vcpu } from '../../../../types.ts';
import { raise } from '../../../../errno.ts';
import {
  piDeliverPostedInterrupt,
  piNeedsWakeup,
  piSetVcpuState,
  piSyncPirToIrr,
} from './vmx/posted_intr.ts';
import { lapicHasInterrupt, lapicPpr, lapicSetIrr, lapicSoftwareEnabled, scheduleAccept } from './lapic.ts';
import { hex } from '../../../../hex.ts';

export function vcpuSetState(e: Engine, v: Vcpu, next: Vcpu['state']): string {
  if (next === v.state) return `vCPU ${v.id} already ${next}`;
  if (next !== 'running' && v.state !== 'running')
    raise(
      'EINVAL',
      `vCPU ${v.id} is ${v.state}: only a running vCPU can ${next === 'halted' ? 'execute HLT' : 'be preempted'}`,
      'state',
    );
  // kvm_arch_vcpu_runnable -> kvm_cpu_has_interrupt -> kvm_apic_has_interrupt, which first moves PIR into
  // IRR (vmx_sync_pir_to_irr): only a vector above PPR keeps it runnable (one held by TPR, or a vector
  // 0-15, does not), whether it was posted or set in IRR
  if (next === 'halted' && v.pi.pir.length > 0) piSyncPirToIrr(e, v);
  if (next === 'halted' && lapicHasInterrupt(v.lapic) >= 0) {
    // The interrupt already pending makes the vCPU runnable: HLT does not block.
    scheduleAccept(e, v, e.cost.vm_entry);
    return `vCPU ${v.id} stays running: an interrupt is pending (kvm_arch_vcpu_runnable)`;
  }
  v.state = next;
  piSetVcpuState(v, piNeedsWakeup(e));
  if (next === 'running') {
    // vmx_vcpu_pi_load sets ON when PIR is not empty; VM entry then runs vmx_sync_pir_to_irr
    if (v.pi.pir.length > 0) {
      v.pi.on = true;
      e.schedule(e.cost.vm_entry, EV['pi.sync'], 0, v.id);
    }
    scheduleAccept(e, v, e.cost.vm_entry);
  }
  return `vCPU ${v.id} ${next}`;
}

/** kvm_vcpu_kick (virt/kvm/kvm_main.c), after IRR changed: a running vCPU takes the interrupt at its next entry; a halted one is kicked. */
export function kvmVcpuKick(e: Engine, vcpu: Vcpu, irq: number): void {
  // kvm_vcpu_kick wakes a blocked vCPU, which blocks again unless something can be delivered now
  if (vcpu.state === 'halted' && lapicHasInterrupt(vcpu.lapic) >= 0) {
    vcpu.state = 'running';
    piSetVcpuState(vcpu, piNeedsWakeup(e)); // vmx_vcpu_pi_load: NV back to the notification vector
    e.hop(
      'kvm.kick',
      irq,
      'kvm',
      `lapic:${vcpu.id}`,
      'forwarded',
      `vCPU ${vcpu.id} halted: woken to take the interrupt`,
    );
  }
  scheduleAccept(e, vcpu, e.cost.vm_entry);
}

/**
 * KVM_SET_LAPIC (arch/x86/kvm/x86.c: kvm_vcpu_ioctl_set_lapic -> kvm_apic_set_state) of the registers irqflow models (a register copy: ISR and IRR unchanged), which resets
 * the lowest-priority arbitration (apic_arb_prio = 0; oracle kvm-lowest-nohash: lp-tpr2). A new TPR or
 * an enabled LAPIC may let an IRR vector through.
 */
export function lapicSetRegs(
  e: Engine,
  v: Vcpu,
  regs: { tpr?: number; svr?: number; ldr?: number; dfr?: number },
): void {
  const l = v.lapic;
  if (regs.tpr !== undefined) l.tpr = regs.tpr & 0xff;
  if (regs.svr !== undefined) l.svr = regs.svr >>> 0;
  // a register copy as given (the MMIO write path's fix-ups do not apply to KVM_SET_LAPIC)
  if (regs.ldr !== undefined) l.ldr = regs.ldr >>> 0;
  if (regs.dfr !== undefined) l.dfr = regs.dfr >>> 0;
  l.arb_prio = 0;
  e.hop(
    'kvm.set_lapic',
    0,
    'vmm',
    `lapic:${v.id}`,
    'done',
    `vCPU ${v.id}: TPR ${hex(l.tpr)} PPR ${hex(lapicPpr(l))} SVR ${hex(l.svr)} LDR ${hex(l.ldr)} DFR ${hex(l.dfr)}`,
  );
  // a halted vCPU's next KVM_RUN finds a vector above the new PPR: kvm_vcpu_check_block unblocks it
  kvmVcpuKick(e, v, 0);
}

/**
 * kvm_irq_delivery_to_apic's step for one destination vCPU (arch/x86/kvm/lapic.c: __apic_accept_irq;
 * under APICv vmx_deliver_interrupt posts it), then kvm_vcpu_kick. Here, above the LAPIC and the
 * posted-interrupt code, so both import nothing of the other: the IO-APIC, the irqfd and KVM_SIGNAL_MSI
 * all deliver through it.
 */
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
  if (lapicSetIrr(e, irq, v, vector, from === 'kvm' ? e.ids.kvm : e.sid(from))) kvmVcpuKick(e, v, irq);
}
