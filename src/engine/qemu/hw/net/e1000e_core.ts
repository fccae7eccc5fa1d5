// e1000e's interrupt cause registers in BAR0, as QEMU's model keeps them (hw/net/e1000e_core.c, QEMU 7.2
// as Debian 12 ships it, the device the oracle boots): ICR collects causes, IMS enables them, ICS sets
// them, IMC clears enables, IVAR maps each queue cause to an MSI-X vector. e1000e_update_interrupt_state
// turns the enabled causes into an MSI-X message per cause, one MSI message, or the INTx level.

import type { Engine } from '../../../engine.ts';
import type { E1000eRegs, PciDeviceState } from '../../../types.ts';
import { raiseTool } from '../../../errno.ts';
import { hex } from '../../../linux/arch/x86/kernel/apic/msi.ts';
import { EV_DEV_RAISE } from '../../../hw/pci/device.ts';
import { intxAssert, intxDeassert, PCI_STATUS_INTERRUPT } from '../../../hw/pci/intx.ts';

export const E1000_ICR = 0xc0;
export const E1000_ICS = 0xc8;
export const E1000_IMS = 0xd0;
export const E1000_IMC = 0xd8;
export const E1000_IVAR = 0xe4;
const E1000_ICR_ASSERTED = 0x80000000;
// RXQ0, RXQ1, TXQ0, TXQ1, OTHER: bits 20..24; IVAR holds a 4-bit field for each (bit 3 valid, 2:0 vector)
const QUEUE_CAUSES = [20, 21, 22, 23, 24];
const IVAR_ENTRY_VALID = 0x8;
/** e1000e has 5 MSI-X vectors (E1000E_MSIX_VEC_NUM). */
const E1000E_MSIX_VEC_NUM = 5;
// e1000e_set_ims: ims_valid_mask = TXDW|TXQE|LSC|RXDMT0|RXO|RXT0|MDAC|TXD_LOW|SRPD|ACK|MNG|RXQ0..OTHER
const IMS_VALID_MASK = 0x01f782d7;
const E1000_ICR_OTHER = 1 << 24;
// E1000_ICR_OTHER_CAUSES: LSC | RXO | MDAC | SRPD | ACK | MNG
const E1000_ICR_OTHER_CAUSES = 0x4 | 0x40 | 0x200 | 0x10000 | 0x20000 | 0x40000;

function regs(dev: PciDeviceState): E1000eRegs {
  if (!dev.e1000e)
    raiseTool(
      'EINVAL',
      `${dev.name} has no register model: BAR0 registers are modelled for e1000e only (topology model: 'e1000e')`,
      'bar',
    );
  return dev.e1000e;
}

/** A 32-bit read of BAR0 at `off`. */
export function e1000eRead(e: Engine, dev: PciDeviceState, off: number): number {
  const r = regs(dev);
  switch (off) {
    case E1000_ICR: {
      // e1000e_mac_icr_read: clear on read when no cause is enabled, and always without MSI-X
      const v = r.icr;
      if (r.ims === 0 || !dev.msix?.enable) r.icr = 0;
      update(e, dev);
      return v >>> 0;
    }
    case E1000_ICS: // reads as ICR, without the clear (e1000e_update_interrupt_state: mac[ICS] = mac[ICR])
      return r.icr >>> 0;
    case E1000_IMS:
      return r.ims >>> 0;
    case E1000_IVAR:
      return r.ivar >>> 0;
    case E1000_IMC: // write-only: e1000e_core_read gives 0
      return 0;
  }
  return notModelled(off);
}

