// An IDXD (Intel DSA) work queue composed as a virtual device (intel/idxd-driver: drivers/dma/idxd/vdev.c,
// drivers/vfio/mdev/idxd/). Its virtual MSI-X has one vector per work queue plus one: vector 0 is emulated
// and signals the emulated command interface's completions; vector 1 (its one work queue) is backed by an IMS entry of the
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
  DRAIN_ALL: 3,
  ABORT_ALL: 4,
  RESET_DEVICE: 5,
  ENABLE_WQ: 6,
  DISABLE_WQ: 7,
} as const;
const CMD_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(IDXD_CMD).map(([k, v]) => [v, k]),
);
/** Command status errors (registers.h: enum idxd_cmdsts_err). */
export const IDXD_CMDSTS = {
  SUCCESS: 0,
  INVAL_CMD: 0x01,
  INVAL_WQIDX: 0x02,
  ERR_DEV_ENABLED: 0x10,
  ERR_DEV_NOTEN: 0x20,
  ERR_WQ_ENABLED: 0x21,
} as const;
/** Command register (union idxd_command_reg): operand bits 19:0, cmd bits 24:20, int_req bit 31. */
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
  const cmd = (value >>> 20) & 0x1f;
  const operand = value & 0xfffff;
  const name = CMD_NAMES[cmd] ?? `command ${cmd}`;
  vdev.regs.cmd = value >>> 0;
  const r = vdev.regs;
  let status: number = IDXD_CMDSTS.SUCCESS;
  // vidxd_do_command: each command checks the virtual device's state as the hardware would
  switch (cmd) {
    case IDXD_CMD.ENABLE_DEVICE:
      if (r.dev_enabled) status = IDXD_CMDSTS.ERR_DEV_ENABLED;
      else r.dev_enabled = true;
      break;
    case IDXD_CMD.DISABLE_DEVICE:
    case IDXD_CMD.RESET_DEVICE:
      r.dev_enabled = false;
      r.wq_enabled = false;
      break;
    case IDXD_CMD.DRAIN_ALL:
    case IDXD_CMD.ABORT_ALL:
      break;
    case IDXD_CMD.ENABLE_WQ:
      // the virtual device has one work queue, index 0
      if (operand !== 0) status = IDXD_CMDSTS.INVAL_WQIDX;
      else if (!r.dev_enabled) status = IDXD_CMDSTS.ERR_DEV_NOTEN;
      else if (r.wq_enabled) status = IDXD_CMDSTS.ERR_WQ_ENABLED;
      else r.wq_enabled = true;
      break;
    case IDXD_CMD.DISABLE_WQ:
      if (operand !== 0) status = IDXD_CMDSTS.INVAL_WQIDX;
      else r.wq_enabled = false;
      break;
    default:
      status = IDXD_CMDSTS.INVAL_CMD;
  }
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
  // One work queue per virtual device (VIDXD_MAX_WQS): its completions use vector 1, the misc vector 0.
  const vector = 1;
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
