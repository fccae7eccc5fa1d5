// vCPU scheduling states as they matter for interrupt delivery (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c,
// arch/x86/kvm/vmx/posted_intr.c): a running vCPU executes HLT and blocks (halted) unless an interrupt is
// already pending (kvm_vcpu_check_block: kvm_arch_vcpu_runnable); the host preempts a running vCPU;
// a halted or preempted vCPU runs again. The posted-interrupt descriptor follows (vmx_vcpu_pi_put /
// vmx_vcpu_pi_load): SN while preempted, NV = wake-up vector while blocked.

import type { Engine } from '../../../../engine.ts';
import type { Vcpu } from '../../../../types.ts';
import { raise } from '../../../../errno.ts';
import { EV_PI_SYNC, piNeedsWakeup, piSetVcpuState, piSyncPirToIrr } from './vmx/posted_intr.ts';
import { lapicHasInterrupt, scheduleAccept } from './lapic.ts';

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
      e.schedule(e.cost.vm_entry, EV_PI_SYNC, 0, v.id);
    }
    scheduleAccept(e, v, e.cost.vm_entry);
  }
  return `vCPU ${v.id} ${next}`;
}
