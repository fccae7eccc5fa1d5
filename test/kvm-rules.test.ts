// KVM's LAPIC and MSI destination rules, as the KVM oracle recorded them on 6.1 and 6.12
// (oracle/kvm-fixtures/kvm-lapic.*, kvm-dest.*; oracle/FINDINGS.md section 10). Each test names the
// fixture line that settles it and the function in arch/x86/kvm that implements it.
import { describe, expect, it } from 'vitest';
import { ok } from './apply-ok.ts';
import { createSystem, type Command, type System } from '../src/engine/index.ts';

const four = (): System =>
  createSystem({ vm: { vcpus: 4 }, devices: [{ name: 'nic0', msix: { table_size: 1 } }] });

/** fields -> an xAPIC MSI (kvm-probe.c's MSG syntax) */
function msi(dest: number, vec: number, o: { log?: boolean; rh?: boolean; dlv?: number } = {}): Command {
  const address_lo = (0xfee00000 | (dest << 12) | (o.rh ? 8 : 0) | (o.log ? 4 : 0)) >>> 0;
  return { op: 'kvm.signalMsi', address_lo, data: ((o.dlv ?? 0) << 8) | vec };
}

/** vCPUs that took vector `vec` so far. */
function takers(sys: System, vec: number): number[] {
  return sys.snapshot().state.kvm.vcpus.flatMap((v) => (v.handled[vec] ? [v.id] : []));
}

describe('the LAPIC (arch/x86/kvm/lapic.c)', () => {
  it('a vector is taken only when its class is above PPR: TPR 0x50 holds 0x45 and 0x55, lets 0x65 go (kvm-lapic run-tpr)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, tpr: 0x50 });
    for (const v of [0x45, 0x55, 0x65]) ok(sys, msi(0, v));
    ok(sys, { op: 'run' });
    const l = sys.snapshot().state.kvm.vcpus[0];
    expect(l.handled).toEqual({ [0x65]: 1 });
    expect(l.lapic.irr).toEqual([0x45, 0x55]);
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, tpr: 0x48 }); // class 4: 0x55 goes, 0x45 stays
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.kvm.vcpus[0].lapic.irr).toEqual([0x45]);
  });

  it('vectors 0-15 are accepted into IRR and never delivered (kvm-lapic lapic-vec-5-done)', () => {
    const sys = four();
    ok(sys, msi(0, 5));
    ok(sys, { op: 'run' });
    const v = sys.snapshot().state.kvm.vcpus[0];
    expect(v.lapic.irr).toEqual([5]);
    expect(v.handled).toEqual({});
  });

  it('a software-disabled LAPIC takes no fixed interrupt (kvm-lapic: msi to svr 0xff, ret 0)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, svr: 0xff });
    const id = ok(sys, msi(0, 0x41));
    ok(sys, { op: 'run' });
    expect(sys.snapshot().interrupts.find((x) => x.id === id)).toMatchObject({
      fate: 'dropped',
      where: 'LAPIC software-disabled',
    });
  });

  it('a Linux guest EOIs an edge vector before its handler (handle_edge_irq -> apic_ack_edge)', () => {
    const sys = four();
    ok(sys, msi(1, 0x41));
    const hops = [];
    for (let i = 0; i < 20 && !sys.idle(); i++) hops.push(...sys.step().map((h) => h.hop));
    expect(hops.indexOf('lapic.eoi')).toBeLessThan(hops.indexOf('guest.handler'));
  });
});

