// APICv and the posted-interrupt descriptor as KVM drives them (issue 13 items 3, 10, 16), from the
// source: arch/x86/kvm/vmx/vmx.c (vmx_deliver_interrupt, __vmx_deliver_posted_interrupt,
// kvm_vcpu_trigger_posted_interrupt), arch/x86/kvm/vmx/posted_intr.c (vmx_vcpu_pi_load / _put,
// vmx_needs_pi_wakeup), arch/x86/kvm/lapic.c. TCG emulates no VMX, so no oracle checks these.
import { describe, expect, it } from 'vitest';
import { ok } from './apply-ok.ts';
import { createSystem, hopFn, HOPS, type System } from '../src/engine/index.ts';

const sys = (o: { apicv?: boolean; posted?: boolean; vcpus?: number; cpus?: number } = {}): System =>
  createSystem({
    vm: { vcpus: o.vcpus ?? 2, ...(o.apicv === undefined ? {} : { apicv: o.apicv }) },
    iommu: { posted_interrupts: o.posted ?? false },
    host: { cpus: o.cpus ?? 8 },
    devices: [{ name: 'nic0', msix: { table_size: 1 } }],
  });
const msi = (dest: number, vec: number) =>
  ({ op: 'kvm.signalMsi', address_lo: (0xfee00000 | (dest << 12)) >>> 0, data: vec }) as const;

const trace = (s: System) => s.traceSlice(0, s.traceLength());
function hopsOf(s: System, irq: number): string[] {
  return trace(s)
    .filter((h) => h.irq === irq)
    .map((h) => h.hop);
}

describe('APICv (issue 13 item 3)', () => {
  it('is on by default exactly when posted interrupts are (vmx_can_use_vtd_pi needs enable_apicv)', () => {
    expect(sys().snapshot().state.kvm.apicv).toBe(false);
    expect(sys({ posted: true }).snapshot().state.kvm.apicv).toBe(true);
    expect(sys({ apicv: true }).snapshot().state.kvm.apicv).toBe(true);
  });

  it('without APICv KVM injects through IRR and a kick (vmx_deliver_interrupt: vmx_deliver_posted_interrupt returns -1)', () => {
    const s = sys();
    const irq = ok(s, msi(1, 0x41)) as number;
    ok(s, { op: 'run' });
    expect(hopsOf(s, irq)).toEqual(expect.arrayContaining(['kvm.set_irr', 'lapic.accept', 'lapic.eoi']));
    expect(hopsOf(s, irq)).not.toContain('kvm.post');
  });

  it('with APICv KVM sets PIR and ON and sends POSTED_INTR_VECTOR; the CPU delivers the virtual interrupt and virtualizes the EOI', () => {
    const s = sys({ apicv: true });
    const irq = ok(s, msi(1, 0x41)) as number;
    const v1 = s.snapshot().state.kvm.vcpus[1];
    expect(v1.pi.pir).toEqual([0x41]);
    expect(v1.pi.on).toBe(true);
    ok(s, { op: 'run' });
    const hops = hopsOf(s, irq);
    expect(hops).toEqual(expect.arrayContaining(['kvm.post', 'pi.notify', 'lapic.vid', 'lapic.veoi']));
    expect(hops).not.toContain('lapic.accept');
    expect(s.snapshot().state.kvm.vcpus[1].handled).toEqual({ [0x41]: 1 });
  });

  it('a second vector while ON is set only adds its PIR bit (pi_test_and_set_on: the notification is outstanding)', () => {
    const s = sys({ apicv: true });
    ok(s, msi(0, 0x41));
    const second = ok(s, msi(0, 0x42)) as number;
    expect(trace(s).filter((h) => h.irq === second && h.hop === 'kvm.post')[0].detail).toMatch(
      /ON already set/,
    );
    ok(s, { op: 'run' });
    expect(s.snapshot().state.kvm.vcpus[0].handled).toEqual({ [0x41]: 1, [0x42]: 1 });
  });

  it("KVM's posting ignores SN: a preempted vCPU gets PIR and ON, and takes the vector at its next entry", () => {
    const s = sys({ posted: true });
    ok(s, { op: 'kvm.vcpu', vcpu: 0, state: 'preempted' });
    expect(s.snapshot().state.kvm.vcpus[0].pi.sn).toBe(true);
    ok(s, msi(0, 0x51));
    ok(s, { op: 'run' });
    const v = s.snapshot().state.kvm.vcpus[0];
    expect(v.pi.pir).toEqual([0x51]);
    expect(v.pi.on).toBe(true);
    expect(v.handled).toEqual({});
    ok(s, { op: 'kvm.vcpu', vcpu: 0, state: 'running' });
    ok(s, { op: 'run' });
    expect(s.snapshot().state.kvm.vcpus[0].handled).toEqual({ [0x51]: 1 });
  });

  it('a halted vCPU is woken by kvm_vcpu_wake_up, not by the wake-up vector', () => {
    const s = sys({ apicv: true });
    ok(s, { op: 'kvm.vcpu', vcpu: 1, state: 'halted' });
    const irq = ok(s, msi(1, 0x61)) as number;
    ok(s, { op: 'run' });
    expect(hopsOf(s, irq)).not.toContain('pi.wakeup');
    expect(s.snapshot().state.kvm.vcpus[1]).toMatchObject({ state: 'running', handled: { [0x61]: 1 } });
  });
});

