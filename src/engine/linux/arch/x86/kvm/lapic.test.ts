// arch/x86/kvm/lapic.c: IRR holds one request per vector; acceptance by priority class; EOI.
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../../system.ts';

function guest() {
  const sys = createSystem({ vm: { vcpus: 1 }, devices: [{ name: 'nic0', msix: { table_size: 4 } }] });
  sys.apply({ op: 'guest.msixEnable', device: 'nic0' });
  sys.apply({ op: 'guest.program', device: 'nic0', vector: 0, guest_vector: 0x40 });
  sys.apply({ op: 'guest.program', device: 'nic0', vector: 1, guest_vector: 0x41 });
  sys.apply({ op: 'guest.program', device: 'nic0', vector: 2, guest_vector: 0x51 });
  for (const v of [0, 1, 2]) sys.apply({ op: 'guest.unmask', device: 'nic0', vector: v });
  return sys;
}

describe('LAPIC', () => {
  it('merges a second request for a vector already in IRR (coalesced)', () => {
    const sys = guest();
    sys.apply({ op: 'kvm.vcpu', vcpu: 0, state: 'preempted' });
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, count: 2 });
    sys.run();
    const s = sys.snapshot();
    expect(s.state.kvm.vcpus[0].lapic.irr).toEqual([0x40]);
    expect(s.interrupts.map((r) => r.fate)).toEqual(['pending', 'coalesced']);
    sys.apply({ op: 'kvm.vcpu', vcpu: 0, state: 'running' });
    sys.run();
    expect(sys.snapshot().interrupts.map((r) => r.fate)).toEqual(['delivered', 'coalesced']);
  });

  it('takes the highest priority class first; a vector of the same class waits for EOI', () => {
    const sys = guest();
    sys.apply({ op: 'kvm.vcpu', vcpu: 0, state: 'preempted' });
    for (const v of [0, 1, 2]) sys.apply({ op: 'device.raise', device: 'nic0', vector: v });
    sys.run();
    sys.apply({ op: 'kvm.vcpu', vcpu: 0, state: 'running' });
    sys.run();
    const accepted = sys
      .traceSlice(0, sys.traceLength())
      .filter((h) => h.hop === 'lapic.accept')
      .map((h) => h.detail.slice(7, 11));
    expect(accepted).toEqual(['0x51', '0x41', '0x40']);
  });
});
