// The LAPIC of each vCPU as KVM emulates it (arch/x86/kvm/lapic.c): an interrupt sets its vector's IRR
// bit (__apic_accept_irq; a bit already set absorbs the new one: coalesced); the vCPU accepts the highest
// vector whose priority class beats the processor priority (TPR and the class in service; IRR to ISR);
// the guest's EOI clears ISR. Checked against KVM itself: oracle/kvm-fixtures/kvm-lapic.*.

import { defineEvent, placeSite, type Engine } from '../../../../engine.ts';
import type { Vcpu } from '../../../../types.ts';
import { hex } from '../kernel/apic/msi.ts';
import { guestHandle } from '../../../../guest/driver.ts';
import { piNeedsWakeup, piSetVcpuState } from './vmx/posted_intr.ts';
import { HOP } from '../../../../hops.ts';
import { vecClear, vecGet, vecHighest, vecSet } from './vecset.ts';
import { ioapicLevelVector, kvmIoapicEoi } from './ioapic.ts';
import { defineDetail, OUT } from '../../../../sim/trace.ts';

const H_SET_IRR = HOP['kvm.set_irr'];
const H_COALESCED = HOP['kvm.coalesced'];
const H_ACCEPT = HOP['lapic.accept'];
const H_EOI = HOP['lapic.eoi'];
const H_VID = HOP['lapic.vid'];
const H_VEOI = HOP['lapic.veoi'];
const STATES = ['running', 'halted', 'preempted'] as const;
const F_IRR = defineDetail(
  (vector, state) => `IRR ${hex(vector)} set${state === 0 ? '' : `; vCPU ${STATES[state]}`}`,
);
const F_COALESCED = defineDetail((vector, into) => `IRR bit ${hex(vector)} already set by #${into}`);
const F_ACCEPT = defineDetail((vector, vcpu) => `vector ${hex(vector)} IRR to ISR on vCPU ${vcpu}`);
const F_EOI = defineDetail((vector) => `EOI: ISR ${hex(vector)} cleared`);
const P_IRR = placeSite();
const P_GUEST = placeSite();
const irrPlace = (_e: Engine, vcpu: number, vector: number): string => `vCPU ${vcpu} IRR[${hex(vector)}]`;
const guestPlace = (_e: Engine, vector: number, vcpu: number): string =>
  `guest vector ${hex(vector)} on vCPU ${vcpu}`;

/**
 * Sets IRR for `irq` (from: the node it comes from, an interned id); returns false when it coalesced
 * into an interrupt already requested.
 */
export function lapicSetIrr(
  e: Engine,
  irq: number,
  vcpu: Vcpu,
  vector: number,
  from: number,
  hop = H_SET_IRR,
): boolean {
  const l = vcpu.lapic;
  const to = e.node('lapic', vcpu.id);
  const where = e.place(P_IRR, vcpu.id, vector, irrPlace);
  const into = vecGet(l.irr, l.irr_irq, vector);
  if (into) {
    e.hopf(H_COALESCED, irq, from, to, OUT.coalesced, F_COALESCED, vector, into, 0);
    e.coalesced(irq, into, where);
    return false;
  }
  vecSet(l.irr, l.irr_irq, vector, irq);
  e.pending(irq, where);
  e.hopf(hop, irq, from, to, OUT.pending, F_IRR, vector, STATES.indexOf(vcpu.state), 0);
  return true;
}

