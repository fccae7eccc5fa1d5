// kvm_irq_delivery_to_apic (arch/x86/kvm/irq_comm.c) and the APIC map's fast path
// (arch/x86/kvm/lapic.c: kvm_irq_delivery_to_apic_fast, kvm_apic_map_get_dest_lapic,
// kvm_apic_map_get_logical_dest), for xAPIC guests without the x2APIC API, as pure functions over a
// list of LAPICs. Which LAPICs an interrupt reaches, and how many took it (KVM_SIGNAL_MSI's return), are
// checked against KVM itself: oracle/kvm-fixtures/kvm-dest.*, kvm-lowest-nohash.*, kvm-lapic.*.

import type { GsiRoute, Lapic } from '../../../../types.ts';
import type { Engine } from '../../../../engine.ts';

export const APIC_DM_FIXED = 0;
export const APIC_DM_LOWEST = 1;
export const APIC_DM_SMI = 2;
export const APIC_DM_REMRD = 3;
export const APIC_DM_NMI = 4;
export const APIC_DM_INIT = 5;
export const APIC_DM_STARTUP = 6;
export const APIC_DM_EXTINT = 7;
export const APIC_DFR_FLAT = 0xffffffff;
export const APIC_DFR_CLUSTER = 0x0fffffff;

/** struct kvm_lapic_irq as kvm_set_msi_irq fills it. */
export interface LapicIrq {
  dest_id: number;
  vector: number;
  logical: boolean;
  /** data bit 15 */
  trig_level: boolean;
  delivery_mode: number;
  msi_redir_hint: boolean;
  /** always 1 for an MSI (kvm_set_msi_irq); the line's level for the IO-APIC */
  level: boolean;
}

/** What the destination decoding needs of a vCPU's LAPIC. */
export interface ApicView {
  /** kvm_xapic_id: the APIC ID register's bits 31:24 */
  apic_id: number;
  lapic: Pick<Lapic, 'svr' | 'ldr' | 'dfr' | 'arb_prio'>;
}

/** kvm_set_msi_irq: the fields of an MSI address/data pair (address_hi ignored: no x2APIC API). */
export function kvmSetMsiIrq(address_lo: number, data: number): LapicIrq {
  return {
    dest_id: (address_lo >>> 12) & 0xff,
    vector: data & 0xff,
    logical: (address_lo & 4) !== 0,
    trig_level: (data & 0x8000) !== 0,
    delivery_mode: (data >>> 8) & 7,
    msi_redir_hint: (address_lo & 8) !== 0,
    level: true,
  };
}

const swEnabled = (a: ApicView): boolean => (a.lapic.svr & 0x100) !== 0;

/**
 * kvm_lowest_prio_delivery: lowest priority, or any mode with the redirection hint (which matters only for
 * a logical destination: kvm_apic_map_get_dest_lapic returns early for a physical one).
 */
export function kvmLowestPrioDelivery(irq: LapicIrq): boolean {
  return irq.delivery_mode === APIC_DM_LOWEST || irq.msi_redir_hint;
}

/** kvm_apic_match_logical_addr for xAPIC: the DFR compared whole (flat or cluster, else no match). */
function matchLogical(a: ApicView, mda: number): boolean {
  const id = a.lapic.ldr >>> 24;
  if (a.lapic.dfr >>> 0 === APIC_DFR_FLAT) return (id & mda) !== 0;
  if (a.lapic.dfr >>> 0 === APIC_DFR_CLUSTER) return id >>> 4 === mda >>> 4 && (id & mda & 0xf) !== 0;
  return false;
}

/** kvm_apic_match_dest (no shorthand): 0xff is the xAPIC broadcast in either mode. */
export function kvmApicMatchDest(a: ApicView, dest: number, logical: boolean): boolean {
  if (dest === 0xff) return true;
  return logical ? matchLogical(a, dest) : dest === a.apic_id;
}

/** kvm_vector_to_index: the (vector mod n)-th set bit of `bits` (ascending). */
function vectorToIndex(vector: number, bits: number[]): number {
  return bits[vector % bits.length];
}