describe('MSI destinations (kvm_set_msi_irq, kvm_irq_delivery_to_apic, kvm_apic_match_dest)', () => {
  it('physical broadcast reaches every software-enabled LAPIC (kvm-dest phys-bcast 3 with one disabled)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 3, svr: 0xff });
    ok(sys, msi(0xff, 0x50));
    ok(sys, { op: 'run' });
    expect(takers(sys, 0x50)).toEqual([0, 1, 2]);
    const s = sys.snapshot();
    expect(s.state.counters.raised).toBe(4); // one interrupt per LAPIC: the original and three copies
    expect(s.state.counters.delivered + s.state.counters.dropped).toBe(4);
  });

  it('logical flat: LDR[31:24] & dest (kvm-dest flat-6 reaches 2)', () => {
    const sys = four();
    ok(sys, msi(0x06, 0x51, { log: true }));
    ok(sys, { op: 'run' });
    expect(takers(sys, 0x51)).toEqual([1, 2]);
  });

  it('logical cluster: same cluster, a common member bit (kvm-dest cluster-13 reaches 2)', () => {
    const sys = four();
    const ldr = [0x11, 0x12, 0x21, 0x22];
    ldr.forEach((id, vcpu) => ok(sys, { op: 'kvm.setLapic', vcpu, ldr: id << 24, dfr: 0x0fffffff }));
    ok(sys, msi(0x13, 0x52, { log: true }));
    ok(sys, msi(0x21, 0x53, { log: true }));
    ok(sys, { op: 'run' });
    expect(takers(sys, 0x52)).toEqual([0, 1]);
    expect(takers(sys, 0x53)).toEqual([2]);
  });

  it('lowest priority with vector hashing: the (vector mod n)-th match, TPR ignored (kvm-dest 0x70..0x74)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 2, tpr: 0xf0 });
    for (const v of [0x70, 0x71, 0x73, 0x74]) ok(sys, msi(0x0f, v, { log: true, dlv: 1 }));
    ok(sys, { op: 'run' });
    const irr = sys
      .snapshot()
      .state.kvm.vcpus.map((v) => [...v.lapic.irr, ...Object.keys(v.handled).map(Number)]);
    expect(irr).toEqual([[0x70, 0x74], [0x71], [], [0x73]]);
    ok(sys, msi(0x0f, 0x72, { log: true, dlv: 1 }));
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.kvm.vcpus[2].lapic.irr).toEqual([0x72]); // chosen, held by its TPR
  });

  it('physical broadcast with lowest priority goes to all; with a redirection hint to one (kvm-dest lp-bcast, lp-rh-phys)', () => {
    const sys = four();
    ok(sys, msi(0xff, 0x60, { dlv: 1 }));
    ok(sys, msi(0xff, 0x61, { rh: true }));
    ok(sys, { op: 'run' });
    expect(takers(sys, 0x60)).toEqual([0, 1, 2, 3]);
    expect(takers(sys, 0x61)).toHaveLength(1);
  });

  it('__apic_accept_irq: an NMI message is delivered as an NMI (kvm_inject_nmi), not through the IRR, SVR not consulted', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, svr: 0xff }); // software-disabled: a fixed one would be lost
    const id = ok(sys, msi(0, 2, { dlv: 4 }));
    ok(sys, { op: 'run' });
    const s = sys.snapshot();
    expect(s.interrupts.find((x) => x.id === id)).toMatchObject({ fate: 'delivered', where: 'vCPU 0 NMI' });
    expect(s.state.kvm.vcpus[0].lapic.irr).toEqual([]);
    expect(s.state.kvm.vcpus[0].handled).toEqual({});
    const hop = sys.traceSlice(0, sys.traceLength()).find((h) => h.hop === 'kvm.accept_other')!;
    expect(hop.fn).toBe('__apic_accept_irq');
  });

  it('__apic_accept_irq: a broadcast NMI reaches every vCPU (kvm_irq_delivery_to_apic decodes the destination as for fixed)', () => {
    const sys = four();
    ok(sys, msi(0xff, 0, { dlv: 4 }));
    ok(sys, { op: 'run' });
    const nmis = sys.snapshot().interrupts.filter((x) => x.where?.endsWith(' NMI'));
    expect(nmis.map((x) => x.where).sort()).toEqual(['vCPU 0 NMI', 'vCPU 1 NMI', 'vCPU 2 NMI', 'vCPU 3 NMI']);
  });

  it('__apic_accept_irq: SMI enters SMM; INIT, SIPI, RemRd and ExtINT are named outcomes, never a silent drop', () => {
    const sys = four();
    const want: [number, string, string][] = [
      [2, 'delivered', 'vCPU 0 SMM'],
      [5, 'dropped', 'INIT: the vCPU reset is not modelled'],
      [6, 'dropped', 'SIPI to a vCPU not waiting for one'],
      [3, 'dropped', 'RemRd: PV unhalt, no interrupt'],
      [7, 'dropped', 'ExtINT MSI ignored by __apic_accept_irq'],
    ];
    const ids = want.map(([dlv]) => ok(sys, msi(0, 0x30, { dlv })));
    ok(sys, { op: 'run' });
    const s = sys.snapshot();
    ids.forEach((id, i) =>
      expect(s.interrupts.find((x) => x.id === id)).toMatchObject({ fate: want[i][1], where: want[i][2] }),
    );
  });

  it('an irqfd through an NMI route takes the same path (irqfd_wakeup -> kvm_set_msi -> __apic_accept_irq)', () => {
    const sys = four();
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, { op: 'kvm.route', gsi: 40, address_lo: 0xfee01000, address_hi: 0, data: 0x400 });
    ok(sys, { op: 'kvm.irqfd', fd, gsi: 40 });
    const id = ok(sys, { op: 'eventfd.signal', fd });
    ok(sys, { op: 'run' });
    expect(sys.snapshot().interrupts.find((x) => x.id === id)).toMatchObject({
      fate: 'delivered',
      where: 'vCPU 1 NMI',
    });
  });

  it('HLT blocks with only a vector held by TPR in IRR (kvm_arch_vcpu_runnable -> kvm_cpu_has_interrupt)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, tpr: 0x50 });
    ok(sys, msi(0, 0x45));
    ok(sys, { op: 'run' });
    ok(sys, { op: 'kvm.vcpu', vcpu: 0, state: 'halted' });
    expect(sys.snapshot().state.kvm.vcpus[0].state).toBe('halted');
    ok(sys, msi(0, 0x65)); // above PPR: wakes it
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.kvm.vcpus[0]).toMatchObject({ state: 'running', handled: { [0x65]: 1 } });
  });

  it('KVM_SET_LAPIC lowering TPR wakes a halted vCPU with a vector now above PPR (kvm_vcpu_check_block)', () => {
    const sys = four();
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, tpr: 0xf0 });
    ok(sys, { op: 'kvm.vcpu', vcpu: 0, state: 'halted' });
    ok(sys, msi(0, 0x41));
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.kvm.vcpus[0].state).toBe('halted');
    ok(sys, { op: 'kvm.setLapic', vcpu: 0, tpr: 0 });
    ok(sys, { op: 'run' });
    expect(sys.snapshot().state.kvm.vcpus[0]).toMatchObject({ state: 'running', handled: { [0x41]: 1 } });
  });

  it('KVM_IRQFD deassign reads the count away (irqfd_shutdown: eventfd_ctx_remove_wait_queue)', () => {
    const sys = four();
    const fd = ok(sys, { op: 'eventfd.create' }) as number;
    ok(sys, { op: 'eventfd.signal', fd });
    ok(sys, { op: 'kvm.irqfd', fd, gsi: 40 });
    ok(sys, { op: 'run' });
    ok(sys, { op: 'kvm.irqfd', fd, gsi: 40, deassign: true });
    expect(ok(sys, { op: 'eventfd.read', fd })).toBe(0);
  });
});

describe('lowest priority on the APIC map fast path (arch/x86/kvm/lapic.c: kvm_apic_map_get_dest_lapic)', () => {
  it('vector hashing indexes the logical destination bits, LAPIC or not: a bit without one drops the MSI (kvm_vector_to_index, kvm_apic_disabled_lapic_found)', () => {
    const sys = four(); // flat LDRs 0x01, 0x02, 0x04, 0x08 (a Linux guest's flat_init_apic_ldr)
    // dest 0x13: bits 0, 1 and 4 (no LAPIC at bit 4); 0x72 % 3 = 0 -> bit 0, vCPU 0
    ok(sys, msi(0x13, 0x72, { log: true, dlv: 1 }));
    // 0x74 % 3 = 2 -> bit 4: nobody, although vCPUs 0 and 1 match
    const dropped = ok(sys, msi(0x13, 0x74, { log: true, dlv: 1 }));
    ok(sys, { op: 'run' });
    expect(takers(sys, 0x72)).toEqual([0]);
    expect(takers(sys, 0x74)).toEqual([]);
    expect(sys.snapshot().interrupts.find((x) => x.id === dropped)?.fate).toBe('dropped');
  });
});