/** A 32-bit write of BAR0 at `off`. */
export function e1000eWrite(e: Engine, dev: PciDeviceState, off: number, value: number): void {
  const r = regs(dev);
  switch (off) {
    case E1000_ICR: {
      // e1000e_set_icr: write 1 to clear; clearing OTHER clears the other causes too ("Windows driver
      // expects that the "receive overrun" bit and other ones are cleared when the "Other" bit (#24) is
      // cleared")
      let icr = (r.icr & ~value) >>> 0;
      if (value & E1000_ICR_OTHER) icr = (icr & ~E1000_ICR_OTHER_CAUSES) >>> 0;
      r.icr = icr;
      break;
    }
    case E1000_ICS: // e1000e_set_ics -> e1000e_set_interrupt_cause
      r.icr = (r.icr | value) >>> 0;
      break;
    case E1000_IMS: // e1000e_set_ims
      r.ims = (r.ims | (value & IMS_VALID_MASK)) >>> 0;
      break;
    case E1000_IMC: // e1000e_set_imc
      r.ims = (r.ims & ~value) >>> 0;
      break;
    case E1000_IVAR: // e1000e_set_ivar: no interrupt state change
      r.ivar = value >>> 0;
      return;
    default:
      notModelled(off);
  }
  update(e, dev);
}

function notModelled(off: number): never {
  return raiseTool(
    'EINVAL',
    `e1000e register ${hex(off)} is not modelled: irqflow has ICR (0xc0), ICS (0xc8), IMS (0xd0), IMC (0xd8) and IVAR (0xe4)`,
    'offset',
  );
}

/**
 * e1000e_update_interrupt_state (with e1000e_fix_icr_asserted and e1000e_send_msi). Not modelled: the
 * interrupt throttling timers (ITR, EITR), which in QEMU defer a second message inside their window and
 * merge a third into it; a storm on e1000e counts more interrupts here than in QEMU.
 */
function update(e: Engine, dev: PciDeviceState): void {
  const r = dev.e1000e!;
  // "Set ICR[OTHER] for MSI-X": the other causes are signalled through IVAR's OTHER field
  if (dev.msix?.enable && r.icr & E1000_ICR_OTHER_CAUSES) r.icr = (r.icr | E1000_ICR_OTHER) >>> 0;
  r.icr = (r.icr & ~E1000_ICR_ASSERTED) >>> 0;
  if (r.icr) r.icr = (r.icr | E1000_ICR_ASSERTED) >>> 0;
  const pending = (r.ims & r.icr) >>> 0;
  if (!pending) r.msi_causes_pending = 0;
  const msix = dev.msix?.enable ?? false;
  if (msix || dev.msi?.enable) {
    if (pending) sendMsi(e, dev, msix);
    return;
  }
  // the legacy line follows the enabled causes (e1000e_raise_legacy_irq / e1000e_lower_legacy_irq)
  if (pending && !(dev.status & PCI_STATUS_INTERRUPT))
    intxAssert(e, dev, e.newIrq(`dev:${dev.name}`, 'direct'));
  else if (!pending && dev.status & PCI_STATUS_INTERRUPT) intxDeassert(e, dev);
}

// e1000e_send_msi: a message only for causes not already signalled while they stay pending
function sendMsi(e: Engine, dev: PciDeviceState, msix: boolean): void {
  const r = dev.e1000e!;
  let causes = (r.icr & r.ims & ~E1000_ICR_ASSERTED) >>> 0;
  r.msi_causes_pending = (r.msi_causes_pending & causes) >>> 0;
  causes = (causes ^ r.msi_causes_pending) >>> 0;
  if (!causes) return;
  r.msi_causes_pending = (r.msi_causes_pending | causes) >>> 0;
  const di = e.deviceOrdinal(dev.name);
  if (!msix) {
    e.schedule(0, EV_DEV_RAISE, e.newIrq(`dev:${dev.name}`, 'direct'), di, 0); // msi_notify(dev, 0)
    return;
  }
  // e1000e_msix_notify: each queue cause through its IVAR field
  QUEUE_CAUSES.forEach((bit, i) => {
    if (!(causes & (1 << bit))) return;
    const cfg = (r.ivar >>> (4 * i)) & 0xf;
    if (!(cfg & IVAR_ENTRY_VALID)) return; // trace_e1000e_wrn_msix_invalid
    const vec = cfg & 7;
    if (vec >= E1000E_MSIX_VEC_NUM) return;
    e.schedule(0, EV_DEV_RAISE, e.newIrq(`dev:${dev.name}`, 'direct'), di, vec);
  });
}