/**
 * The destinations of `irq` and how the count is formed: `dest` lists the LAPIC indexes the interrupt is
 * offered to (each then runs __apic_accept_irq), `slow` says whether no destination at all gives -1
 * (the slow path's initial r) rather than 0.
 */
export function kvmIrqDestinations(
  apics: ApicView[],
  input: LapicIrq,
  vectorHashing: boolean,
): { dest: number[]; slow: boolean; irq: LapicIrq } {
  let irq = input;
  // kvm_irq_delivery_to_apic: "phys broadcast and lowest prio" becomes fixed (the hint stays: with rh=1 it
  // is still lowest priority, oracle kvm-dest:lp-rh-phys reaches one LAPIC)
  if (!irq.logical && irq.dest_id === 0xff && kvmLowestPrioDelivery(irq))
    irq = { ...irq, delivery_mode: APIC_DM_FIXED };
  const lowest = kvmLowestPrioDelivery(irq);
  const fast = mapDestinations(apics, irq);
  if (fast) {
    const present = fast.bits.filter((i) => fast.dst[i] !== undefined);
    if (!lowest || !irq.logical) return { dest: present.map((i) => fast.dst[i]!), slow: false, irq };
    if (!vectorHashing) {
      // the lowest apic_arb_prio; ties go to the lowest bit (kvm_apic_compare_prio < 0)
      let best = -1;
      for (const i of present)
        if (best < 0 || apics[fast.dst[i]!].lapic.arb_prio < apics[fast.dst[best]!].lapic.arb_prio) best = i;
      return { dest: best < 0 ? [] : [fast.dst[best]!], slow: false, irq };
    }
    if (fast.bits.length === 0) return { dest: [], slow: false, irq };
    // the index is taken over the destination's bits, LAPIC or not: a bit with none drops the interrupt
    // (kvm_apic_disabled_lapic_found)
    const pick = fast.dst[vectorToIndex(irq.vector, fast.bits)];
    return { dest: pick === undefined ? [] : [pick], slow: false, irq };
  }
  // the slow path: every present LAPIC in vCPU order
  const dest: number[] = [];
  const candidates: number[] = [];
  apics.forEach((a, i) => {
    if (!kvmApicMatchDest(a, irq.dest_id, irq.logical)) return;
    if (!lowest) dest.push(i);
    else if (swEnabled(a)) candidates.push(i);
  });
  if (!lowest) return { dest, slow: true, irq };
  if (candidates.length === 0) return { dest: [], slow: true, irq };
  if (vectorHashing) return { dest: [vectorToIndex(irq.vector, candidates)], slow: true, irq };
  let best = candidates[0];
  for (const i of candidates) if (apics[i].lapic.arb_prio < apics[best].lapic.arb_prio) best = i;
  return { dest: [best], slow: true, irq };
}

/**
 * kvm_apic_map_get_dest_lapic: null when the map cannot answer (broadcast, or a logical destination
 * under mixed flat/cluster LAPICs); else the destination bits and the LAPIC at each bit. Physical: the
 * first LAPIC with that xAPIC ID (software-disabled ones included). Logical: the software-enabled LAPICs
 * with a non-zero LDR, at the lowest bit of their logical id (flat: bits 7:0; cluster: the member bits
 * 3:0 within cluster bits 7:4).
 */