describe('the posted-interrupt descriptor (issue 13 item 16)', () => {
  it('NV is the wake-up vector only while posting is in use (vmx_needs_pi_wakeup) and the vCPU blocks', () => {
    const posted = sys({ posted: true });
    ok(posted, { op: 'kvm.vcpu', vcpu: 1, state: 'halted' });
    expect(posted.snapshot().state.kvm.vcpus[1].pi.nv).toBe(0xf1); // POSTED_INTR_WAKEUP_VECTOR
    const apicvOnly = sys({ apicv: true });
    ok(apicvOnly, { op: 'kvm.vcpu', vcpu: 1, state: 'halted' });
    ok(apicvOnly, { op: 'kvm.vcpu', vcpu: 0, state: 'preempted' });
    // vmx_vcpu_pi_put returns at once: NV stays POSTED_INTR_VECTOR, SN stays clear
    expect(apicvOnly.snapshot().state.kvm.vcpus[1].pi.nv).toBe(0xf2);
    expect(apicvOnly.snapshot().state.kvm.vcpus[0].pi.sn).toBe(false);
  });

  it("NDST is the physical APIC id of the vCPU's pCPU (vmx_vcpu_pi_load: cpu_physical_id), vCPU i on host CPU i mod cpus", () => {
    const s = sys({ posted: true, vcpus: 6, cpus: 4 });
    expect(s.snapshot().state.kvm.vcpus.map((v) => v.pi.ndst)).toEqual([0, 1, 2, 3, 0, 1]);
  });
});

describe('function names per release (issue 13 item 10)', () => {
  it('6.1 and 6.12 take the LAPIC vector through kvm_get_apic_interrupt (kvm_apic_ack_interrupt split out for 6.13)', () => {
    const accept = HOPS.findIndex((h) => h.key === 'lapic.accept');
    for (const p of ['6.1', '6.12'] as const)
      expect(hopFn(accept, 'merged', p)).toMatch(/^kvm_get_apic_interrupt@/);
    const vid = HOPS.findIndex((h) => h.key === 'lapic.vid');
    expect(hopFn(vid, 'merged', '6.12')).toMatch(/^hw: virtual-interrupt delivery/);
  });
});

describe('the halt check (leftover of issue 13)', () => {
  it('PIR is synced into IRR before HLT decides (kvm_apic_has_interrupt -> vmx_sync_pir_to_irr): a posted vector held by TPR lets the vCPU block', () => {
    const s = sys({ apicv: true });
    ok(s, { op: 'kvm.setLapic', vcpu: 0, tpr: 0x50 });
    ok(s, msi(0, 0x45)); // PIR 0x45, ON; the notification is still in flight
    expect(s.snapshot().state.kvm.vcpus[0].pi.pir).toEqual([0x45]);
    ok(s, { op: 'kvm.vcpu', vcpu: 0, state: 'halted' });
    const v = s.snapshot().state.kvm.vcpus[0];
    expect(v.state).toBe('halted');
    expect(v.pi.pir).toEqual([]);
    expect(v.lapic.irr).toEqual([0x45]);
  });
});

describe('posting needs a single destination (kvm_intr_is_single_vcpu; leftover of issue 13)', () => {
  function irteMode(address_lo: number, data: number): string {
    const s = createSystem({
      vm: { vcpus: 4 },
      iommu: { interrupt_remapping: true, posted_interrupts: true },
      devices: [{ name: 'nic0', msix: { table_size: 1 } }],
    });
    ok(s, { op: 'eventfd.create' });
    ok(s, { op: 'kvm.route', gsi: 30, address_lo, data });
    ok(s, { op: 'kvm.irqfd', fd: 6, gsi: 30 });
    ok(s, {
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 1,
      data: [6],
    });
    const st = s.snapshot().state;
    return Object.values(st.host.irqs).map((h) => st.iommu.irte[h.irte!]!.mode)[0];
  }
  it('lowest priority to a logical flat destination narrows to the hashed LAPIC on the map: posted', () => {
    expect(irteMode(0xfee0f004, 0x100 | 0x71)).toBe('posted');
  });
  it('a lowest-priority broadcast counts every match on the slow path: several, so remapped', () => {
    expect(irteMode(0xfeeff004, 0x100 | 0x71)).toBe('remapped');
    expect(irteMode(0xfeeff000, 0x100 | 0x71)).toBe('remapped');
  });
  it('a fixed logical MSI to two LAPICs is not postable; to one bit with a LAPIC it is', () => {
    expect(irteMode(0xfee03004, 0x71)).toBe('remapped');
    expect(irteMode(0xfee11004, 0x71)).toBe('posted'); // bits 0 and 4: only bit 0 has a LAPIC
  });
});
