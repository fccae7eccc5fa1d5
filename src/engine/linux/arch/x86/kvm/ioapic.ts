// INTx into the guest through KVM (issue 13 item 14): QEMU's vfio_intx_enable_kvm binds VFIO's INTx
// trigger eventfd to the pin's GSI with a resample irqfd (KVM_IRQFD_FLAG_RESAMPLE) and makes the
// resamplefd VFIO's UNMASK eventfd. The GSI's default route is the in-kernel IO-APIC pin of the same
// number (kvm_setup_default_irq_routing). A signal raises the pin from the resampler's own source
// (irqfd_inject: kvm_set_irq(KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID, gsi, 1)); the IO-APIC delivers a
// level-triggered entry and sets Remote IRR (ioapic_service). The guest's EOI of that vector exits even
// under APICv (level vectors are in the EOI-exit bitmap) and reaches kvm_ioapic_update_eoi, which
// clears Remote IRR and runs the ack notifiers: irqfd_resampler_ack lowers the line and signals every
// resamplefd of the GSI, and VFIO's virqfd unmasks INTx (vfio_pci_intx_unmask_handler). Sources:
// virt/kvm/eventfd.c, arch/x86/kvm/ioapic.c, arch/x86/kvm/irq_comm.c. The guest's 8259 is taken as
// masked (a Linux guest with an IO-APIC masks it), so the PIC half of GSI 0-15 is left out.

import { defineEvent, type Engine } from '../../../../engine.ts';
import type { IoapicPin } from '../../../../types.ts';
import { hex } from '../kernel/apic/msi.ts';
import { raise } from '../../../../errno.ts';
import { kvmDeliver } from '../../../virt/kvm/eventfd.ts';
import { eventfdSignal } from '../../../fs/eventfd.ts';

export const KVM_IOAPIC_NUM_PINS = 24;
const USERSPACE_SOURCE = 1; // KVM_USERSPACE_IRQ_SOURCE_ID
const RESAMPLE_SOURCE = 4; // KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID

export function ioapicCreate(): IoapicPin[] {
  // ioapic.c kvm_ioapic_reset: every redirection entry masked, edge
  return Array.from({ length: KVM_IOAPIC_NUM_PINS }, () => ({
    vector: 0,
    dest: 0,
    level: false,
    masked: true,
    remote_irr: false,
    line: 0,
    irq: 0,
  }));
}

/** The guest programs a redirection entry (ioapic_write_indirect); a level pin still high is serviced. */
export function kvmIoapicWrite(
  e: Engine,
  pin: number,
  entry: { vector: number; dest: number; level: boolean; masked: boolean },
): void {
  const p = e.state.kvm.ioapic[pin];
  if (!p) raise('EINVAL', `IO-APIC pin ${pin}: the in-kernel IO-APIC has ${KVM_IOAPIC_NUM_PINS} pins`, 'pin');
  if (entry.vector < 16 || entry.vector > 255)
    raise('EINVAL', `vector ${entry.vector}: a guest vector is 16..255`, 'vector');
  Object.assign(p, entry);
  e.hop(
    'kvm.ioapic',
    0,
    'guest',
    'kvm',
    'done',
    `IO-APIC pin ${pin}: vector ${hex(entry.vector)} to APIC ${entry.dest}, ${entry.level ? 'level' : 'edge'}${entry.masked ? ', masked' : ''}`,
  );
  // ioapic_write_indirect: an unmasked level entry whose line is high is serviced now
  if (!p.masked && p.line && p.irq) ioapicService(e, p.irq, pin);
}

/**
 * irqfd_inject on a GSI routed to the IO-APIC: a resample irqfd holds the line from its own source until
 * the EOI; a plain irqfd pulses it (kvm_set_irq 1, then 0).
 */
export function ioapicIrqfdInject(
  e: Engine,
  irq: number,
  gsi: number,
  resample: boolean,
  delay: number,
): void {
  e.schedule(delay, EV_IOAPIC_IRQFD, irq, gsi, resample ? 1 : 0);
}

const EV_IOAPIC_IRQFD = defineEvent('ioapic.irqfd', (e, irq, gsi, resample) => {
  e.hop(
    'irqfd.wakeup',
    irq,
    'irqfd',
    'kvm',
    'forwarded',
    resample
      ? `GSI ${gsi}: resample irqfd raises IO-APIC pin ${gsi} (its own source, held until the EOI)`
      : `GSI ${gsi}: irqfd pulses IO-APIC pin ${gsi}`,
    'irqfd_inject@virt/kvm/eventfd.c',
  );
  ioapicSetIrq(e, irq, gsi, resample ? RESAMPLE_SOURCE : USERSPACE_SOURCE, 1);
  if (!resample) ioapicSetIrq(e, 0, gsi, USERSPACE_SOURCE, 0);
});

