// Config space as the VFIO user sees it through the config region (drivers/vfio/pci/vfio_pci_config.c):
// each byte is either the hardware's or vfio-pci's virtual copy (vconfig), by the per-capability
// permission tables. What irqflow models: the header's IDs, command and status registers, and the MSI
// and MSI-X capabilities. Any other offset is refused, naming what is modelled.

import type { Engine } from '../../../../engine.ts';
import type { PciDeviceState } from '../../../../types.ts';
import { vfioIntxPin, type VfioTarget } from '../device.ts';
import { raiseTool } from '../../../../errno.ts';
import { hex } from '../../../../hex.ts';
import { msixMessageControl, msixTableOffsetBir } from '../../../../hw/pci/msix.ts';
import { PCI_COMMAND_INTX_DISABLE, PCI_STATUS_INTERRUPT } from '../../../../hw/pci/intx.ts';
import { vfioPciIntxMask, vfioPciIntxUnmask } from './vfio_pci_intrs_intx.ts';

export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_MEMORY = 1 << 1;
export const PCI_COMMAND_MASTER = 1 << 2;
/** PCI Local Bus Spec 6.2.4: the Interrupt Pin register (read-only). */
const PCI_INTERRUPT_PIN = 0x3d;
const PCI_STATUS_CAP_LIST = 1 << 4;
const PCI_CAP_ID_MSI = 0x05;
const PCI_CAP_ID_MSIX = 0x11;
// vfio_msi_config_write: the user may write the enable bit and Multiple Message Enable
const PCI_MSI_FLAGS_ENABLE = 0x0001;
const PCI_MSI_FLAGS_QMASK = 0x000e;
const PCI_MSI_FLAGS_QSIZE = 0x0070;

export function memoryEnabled(dev: PciDeviceState): boolean {
  return (dev.command & PCI_COMMAND_MEMORY) !== 0;
}

export function busMaster(dev: PciDeviceState): boolean {
  return (dev.command & PCI_COMMAND_MASTER) !== 0;
}

/** The command register as the user reads it: Interrupt Disable is virtual (p_setw(perm, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, ALL_WRITE)). */
function userCommand(t: VfioTarget): number {
  const phys = t.hw.command & ~PCI_COMMAND_INTX_DISABLE;
  return phys | (t.vfio.vconfig.virq_disabled ? PCI_COMMAND_INTX_DISABLE : 0);
}

/** The capabilities irqflow models: [offset, id]. */
function caps(dev: PciDeviceState): { off: number; id: number }[] {
  const list: { off: number; id: number }[] = [];
  if (dev.msi) list.push({ off: dev.msi.cap, id: PCI_CAP_ID_MSI });
  if (dev.msix) list.push({ off: dev.msix.cap, id: PCI_CAP_ID_MSIX });
  return list;
}

/** A byte of the user's view, or null when irqflow does not model that offset. */
function userByte(t: VfioTarget, off: number): number | null {
  const dev = t.hw;
  const word = (v: number, at: number): number => (v >> (8 * (off - at))) & 0xff;
  if (off < 2) return word(dev.vendor, 0);
  if (off < 4) return word(dev.device, 2);
  if (off < 6) return word(userCommand(t), 4);
  if (off < 8) {
    const status = (dev.status & PCI_STATUS_INTERRUPT) | (dev.msi || dev.msix ? PCI_STATUS_CAP_LIST : 0);
    return word(status, 6);
  }
  // Interrupt Pin: vconfig, virtualized to 0 for an unrouted pin (vfio_config_init); the physical pin else
  if (off === PCI_INTERRUPT_PIN) return vfioIntxPin(dev);
  // The capability pointer and next pointers are left out: a real function chains more capabilities
  // (e1000e: PM, MSI, PCIe, MSI-X) than irqflow models, so a made-up chain would mislead.
  for (const c of caps(dev)) {
    const r = off - c.off;
    if (r === 0) return c.id;
    if (c.id === PCI_CAP_ID_MSIX && dev.msix && r >= 2 && r < 12) {
      // cap_perms[PCI_CAP_ID_MSIX] keeps the default vfio_direct_config_read (vfio_pci_init_perm_bits gives
      // MSI-X no write function: only the ioctl writes it): these bytes are the hardware's (the ID and
      // next pointer come from vconfig)
      const m = dev.msix;
      if (r < 4) return word(msixMessageControl(m), 2 + (off - r));
      if (r < 8) return word(msixTableOffsetBir(m), 4 + (off - r));
      return word((m.pba_offset & ~7) | (m.pba_bir & 7), 8 + (off - r));
    }
    if (c.id === PCI_CAP_ID_MSI && dev.msi) {
      // init_pci_cap_msi_perm: flags, address and data are virtual; the user sees what it wrote
      const vc = t.vfio.vconfig;
      const a64 = dev.msi.addr64;
      const base = off - r;
      // vfio_msi_config_read: Multiple Message Capable reads as msi_qmax, not the hardware's
      if (r >= 2 && r < 4) return word((vc.msi_flags & ~PCI_MSI_FLAGS_QMASK) | (vc.msi_qmax << 1), base + 2);
      if (r >= 4 && r < 8) return word(vc.msi_addr_lo, base + 4);
      if (a64 && r >= 8 && r < 12) return word(vc.msi_addr_hi, base + 8);
      const data = a64 ? 12 : 8;
      if (r >= data && r < data + 2) return word(vc.msi_data, base + data);
    }
  }
  return null;
}

