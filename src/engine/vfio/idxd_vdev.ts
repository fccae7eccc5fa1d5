// An IDXD (Intel DSA) work queue composed as a virtual device (intel/idxd-driver: drivers/dma/idxd/vdev.c,
// drivers/vfio/mdev/idxd/). Its virtual MSI-X has one vector per work queue plus one: vector 0 is emulated
// and signals the emulated command interface's completions; vector wq+1 is backed by an IMS entry of the
// parent that the hardware fires on work completion.
//   intercepted path: the guest writes the command register (IDXD_CMD_OFFSET) -> VM exit -> QEMU ->
//     VFIO region write -> vidxd_mmio_write -> vidxd_do_command -> idxd_complete_command ->
//     vidxd_send_interrupt(vidxd, 0) -> vfio_pci_send_signal -> eventfd -> irqfd -> guest;
//   direct path: the guest submits a descriptor to the WQ portal; the device completes it and fires
//     the IMS entry (idxd_guest_wq_completion handles it on the host when not posted).

import { defineEvent, type Engine } from '../engine.ts';
import type { VirtualDeviceState, VirtualDeviceTopology } from '../types.ts';
import { raise } from '../errno.ts';
import { vfioSendSignal } from './handlers.ts';
import { EV_IMS_RAISE } from '../ims/ims.ts';

/** Emulated BAR0 registers (drivers/dma/idxd/registers.h). */
export const IDXD_CMD_OFFSET = 0xa0;
export const IDXD_CMDSTS_OFFSET = 0xa8;
/** Commands (registers.h: enum idxd_cmd). */
export const IDXD_CMD = {
  ENABLE_DEVICE: 1,
  DISABLE_DEVICE: 2,
  ENABLE_WQ: 5,
  DISABLE_WQ: 6,
  RESET_DEVICE: 4,
} as const;
const CMD_NAMES: Record<number, string> = {
  1: 'ENABLE_DEVICE',
  2: 'DISABLE_DEVICE',
  4: 'RESET_DEVICE',
  5: 'ENABLE_WQ',
  6: 'DISABLE_WQ',
};
/** Command register bit 31: request an interrupt on completion. */
export const IDXD_CMD_INT_REQ = 1 << 31;

export function vdevCreate(t: VirtualDeviceTopology): VirtualDeviceState {
  return {
    name: t.name,
    parent: t.parent,
    kind: t.kind,
    wq: t.wq,
    cookie: t.cookie ?? t.wq,
    vectors: t.vectors.map((backend) => ({ backend, ims_index: null })),
    regs: { cmd: 0, cmdsts: 0, wq_enabled: false, dev_enabled: false },
  };
}

/** The guest's write to an emulated register, after QEMU forwarded it: a = vdev ordinal, b = value. */
export const EV_VDEV_WRITE = defineEvent('vdev.emulate', (e, irq, di, value) => {
  const vdev = e.state.vdevs[e.deviceNames[di]];
  const cmd = (value >>> 20) & 0x1f; // registers.h: union idxd_command_reg, cmd in bits 24:20
  const name = CMD_NAMES[cmd] ?? `command ${cmd}`;
  vdev.regs.cmd = value >>> 0;
  let status = 0;
  if (cmd === IDXD_CMD.ENABLE_DEVICE) vdev.regs.dev_enabled = true;
  else if (cmd === IDXD_CMD.DISABLE_DEVICE || cmd === IDXD_CMD.RESET_DEVICE) {
    vdev.regs.dev_enabled = false;
    vdev.regs.wq_enabled = false;
  } else if (cmd === IDXD_CMD.ENABLE_WQ) {
    if (vdev.regs.dev_enabled) vdev.regs.wq_enabled = true;
    else status = 0x20; // IDXD_CMDSTS_ERR_DEV_NOT_EN
  } else if (cmd === IDXD_CMD.DISABLE_WQ) vdev.regs.wq_enabled = false;
  else status = 0x01; // IDXD_CMDSTS_INVAL_CMD
  vdev.regs.cmdsts = status;
  e.hop(
    'vdev.emulate',
    irq,
    'vmm',
    `vdev:${vdev.name}`,
    'forwarded',
    `${name}: emulated, CMDSTS ${status === 0 ? 'success' : '0x' + status.toString(16)}`,
  );
  if (!(value & IDXD_CMD_INT_REQ)) {
    // No completion interrupt requested: the guest polls CMDSTS. The access is complete.
    e.hop(
      'vdev.complete',
      irq,
      `vdev:${vdev.name}`,
      `vdev:${vdev.name}`,
      'done',
      'no completion interrupt requested (INT_REQ clear): guest polls CMDSTS',
    );
    e.delivered(irq, `${vdev.name} CMDSTS polled by the guest`);
    return;
  }
  e.schedule(e.cost.emulate, EV_VDEV_COMPLETE, irq, di);
});

const EV_VDEV_COMPLETE = defineEvent('vdev.complete', (e, irq, di) => {
  const vdev = e.state.vdevs[e.deviceNames[di]];
  e.setPath(irq, 'emulated');
  e.hop(
    'vdev.complete',
    irq,
    `vdev:${vdev.name}`,
    `vfio:${vdev.name}`,
    'forwarded',
    'idxd_complete_command: vidxd_send_interrupt(vidxd, 0)',
  );
  vfioSendSignal(e, irq, vdev.name, 0, `vfio:${vdev.name}`);
});

/** The guest's descriptor reaches the work queue portal; completion fires the WQ's IMS entry. */
export function vdevSubmit(e: Engine, vdev: VirtualDeviceState): number {
  const vector = vdev.wq + 1;
  const backing = vdev.vectors[vector];
  if (!backing || backing.backend !== 'ims')
    raise('EINVAL', `${vdev.name} vector ${vector} is not IMS-backed`, 'device');
  if (!vdev.regs.wq_enabled)
    raise('EINVAL', `${vdev.name}: work queue ${vdev.wq} is not enabled (ENABLE_WQ first)`, 'device');
  if (backing.ims_index === null)
    raise('EINVAL', `${vdev.name} vector ${vector} has no IMS entry yet: the guest must unmask it`, 'device');
  const irq = e.newIrq(`dev:${vdev.parent}`, 'direct');
  e.hop(
    'guest.submit',
    irq,
    'guest',
    `dev:${vdev.parent}`,
    'forwarded',
    `descriptor to ${vdev.name} WQ ${vdev.wq} portal (no VM exit)`,
  );
  const parent = e.deviceOrdinal(vdev.parent);
  e.schedule(e.cost.device_work, EV_IMS_RAISE, irq, parent, backing.ims_index);
  return irq;
}
