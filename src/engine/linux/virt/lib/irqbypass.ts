// irq bypass (virt/lib/irqbypass.c): a VFIO vector's producer and a KVM irqfd's consumer pair up when
// they share a token (the eventfd). The library knows the consumer only by the callback it registered
// (kvm_arch_irq_bypass_add_producer / del_producer): on x86 with VT-d posting that is vmx_pi_update_irte
// (arch/x86/kvm/vmx/posted_intr.ts: vmxPiUpdateIrte), which decides each IRTE's mode. So VFIO and KVM
// call this file when a producer, a consumer or a route changes, and neither imports the other.

import type { Engine } from '../../../engine.ts';

let consumerUpdate: ((e: Engine) => void) | null = null;

/** KVM registers its consumer callback at load (irq_bypass_register_consumer's add_producer/del_producer). */
export function irqBypassRegisterConsumer(update: (e: Engine) => void): void {
  if (consumerUpdate) throw new Error('irq bypass: a second consumer callback registered');
  consumerUpdate = update;
}

/** Why the library cannot pair, or null: system.ts checks it at load. */
export function irqBypassMissing(): string | null {
  return consumerUpdate
    ? null
    : 'irq bypass: no consumer callback registered (arch/x86/kvm/vmx/posted_intr.ts)';
}

/**
 * A producer, a consumer or a route changed: the consumer recomputes every paired vector's IRTE
 * (irq_bypass_register_producer / _consumer -> __connect -> add_producer).
 */
export function bypassSync(e: Engine): void {
  consumerUpdate!(e);
}
