// INTx of a PCI function: a level-triggered pin. The function's interrupt condition is the Interrupt
// Status bit (status register bit 3); it drives the pin only while Interrupt Disable (command register
// bit 10, DisINTx) is clear (PCI Local Bus Spec 6.2.2). VFIO masks INTx through DisINTx
// (drivers/pci/pci.c: pci_check_and_mask_intx / pci_check_and_unmask_intx).

import type { Engine } from '../../engine.ts';
import { EV } from '../../datapath.ts';
import type { PciDeviceState } from '../../types.ts';
import { hostIrqsOf } from '../../linux/kernel/irq/irqdesc.ts';

export const PCI_COMMAND_INTX_DISABLE = 1 << 10;
export const PCI_STATUS_INTERRUPT = 1 << 3;

export function intxDisabled(dev: PciDeviceState): boolean {
  return (dev.command & PCI_COMMAND_INTX_DISABLE) !== 0;
}

/** The device raises its interrupt condition on INTx. */
export function intxAssert(e: Engine, dev: PciDeviceState, irq: number): void {
  const from = `dev:${dev.name}`;
  const to = `intx:${dev.name}`;
  if (dev.status & PCI_STATUS_INTERRUPT) {
    // Level-triggered: one condition at a time; a second event merges into the one asserted.
    e.hop(
      'intx.assert',
      irq,
      from,
      to,
      'coalesced',
      `Interrupt Status already set by #${dev.intx.asserted_irq}`,
    );
    e.coalesced(irq, dev.intx.asserted_irq, `${dev.name} INTx Interrupt Status`);
    return;
  }
  dev.status |= PCI_STATUS_INTERRUPT;
  dev.intx.asserted_irq = irq;
  if (intxDisabled(dev)) {
    e.hop('intx.assert', irq, from, to, 'pending', 'Interrupt Status set; DisINTx set: pin not driven');
    dev.intx.pending_irq = irq;
    e.pending(irq, `${dev.name} INTx pending`);
    return;
  }
  intxDrive(e, dev, irq);
}

/** The pin is driven: the host's INTx line fires if someone requested it. */
function intxDrive(e: Engine, dev: PciDeviceState, irq: number): void {
  dev.intx.asserted = true;
  const host = hostIrqsOf(e, dev.name, 'IO-APIC')[0];
  if (!host || !host.started) {
    e.hop(
      'intx.assert',
      irq,
      `dev:${dev.name}`,
      `intx:${dev.name}`,
      'pending',
      dev.intx.not_connected
        ? 'pin asserted, but the platform routes no IRQ to it (IRQ_NOTCONNECTED): nothing receives it'
        : 'pin asserted; no host handler on the line',
    );
    dev.intx.pending_irq = irq;
    e.pending(irq, `${dev.name} INTx pending`);
    return;
  }
  dev.intx.pending_irq = 0;
  e.hop(
    'intx.assert',
    irq,
    `dev:${dev.name}`,
    'hostirq',
    'forwarded',
    `INT${'?ABCD'[dev.intx.pin]} asserted: host IRQ ${host.irq}`,
  );
  e.schedule(e.cost.msi_write, EV['host.irq'], irq, host.irq);
}

// pci_check_and_mask_intx: set DisINTx only if the device is asserting
export function intxCheckAndMask(dev: PciDeviceState): boolean {
  if (!(dev.status & PCI_STATUS_INTERRUPT)) return false;
  dev.command |= PCI_COMMAND_INTX_DISABLE;
  dev.intx.asserted = false;
  return true;
}

// pci_check_and_unmask_intx: clear DisINTx only if the device is not asserting
export function intxCheckAndUnmask(dev: PciDeviceState): boolean {
  if (dev.status & PCI_STATUS_INTERRUPT) return false;
  dev.command &= ~PCI_COMMAND_INTX_DISABLE;
  return true;
}

/**
 * The driver serviced the device: the condition clears and the pin deasserts. An interrupt still waiting
 * at the pin is gone with it (level-triggered: nothing latches it).
 */
export function intxDeassert(e: Engine, dev: PciDeviceState): void {
  const waiting = dev.intx.pending_irq;
  dev.status &= ~PCI_STATUS_INTERRUPT;
  dev.intx.asserted = false;
  dev.intx.asserted_irq = 0;
  dev.intx.pending_irq = 0;
  if (waiting) {
    e.hop(
      'intx.assert',
      waiting,
      `intx:${dev.name}`,
      `dev:${dev.name}`,
      'dropped',
      'the driver serviced the device before the interrupt was taken: the level condition is gone',
    );
    e.dropped(waiting, 'INTx condition cleared before delivery');
  }
}