/** kvm_ioapic_set_irq -> ioapic_set_irq (the line is the OR of its sources: __kvm_irq_line_state). */
function ioapicSetIrq(e: Engine, irq: number, pin: number, source: number, level: number): void {
  const p = e.state.kvm.ioapic[pin];
  const was = p.line;
  p.line = level ? p.line | source : p.line & ~source;
  if (!level) return;
  if (p.masked) {
    e.hop('ioapic.set', irq, 'kvm', 'kvm', 'dropped', `IO-APIC pin ${pin} is masked`);
    e.dropped(irq, `IO-APIC pin ${pin} masked`);
    return;
  }
  if (p.irq && (was || p.remote_irr)) {
    // the line was already high, or the level interrupt waits for its EOI (Remote IRR)
    e.hop('ioapic.set', irq, 'kvm', 'kvm', 'coalesced', `IO-APIC pin ${pin} already asserted by #${p.irq}`);
    e.coalesced(irq, p.irq, `IO-APIC pin ${pin}`);
    return;
  }
  ioapicService(e, irq, pin);
}

/** ioapic_service: fixed, physical destination; a level entry sets Remote IRR. */
function ioapicService(e: Engine, irq: number, pin: number): void {
  const p = e.state.kvm.ioapic[pin];
  const vcpu = e.state.kvm.vcpus.findIndex((v) => v.apic_id === p.dest);
  if (vcpu < 0) {
    e.hop('ioapic.set', irq, 'kvm', 'kvm', 'dropped', `IO-APIC pin ${pin}: no LAPIC with APIC id ${p.dest}`);
    e.dropped(irq, 'IO-APIC entry to no vCPU');
    return;
  }
  if (p.level) {
    p.remote_irr = true;
    p.irq = irq;
  } else p.irq = 0;
  e.hop(
    'ioapic.set',
    irq,
    'kvm',
    'kvm',
    'forwarded',
    `IO-APIC pin ${pin}: vector ${hex(p.vector)} to vCPU ${vcpu}${p.level ? ', Remote IRR set' : ''}`,
    'ioapic_service@arch/x86/kvm/ioapic.c',
  );
  kvmDeliver(e, irq, vcpu, p.vector, 'kvm');
}

/** Whether vector is a level-triggered IO-APIC vector of vCPU `apicId` (its EOI exits: EOI-exit bitmap). */
export function ioapicLevelVector(e: Engine, apicId: number, vector: number): boolean {
  // a loop, not some(): a closure per guest EOI otherwise (issue 14)
  for (const p of e.state.kvm.ioapic)
    if (p.level && !p.masked && p.vector === vector && p.dest === apicId) return true;
  return false;
}

/**
 * kvm_ioapic_update_eoi: every level pin with this vector and Remote IRR gets it cleared and its ack
 * notifiers run (irqfd_resampler_ack: the resample source lowered, each resamplefd of the GSI
 * signalled). (A line held high by another source would be serviced again; nothing here holds one.)
 */
export function kvmIoapicEoi(e: Engine, irq: number, apicId: number, vector: number): void {
  e.state.kvm.ioapic.forEach((p, pin) => {
    if (!p.level || p.vector !== vector || p.dest !== apicId || !p.remote_irr) return;
    p.remote_irr = false;
    p.irq = 0;
    const resamplers = Object.values(e.state.kvm.irqfds).filter(
      (f) => f.gsi === pin && f.resamplefd !== undefined,
    );
    e.hop(
      'ioapic.eoi',
      irq,
      `lapic:${apicId}`,
      'kvm',
      'done',
      `EOI of ${hex(vector)}: IO-APIC pin ${pin} Remote IRR cleared${resamplers.length ? '; irqfd_resampler_ack lowers the line' : ''}`,
    );
    if (resamplers.length) {
      p.line &= ~RESAMPLE_SOURCE;
      for (const f of resamplers) {
        const id = e.newIrq(`kvm:resample GSI ${pin}`, 'emulated');
        e.hop(
          'eventfd.signal',
          id,
          'kvm',
          'eventfd',
          'forwarded',
          `irqfd_resampler_ack: signal resamplefd ${f.resamplefd} (GSI ${pin})`,
          'irqfd_resampler_ack@virt/kvm/eventfd.c',
        );
        eventfdSignal(e, id, f.resamplefd!, 'kvm');
      }
    }
  });
}