function mapDestinations(
  apics: ApicView[],
  irq: LapicIrq,
): { bits: number[]; dst: (number | undefined)[] } | null {
  if (irq.dest_id === 0xff) return null;
  if (!irq.logical) {
    const i = apics.findIndex((a) => a.apic_id === irq.dest_id);
    return i < 0 ? { bits: [], dst: [] } : { bits: [0], dst: [i] };
  }
  let flat = false;
  let cluster = false;
  apics.forEach((a) => {
    if (!swEnabled(a) || a.lapic.ldr >>> 24 === 0) return;
    if (a.lapic.dfr >>> 0 === APIC_DFR_FLAT) flat = true;
    else cluster = true;
  });
  if (flat === cluster) return null; // mixed, or no logical LAPIC at all: not optimized
  const dst: (number | undefined)[] = [];
  apics.forEach((a, i) => {
    const id = a.lapic.ldr >>> 24;
    if (!swEnabled(a) || id === 0) return;
    if (flat) dst[ctz(id)] = i;
    else if (id >>> 4 === irq.dest_id >>> 4 && (id & 0xf) !== 0) dst[ctz(id & 0xf)] = i;
  });
  const mask = flat ? irq.dest_id & 0xff : irq.dest_id & 0xf;
  const bits: number[] = [];
  for (let b = 0; b < 16; b++) if (mask & (1 << b)) bits.push(b);
  return { bits, dst };
}

function ctz(x: number): number {
  let n = 0;
  while (n < 32 && !(x & (1 << n))) n++;
  return n;
}

/**
 * kvm_intr_is_single_vcpu (arch/x86/kvm/lapic.c, irq_comm.c), what posting asks (vmx_pi_update_irte): the
 * APIC map's answer when its bitmap, lowest priority narrowed, has exactly one bit with a LAPIC; else
 * every present LAPIC matching the destination is counted, lowest priority or not, and exactly one must.
 * So a lowest-priority broadcast, or a logical one under mixed LAPICs, reaching several is not postable.
 */
export function kvmIntrIsSingleVcpu(apics: ApicView[], irq: LapicIrq, vectorHashing: boolean): number | null {
  const fast = mapDestinations(apics, irq);
  if (fast) {
    let bits = fast.bits;
    if (kvmLowestPrioDelivery(irq) && irq.logical) {
      const t = kvmIrqDestinations(apics, irq, vectorHashing);
      bits = t.dest.length === 1 ? [fast.dst.indexOf(t.dest[0])] : [];
    }
    if (bits.length === 1 && fast.dst[bits[0]] !== undefined) return fast.dst[bits[0]]!;
  }
  const match = apics.flatMap((a, i) => (kvmApicMatchDest(a, irq.dest_id, irq.logical) ? [i] : []));
  return match.length === 1 ? match[0] : null;
}

/**
 * The vCPUs an MSI reaches, as KVM decodes it (arch/x86/kvm/irq_comm.c: kvm_set_msi_irq, then
 * kvm_irq_delivery_to_apic; the decoding is shared with `irqflow probe --kvm`: this file, checked
 * against KVM itself, oracle/kvm-fixtures/kvm-dest.*) for an xAPIC guest without the x2APIC API. Lowest
 * priority (mode 1, or the redirection hint) picks one LAPIC by vector hashing (KVM's default): on the
 * APIC map's fast path the index runs over the destination's logical bits, so a bit with no LAPIC drops
 * the interrupt; broadcasts and mixed flat/cluster LAPICs take the slow path (vCPU order). (apic_arb_prio
 * matters only with vector_hashing=0, which the probe models and the page does not offer.) Every
 * delivery mode takes the same destination decoding; what the LAPIC does with a mode other than
 * fixed/lowest is __apic_accept_irq's switch (kvmAcceptOther, virt/kvm/eventfd.ts).
 */
export function routeTargets(
  e: Engine,
  r: Pick<GsiRoute, 'address_lo' | 'data'>,
): { vcpus: number[]; vector: number; mode: number } {
  const irq = kvmSetMsiIrq(r.address_lo, r.data);
  const t = kvmIrqDestinations(e.state.kvm.vcpus, irq, true);
  return { vcpus: t.dest, vector: irq.vector, mode: irq.delivery_mode };
}

/** The single vCPU an MSI reaches, or null: what posting needs (kvm_intr_is_single_vcpu). */
export function routeTarget(e: Engine, r: GsiRoute): { vcpu: number; vector: number } | null {
  const irq = kvmSetMsiIrq(r.address_lo, r.data);
  const vcpu = kvmIntrIsSingleVcpu(e.state.kvm.vcpus, irq, true);
  return vcpu === null ? null : { vcpu, vector: irq.vector };
}
