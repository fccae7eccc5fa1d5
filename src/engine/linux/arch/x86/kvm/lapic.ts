// The LAPIC of each vCPU as KVM emulates it (arch/x86/kvm/lapic.c): an interrupt sets its vector's IRR
// bit (__apic_accept_irq; a bit already set absorbs the new one: coalesced); the vCPU accepts the highest
// vector whose priority class beats the processor priority (TPR and the class in service; IRR to ISR);
// the guest's EOI clears ISR. Checked against KVM itself: oracle/kvm-fixtures/kvm-lapic.*.

import { on, placeSite, type Engine, NK } from '../../../../engine.ts';
import { EV } from '../../../../datapath.ts';
import type { Vcpu } from '../../../../types.ts';
import { hex } from '../../../../hex.ts';
import { HOP } from '../../../../hops.ts';
import { vecClear, vecGet, vecHighest, vecSet } from './vecset.ts';
import { defineDetail, OUT } from '../../../../sim/trace.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_LAPIC = NK['lapic'];

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
  const to = e.nodeId(N_LAPIC, vcpu.id);
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

export function scheduleAccept(e: Engine, vcpu: Vcpu, delay: number): void {
  if (vcpu.state !== 'running' || vcpu.accept_scheduled || vcpu.lapic.irr.length === 0) return;
  vcpu.accept_scheduled = true;
  e.schedule(delay, EV['lapic.accept'], 0, vcpu.id);
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

/**
 * Whether vector is a level-triggered IO-APIC vector of vCPU `apicId` (its EOI exits: EOI-exit bitmap):
 * kvm_ioapic_handles_vector (arch/x86/kvm/ioapic.c), a read of the IO-APIC's redirection entries. It is
 * here because the LAPIC asks it and the IO-APIC delivers into the LAPIC (ioapic.ts imports this file).
 */
export function ioapicLevelVector(e: Engine, apicId: number, vector: number): boolean {
  // a loop, not some(): a closure per guest EOI otherwise (issue 14)
  for (const p of e.state.kvm.ioapic)
    if (p.level && !p.masked && p.vector === vector && p.dest === apicId) return true;
  return false;
}

/** kvm_apic_has_interrupt: the IRR vector the LAPIC would deliver now, or -1 (held by PPR, or none). */
export function lapicHasInterrupt(l: Vcpu['lapic']): number {
  const hi = vecHighest(l.irr);
  if (hi < 0 || (hi & 0xf0) <= (lapicPpr(l) & 0xf0)) return -1;
  return hi;
}

on('lapic.accept', (e, _irq, vcpuId) => {
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
  e.hopf(hop, irq, e.nodeId(N_LAPIC, v.id), e.ids.guest, OUT.delivered, F_ACCEPT, vector, v.id, 0);
  e.delivered(irq, e.place(P_GUEST, vector, v.id, guestPlace));
  v.handled[vector] = (v.handled[vector] ?? 0) + 1;
  // A level-triggered IO-APIC vector: handle_fasteoi_irq runs the handler (which quiets the device),
  // then the EOI, which exits even under APICv (the EOI-exit bitmap) for kvm_ioapic_update_eoi
  if (ioapicLevelVector(e, v.apic_id, vector)) {
    e.schedule(e.cost.guest_handler, EV['guest.handler:fasteoi'], irq, v.id, vector);
    return;
  }
  // A Linux guest acks an edge vector before its handler runs: handle_edge_irq -> irq_ack ->
  // apic_ack_edge -> apic_eoi (arch/x86/kernel/apic/vector.c), a write KVM emulates (kvm_lapic_set_eoi).
  e.schedule(e.cost.eoi, EV['lapic.eoi'], irq, v.id, vector);
});

/** apic_set_eoi of a level vector (the EOI exits even under APICv): clears the top ISR bit; returns it. */
export function lapicLevelEoi(e: Engine, irq: number, v: Vcpu): number {
  const l = v.lapic;
  const top = vecHighest(l.isr);
  if (top >= 0) vecClear(l.isr, l.isr_irq, top);
  e.hopf(H_EOI, irq, e.ids.guest, e.nodeId(N_LAPIC, v.id), OUT.done, F_EOI, top, 0, 0);
  return top;
}

on('lapic.eoi', (e, irq, vcpuId, vector) => {
  const v = e.state.kvm.vcpus[vcpuId];
  const l = v.lapic;
  // apic_set_eoi clears the highest ISR bit (apic_find_highest_isr), whichever vector the handler had
  const top = vecHighest(l.isr);
  if (top >= 0) vecClear(l.isr, l.isr_irq, top);
  // APICv virtualizes the EOI of a vector outside the EOI-exit bitmap (edge MSIs): no VM exit
  const hop = e.state.kvm.apicv ? H_VEOI : H_EOI;
  e.hopf(hop, irq, e.ids.guest, e.nodeId(N_LAPIC, v.id), OUT.done, F_EOI, top, 0, 0);
  e.schedule(e.cost.guest_handler, EV['guest.handler'], irq, v.id, vector);
});