function check(t: VfioTarget, off: number, size: number): void {
  if (t.vdev)
    raiseTool(
      'EINVAL',
      `${t.vfio.device} is a virtual device: its config space is its driver's emulation, not modelled (the parent's belongs to the host)`,
      'device',
    );
  if (size !== 1 && size !== 2 && size !== 4)
    raiseTool('EINVAL', `a config access is 1, 2 or 4 bytes, not ${size}`, 'size');
  if (off + size > 256)
    raiseTool(
      'EINVAL',
      `offset ${hex(off)} + ${size} is past the 256-byte config space irqflow models`,
      'offset',
    );
}

function notModelled(off: number): never {
  return raiseTool(
    'EINVAL',
    `config offset ${hex(off)} is not modelled: irqflow has the IDs, command and status registers, the Interrupt Pin, the capability pointer and the MSI and MSI-X capabilities`,
    'offset',
  );
}

/** pread on the VFIO config region (vfio_pci_config_rw): returns the value read. */
export function vfioConfigRead(t: VfioTarget, off: number, size: number): number {
  check(t, off, size);
  let v = 0;
  for (let i = 0; i < size; i++) {
    const b = userByte(t, off + i);
    if (b === null) notModelled(off + i);
    v |= b << (8 * i);
  }
  return v >>> 0;
}

/**
 * pwrite on the VFIO config region: the command register's writable bits go to the hardware and
 * Interrupt Disable to vconfig, which masks or unmasks INTx (vfio_basic_config_write: "Emulate INTx
 * disable"); MSI's flags, address and data go to vconfig, the flags also back to the hardware
 * (vfio_msi_config_write); the MSI-X capability
 * takes no write from the user (only VFIO_DEVICE_SET_IRQS enables it); the IDs and status are read-only.
 */
export function vfioConfigWrite(e: Engine, t: VfioTarget, off: number, size: number, value: number): void {
  check(t, off, size);
  const dev = t.hw;
  // the whole write is checked before any byte lands
  for (let i = 0; i < size; i++) if (userByte(t, off + i) === null) notModelled(off + i);
  const bytes = Array.from({ length: size }, (_, i) => (value >>> (8 * i)) & 0xff);
  const written = (at: number, len: number, old: number): number => {
    let v = old;
    for (let i = 0; i < len; i++) {
      const k = at + i - off;
      if (k >= 0 && k < size) v = (v & ~(0xff << (8 * i))) | (bytes[k] << (8 * i));
    }
    return v >>> 0;
  };
  const covers = (at: number, len: number): boolean => off < at + len && off + size > at;
  if (covers(PCI_COMMAND, 2)) {
    const cmd = written(PCI_COMMAND, 2, userCommand(t));
    // the function's writable bits (QEMU pci_init_wmask: I/O, Memory, Bus Master, SERR#, INTx Disable;
    // a generic function also Parity Error Response); Interrupt Disable itself stays virtual
    const wmask = (dev.e1000e ? 0x0107 : 0x0147) & ~PCI_COMMAND_INTX_DISABLE;
    dev.command = (dev.command & ~wmask) | (cmd & wmask);
    const virt = (cmd & PCI_COMMAND_INTX_DISABLE) !== 0;
    if (virt && !t.vfio.vconfig.virq_disabled) {
      t.vfio.vconfig.virq_disabled = true;
      vfioPciIntxMask(e, t);
    } else if (!virt && t.vfio.vconfig.virq_disabled) {
      t.vfio.vconfig.virq_disabled = false;
      vfioPciIntxUnmask(e, t);
    }
  }
  const mx = dev.msix;
  if (mx && covers(mx.cap + 2, 10)) {
    // vfio_config_do_rw: cap_perms[] defaults to { .readfn = vfio_direct_config_read } and only the
    // capabilities vfio_pci_init_perm_bits sets up get a writefn; MSI-X is not one ("if (!perm->writefn)
    // return ret"): the write is dropped and reported as done. Only VFIO_DEVICE_SET_IRQS enables MSI-X.
    e.hop(
      'ctl.config',
      0,
      'vmm',
      `vfio:${t.vfio.device}`,
      'done',
      `${t.vfio.device}: write to the MSI-X capability (Message Control, Table/PBA offsets) dropped: no writefn for PCI_CAP_ID_MSIX; the function's Message Control stays ${hex(msixMessageControl(mx))}`,
    );
  }
  const msi = dev.msi;
  if (msi) {
    const vc = t.vfio.vconfig;
    const a64 = msi.addr64;
    if (covers(msi.cap + 2, 2)) {
      // p_setb(perm, PCI_MSI_FLAGS, ALL_VIRT, ALL_WRITE): the low byte is the user's; then
      // vfio_msi_config_write's fix-ups, and the flags written back to the hardware
      let flags = (vc.msi_flags & 0xff00) | (written(msi.cap + 2, 2, vc.msi_flags) & 0x00ff);
      if (t.vfio.irq_type !== 'msi') flags &= ~PCI_MSI_FLAGS_ENABLE; // "MSI is enabled via ioctl"
      if ((flags & PCI_MSI_FLAGS_QSIZE) >> 4 > vc.msi_qmax)
        flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (vc.msi_qmax << 4);
      vc.msi_flags = flags;
      msi.enable = (flags & PCI_MSI_FLAGS_ENABLE) !== 0;
      msi.mme = Math.min(msi.mmc, 1 << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4));
    }
    if (covers(msi.cap + 4, 4)) vc.msi_addr_lo = written(msi.cap + 4, 4, vc.msi_addr_lo);
    if (a64 && covers(msi.cap + 8, 4)) vc.msi_addr_hi = written(msi.cap + 8, 4, vc.msi_addr_hi);
    const data = msi.cap + (a64 ? 12 : 8);
    if (covers(data, 2)) vc.msi_data = written(data, 2, vc.msi_data) & 0xffff;
  }
}