/** After IRR changed: a running vCPU takes the interrupt at its next entry; a halted one is kicked. */
export function lapicKick(e: Engine, vcpu: Vcpu, irq: number): void {
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

export function scheduleAccept(e: Engine, vcpu: Vcpu, delay: number): void {
  if (vcpu.state !== 'running' || vcpu.accept_scheduled || vcpu.lapic.irr.length === 0) return;
  vcpu.accept_scheduled = true;
  e.schedule(delay, EV_ACCEPT, 0, vcpu.id);
}

/**
 * The processor priority (arch/x86/kvm/lapic.c: __apic_update_ppr): TPR when its class is at least the
 * highest in-service class, else that class with 0 below.
 */
export function lapicPpr(l: Vcpu['lapic']): number {
  const isrv = l.isr.length ? vecHighest(l.isr) : 0;
  return (l.tpr & 0xf0) >= (isrv & 0xf0) ? l.tpr & 0xff : isrv & 0xf0;
}

export function lapicSoftwareEnabled(l: Vcpu['lapic']): boolean {
  return (l.svr & 0x100) !== 0; // APIC_SPIV_APIC_ENABLED
}

// apic_has_interrupt_for_ppr: the highest IRR vector, if its class is above the processor priority's.
// Vectors 0-15 (class 0) never are: they stay in IRR. The guest takes nothing while its hard-irq handler
// runs with IF=0 (Linux: until the iret of common_interrupt).
function acceptable(v: Vcpu): number {
  if (v.in_irq) return -1;
  return lapicHasInterrupt(v.lapic);
}

/** kvm_apic_has_interrupt: the IRR vector the LAPIC would deliver now, or -1 (held by PPR, or none). */
export function lapicHasInterrupt(l: Vcpu['lapic']): number {
  const hi = vecHighest(l.irr);
  if (hi < 0 || (hi & 0xf0) <= (lapicPpr(l) & 0xf0)) return -1;
  return hi;
}

export const EV_ACCEPT = defineEvent('lapic.accept', (e, _irq, vcpuId) => {
  const v = e.state.kvm.vcpus[vcpuId];
  v.accept_scheduled = false;
  if (v.state !== 'running') return;
  const vector = acceptable(v);
  if (vector < 0) return;
  const l = v.lapic;
  const irq = vecClear(l.irr, l.irr_irq, vector);
  vecSet(l.isr, l.isr_irq, vector, irq);
  v.in_irq = true;
  // under APICv the CPU itself delivers the virtual interrupt (RVI to SVI), no KVM function runs
  const hop = e.state.kvm.apicv ? H_VID : H_ACCEPT;
  e.hopf(hop, irq, e.node('lapic', v.id), e.ids.guest, OUT.delivered, F_ACCEPT, vector, v.id, 0);
  e.delivered(irq, e.place(P_GUEST, vector, v.id, guestPlace));
  v.handled[vector] = (v.handled[vector] ?? 0) + 1;
  // A level-triggered IO-APIC vector: handle_fasteoi_irq runs the handler (which quiets the device),
  // then the EOI, which exits even under APICv (the EOI-exit bitmap) for kvm_ioapic_update_eoi
  if (ioapicLevelVector(e, v.apic_id, vector)) {
    e.schedule(e.cost.guest_handler, EV_LEVEL_HANDLER, irq, v.id, vector);
    return;
  }
  // A Linux guest acks an edge vector before its handler runs: handle_edge_irq -> irq_ack ->
  // apic_ack_edge -> apic_eoi (arch/x86/kernel/apic/vector.c), a write KVM emulates (kvm_lapic_set_eoi).
  e.schedule(e.cost.eoi, EV_EOI, irq, v.id, vector);
});

const EV_EOI = defineEvent('lapic.eoi', (e, irq, vcpuId, vector) => {
  const v = e.state.kvm.vcpus[vcpuId];
  const l = v.lapic;
  // apic_set_eoi clears the highest ISR bit (apic_find_highest_isr), whichever vector the handler had
  const top = vecHighest(l.isr);
  if (top >= 0) vecClear(l.isr, l.isr_irq, top);
  // APICv virtualizes the EOI of a vector outside the EOI-exit bitmap (edge MSIs): no VM exit
  const hop = e.state.kvm.apicv ? H_VEOI : H_EOI;
  e.hopf(hop, irq, e.ids.guest, e.node('lapic', v.id), OUT.done, F_EOI, top, 0, 0);
  e.schedule(e.cost.guest_handler, EV_HANDLER, irq, v.id, vector);
});

const EV_LEVEL_HANDLER = defineEvent('guest.handler.fasteoi', (e, irq, vcpuId, vector) => {
  guestHandle(e, irq, vcpuId, vector);
  e.schedule(e.cost.eoi, EV_LEVEL_EOI, irq, vcpuId, vector);
});

const EV_LEVEL_EOI = defineEvent('lapic.eoi.level', (e, irq, vcpuId, vector) => {
  const v = e.state.kvm.vcpus[vcpuId];
  const l = v.lapic;
  const top = vecHighest(l.isr);
  if (top >= 0) vecClear(l.isr, l.isr_irq, top);
  e.hopf(H_EOI, irq, e.ids.guest, e.node('lapic', v.id), OUT.done, F_EOI, top, 0, 0);
  // apic_set_eoi -> kvm_ioapic_send_eoi (a level vector: TMR set)
  kvmIoapicEoi(e, irq, v.apic_id, top >= 0 ? top : vector);
  v.in_irq = false;
  scheduleAccept(e, v, 0);
});

const EV_HANDLER = defineEvent('guest.handler', (e, irq, vcpuId, vector) => {
  guestHandle(e, irq, vcpuId, vector);
  // iret: interrupts enabled again, the next IRR vector can be taken
  const v = e.state.kvm.vcpus[vcpuId];
  v.in_irq = false;
  scheduleAccept(e, v, 0);
});

/**
 * KVM_SET_LAPIC of the registers irqflow models (a register copy: ISR and IRR unchanged), which resets
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
  lapicKick(e, v, 0);
}
