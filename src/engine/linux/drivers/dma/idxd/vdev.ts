// An IDXD (Intel DSA) work queue composed as a virtual device (intel/idxd-driver: drivers/dma/idxd/vdev.c,
// drivers/vfio/mdev/idxd/). Its virtual MSI-X has one vector per work queue plus one: vector 0 is emulated
// and signals the emulated command interface's completions; vector 1 (its one work queue) is backed by an IMS entry of the
// parent that the hardware fires on work completion.
//   intercepted path: the guest writes the command register (IDXD_CMD_OFFSET) -> VM exit -> QEMU ->
//     VFIO region write -> vidxd_mmio_write -> vidxd_do_command -> idxd_complete_command ->
//     vidxd_send_interrupt(vidxd, 0) -> vfio_pci_send_signal -> eventfd -> irqfd -> guest;
//   direct path: the guest submits a descriptor to the WQ portal; the device completes it and fires
//     the IMS entry (idxd_guest_wq_completion handles it on the host when not posted).

import { defineEvent, type Engine } from '../../../../engine.ts';
import type { VirtualDeviceState, VirtualDeviceTopology } from '../../../../types.ts';
import { raise } from '../../../../errno.ts';
import { vfioSendSignal } from '../../vfio/pci/vfio_pci_intrs_handlers.ts';
import { imsRaise } from '../../../../hw/ims.ts';
import { printk } from '../../../kernel/printk/printk.ts';

/** Emulated BAR0 registers (drivers/dma/idxd/registers.h). */
export const IDXD_CMD_OFFSET = 0xa0;
export const IDXD_CMDSTS_OFFSET = 0xa8;
export const IDXD_INTCAUSE_OFFSET = 0x98;
/** INTCAUSE bits (registers.h). */
export const IDXD_INTC_CMD = 0x02;
/** Commands (registers.h: enum idxd_cmd). */
export const IDXD_CMD = {
  ENABLE_DEVICE: 1,
  DISABLE_DEVICE: 2,
  DRAIN_ALL: 3,
  ABORT_ALL: 4,
  RESET_DEVICE: 5,
  ENABLE_WQ: 6,
  DISABLE_WQ: 7,
  DRAIN_WQ: 8,
  ABORT_WQ: 9,
  RESET_WQ: 10,
  DRAIN_PASID: 11,
  ABORT_PASID: 12,
  REQUEST_INT_HANDLE: 13,
  RELEASE_INT_HANDLE: 14,
} as const;
const CMD_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(IDXD_CMD).map(([k, v]) => [v, k]),
);
/** Command status errors (registers.h: enum idxd_cmdsts_err). */
export const IDXD_CMDSTS = {
  SUCCESS: 0,
  INVAL_CMD: 0x01,
  INVAL_WQIDX: 0x02,
  HW_ERR: 0x03,
  ERR_DEV_ENABLED: 0x10,
  ERR_BUSMASTER_EN: 0x12,
  ERR_DEV_NOTEN: 0x20,
  ERR_WQ_ENABLED: 0x21,
  ERR_DIS_DEV_EN: 0x31,
  ERR_DEV_NOT_EN: 0x32,
  ERR_INVAL_INT_IDX: 0x41,
  ERR_NO_HANDLE: 0x42,
  ERR_INVAL_INT_IDX_RELEASE: 0x43,
} as const;
/** CMDSTS result field (bits 23:8): REQUEST_INT_HANDLE returns the IMS index there. */
export const IDXD_CMDSTS_RES_SHIFT = 8;
/** Command register (union idxd_command_reg): operand bits 19:0, cmd bits 24:20, int_req bit 31. */
export const IDXD_CMD_INT_REQ = 1 << 31;
/** REQUEST/RELEASE_INT_HANDLE operand bit: an IMS handle rather than an MSI-X one. */
export const CMD_INT_HANDLE_IMS = 0x10000;
/**
 * vidxd_mmio_init_cmdcap: the commands the virtual device advertises. DRAIN_PASID and ABORT_PASID are
 * advertised but vidxd_do_command has no case for them: they answer INVAL_CMD.
 */
const CMDCAP = Object.values(IDXD_CMD);
/** mdev.h: VIDXD_MAX_WQS 1, VIDXD_MAX_MSIX_VECS 2 (vector 0 emulated, one per WQ). */
const VIDXD_MAX_WQS = 1;
const PCI_COMMAND_MASTER = 0x4;

export function vdevCreate(t: VirtualDeviceTopology): VirtualDeviceState {
  return {
    name: t.name,
    parent: t.parent,
    kind: t.kind,
    wq: t.wq,
    cookie: t.cookie ?? t.wq,
    // vfio_ims_init_irq_ctx: every context starts with the default cookie
    vectors: t.vectors.map((backend) => ({ backend, ims_index: null, icookie: t.cookie ?? t.wq })),
    // the guest's IDXD driver has set Bus Master (pci_set_master in idxd_pci_probe) before any command
    regs: { cmd: 0, cmdsts: 0, wq_enabled: false, dev_enabled: false, intcause: 0, command: 0x0006 },
  };
}

/** What one command does to the emulated registers: the CMDSTS value (vidxd_do_command and its helpers). */
function vidxdDoCommand(vdev: VirtualDeviceState, cmd: number, operand: number): number {
  const r = vdev.regs;
  // command_supported: a bit in IDXD_CMDCAP_OFFSET (the device is never HALT here: Bus Master is not
  // cleared by the modelled guest, so vidxd_report_pci_error does not run)
  if (!(CMDCAP as number[]).includes(cmd)) return IDXD_CMDSTS.INVAL_CMD;
  switch (cmd) {
    case IDXD_CMD.ENABLE_DEVICE: // vidxd_enable
      if (r.dev_enabled) return IDXD_CMDSTS.ERR_DEV_ENABLED;
      if (!(r.command & PCI_COMMAND_MASTER)) return IDXD_CMDSTS.ERR_BUSMASTER_EN;
      r.dev_enabled = true;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.DISABLE_DEVICE: // vidxd_disable
      if (!r.dev_enabled) return IDXD_CMDSTS.ERR_DIS_DEV_EN;
      r.wq_enabled = false;
      r.dev_enabled = false;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.DRAIN_ALL: // vidxd_drain_all: idxd_wq_drain, always success
    case IDXD_CMD.ABORT_ALL: // vidxd_abort_all: idxd_wq_abort
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.RESET_DEVICE: // vidxd_reset: abort and disable the WQ, vidxd_mmio_init
      r.wq_enabled = false;
      r.dev_enabled = false;
      r.intcause = 0;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.ENABLE_WQ: // vidxd_wq_enable(vidxd, operand)
      if (operand >= VIDXD_MAX_WQS) return IDXD_CMDSTS.INVAL_WQIDX;
      if (!r.dev_enabled) return IDXD_CMDSTS.ERR_DEV_NOTEN;
      if (r.wq_enabled) return IDXD_CMDSTS.ERR_WQ_ENABLED;
      r.wq_enabled = true;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.DISABLE_WQ: // vidxd_wq_disable ignores its wq_id_mask: the one WQ
      if (!r.wq_enabled) return IDXD_CMDSTS.ERR_DEV_NOT_EN;
      r.wq_enabled = false;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.DRAIN_WQ: // vidxd_wq_drain
    case IDXD_CMD.ABORT_WQ: // vidxd_wq_abort
      return r.wq_enabled ? IDXD_CMDSTS.SUCCESS : IDXD_CMDSTS.ERR_DEV_NOT_EN;
    case IDXD_CMD.RESET_WQ: // vidxd_wq_reset: abort, disable
      if (!r.wq_enabled) return IDXD_CMDSTS.ERR_DEV_NOT_EN;
      r.wq_enabled = false;
      return IDXD_CMDSTS.SUCCESS;
    case IDXD_CMD.REQUEST_INT_HANDLE: {
      // vidxd_alloc_int_handle: "vidx cannot be 0 since that's emulated and does not require IMS handle"
      const vidx = operand & 0xffff;
      if (vidx <= 0 || vidx >= vdev.vectors.length) return IDXD_CMDSTS.ERR_INVAL_INT_IDX;
      if (operand & CMD_INT_HANDLE_IMS) return IDXD_CMDSTS.ERR_NO_HANDLE; // "not implemented yet"
      // dev_msi_hwirq(dev, vidx - 1): the IMS index backing guest vector vidx, in the result field
      const ims = vdev.vectors[vidx].ims_index;
      if (ims === null) return IDXD_CMDSTS.ERR_NO_HANDLE;
      return (ims << IDXD_CMDSTS_RES_SHIFT) >>> 0;
    }
    case IDXD_CMD.RELEASE_INT_HANDLE:
      // vidxd_release_int_handle: an unknown handle completes with INVAL_INT_IDX_RELEASE and then, falling
      // through, with SUCCESS again: the guest reads SUCCESS either way
      return operand & CMD_INT_HANDLE_IMS ? IDXD_CMDSTS.ERR_INVAL_INT_IDX_RELEASE : IDXD_CMDSTS.SUCCESS;
    default: // DRAIN_PASID, ABORT_PASID: advertised, not dispatched
      return IDXD_CMDSTS.INVAL_CMD;
  }
}

/** The guest's write to an emulated register, after QEMU forwarded it: a = vdev ordinal, b = value. */
export const EV_VDEV_WRITE = defineEvent('vdev.emulate', (e, irq, di, value) => {
  const vdev = e.state.vdevs[e.deviceNames[di]];
  const cmd = (value >>> 20) & 0x1f;
  const operand = value & 0xfffff;
  const name = CMD_NAMES[cmd] ?? `command ${cmd}`;
  vdev.regs.cmd = value >>> 0;
  const status = vidxdDoCommand(vdev, cmd, operand);
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
  // idxd_complete_command: INTCAUSE gets IDXD_INTC_CMD before vector 0 is sent
  vdev.regs.intcause |= IDXD_INTC_CMD;
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
    'idxd_complete_command: INTCAUSE |= IDXD_INTC_CMD, vidxd_send_interrupt(vidxd, 0)',
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
  e.schedule(e.cost.device_work, EV_WQ_COMPLETE, irq, e.deviceOrdinal(vdev.name), backing.ims_index);
  return irq;
}

/**
 * The work queue completes a descriptor of its PASID and fires its IMS entry: a = vdev ordinal, b = IMS
 * index. The entry's PASID (the cookie it was allocated with) must match: "A mismatch will result in
 * blocked IMS interrupt" (2020 drivers/dma/idxd/mdev.c, msix_trigger_register programming the PASID with
 * irq_set_auxdata). So the cookie does affect delivery, at the device.
 */
const EV_WQ_COMPLETE = defineEvent('vdev.wq_complete', (e, irq, di, index) => {
  const vdev = e.state.vdevs[e.deviceNames[di]];
  const parent = e.state.devices[vdev.parent];
  const entry = parent.ims?.entries[index];
  if (entry && entry.owner !== null && entry.cookie !== vdev.cookie) {
    e.hop(
      'dev.raise',
      irq,
      `dev:${parent.name}`,
      `ims:${parent.name}`,
      'dropped',
      `WQ ${vdev.wq} completion (PASID ${vdev.cookie}) vs IMS entry ${index} PASID ${entry.cookie}: interrupt blocked`,
    );
    e.dropped(irq, 'IMS entry PASID does not match the work queue: interrupt blocked');
    return;
  }
  imsRaise(e, irq, e.deviceOrdinal(parent.name), index);
});

// ---------------------------------------------------------------- the RFC interrupt-context API
// What the virtual device driver calls on its interrupt context (docs/kernel-notes.md E.2 and I.6): RFC v1
// names them vfio_pci_ims_* in vfio_pci_ims.c; v2 and v3 put set_emulated / send_signal in the front end
// (vfio_pci_intrs.c) and keep vfio_pci_ims_hwirq / vfio_pci_ims_set_cookie with the IMS backend. The
// IDXD driver of that generation calls vfio_pci_ims_hwirq for REQUEST_INT_HANDLE (intel/idxd-driver
// drivers/vfio/pci/idxd/vdev.c). None of it exists in the merged kernel.

const VFIO_INTRS = 'drivers/vfio/pci/vfio_pci_intrs.c';
const VFIO_IMS = 'drivers/vfio/pci/vfio_pci_ims.c';

function apiFn(e: Engine, what: 'set_emulated' | 'send_signal' | 'ims_hwirq' | 'ims_set_cookie'): string {
  const design = e.state.design;
  if (design === 'merged')
    raise(
      'EOPNOTSUPP',
      `vfio_pci_${what} is not in the merged kernel (6.1, 6.12): choose an RFC design`,
      'device',
    );
  if (design === 'rfc-v1') return `vfio_pci_ims_${what.replace('ims_', '')}@${VFIO_IMS}`;
  return `vfio_pci_${what}@${what.startsWith('ims_') ? VFIO_IMS : VFIO_INTRS}`;
}

function vdevOf(e: Engine, device: string): VirtualDeviceState {
  const vdev = Object.hasOwn(e.state.vdevs, device) ? e.state.vdevs[device] : undefined;
  if (!vdev)
    raise(
      'EINVAL',
      `${device} is not a virtual device: only a virtual device driver calls this API`,
      'device',
    );
  return vdev;
}

function apiHop(
  e: Engine,
  device: string,
  fn: string,
  detail: string,
  outcome: 'done' | 'failed' = 'done',
): void {
  e.hop('ctl.vector_signal', 0, `vdev:${device}`, `vfio:${device}`, outcome, detail, fn);
}

/**
 * vfio_pci_set_emulated(intr_ctx, start, count): a context marked emulated per vector, all or nothing
 * ("No partial success"); a vector that already has a context is -EBUSY (xa_insert). RFC v2 refuses it
 * (-EINVAL) unless the backend sets supports_emulated, which only the IMS backend does: a virtual device.
 */
export function vdevSetEmulated(e: Engine, device: string, start: number, count: number): void {
  const vdev = vdevOf(e, device);
  const fn = apiFn(e, 'set_emulated');
  const v = e.state.vfio[device];
  if (count < 1 || start + count > vdev.vectors.length)
    raise(
      'EINVAL',
      `vectors ${start}..${start + count - 1} are past ${device}'s ${vdev.vectors.length}`,
      'count',
    );
  for (let n = start; n < start + count; n++)
    if (v.ctx[n] && v.ctx[n].backend !== 'emulated')
      raise(
        'EBUSY',
        `vector ${n} already has an interrupt context (xa_insert: -EBUSY): nothing marked`,
        'start',
      );
  for (let n = start; n < start + count; n++) {
    vdev.vectors[n].backend = 'emulated';
    vdev.vectors[n].ims_index = null;
    if (!v.emulated.includes(n)) v.emulated.push(n);
  }
  v.emulated.sort((a, b) => a - b);
  apiHop(
    e,
    device,
    fn,
    `${device}: vectors ${start}..${start + count - 1} emulated (no host interrupt behind them)`,
  );
}

/**
 * vfio_pci_send_signal(intr_ctx, vector): WARN_ON_ONCE(!ctx || !ctx->emulated || !ctx->trigger) and
 * return, else eventfd_signal(ctx->trigger). Returns the interrupt id.
 */
export function vdevSendSignal(e: Engine, device: string, vector: number): number {
  const vdev = vdevOf(e, device);
  const fn = apiFn(e, 'send_signal');
  if (vector < 0 || vector >= vdev.vectors.length)
    raise('EINVAL', `vector ${vector} is past ${device}'s ${vdev.vectors.length}`, 'vector');
  const ctx = e.state.vfio[device].ctx[vector];
  const irq = e.newIrq(`vdev:${device}`, 'emulated');
  if (!ctx || vdev.vectors[vector].backend !== 'emulated' || ctx.trigger === null) {
    const why = !ctx
      ? 'no context'
      : vdev.vectors[vector].backend !== 'emulated'
        ? 'not emulated'
        : 'no trigger';
    printk(
      e,
      'warn',
      fn,
      `WARNING: WARN_ON_ONCE(!ctx || !ctx->emulated || !ctx->trigger): vector ${vector}, ${why}`,
    );
    e.hop(
      'vfio.send_signal',
      irq,
      `vdev:${device}`,
      `vfio:${device}/emulated`,
      'dropped',
      `vector ${vector}: ${why}: WARN_ON_ONCE, nothing signalled`,
      fn,
    );
    e.dropped(irq, `vfio_pci_send_signal: ${why} (WARN_ON_ONCE)`);
    return irq;
  }
  vfioSendSignal(e, irq, device, vector, `vdev:${device}`);
  return irq;
}

/** vfio_pci_ims_hwirq(intr_ctx, vector): the IMS index behind a vector, -EINVAL when none is allocated. */
export function vdevImsHwirq(e: Engine, device: string, vector: number): number {
  const vdev = vdevOf(e, device);
  const fn = apiFn(e, 'ims_hwirq');
  const index = vdev.vectors[vector]?.ims_index ?? null;
  if (index === null)
    raise(
      'EINVAL',
      `vector ${vector} of ${device} has no IMS interrupt (emulated, or no trigger assigned yet)`,
      'vector',
    );
  apiHop(e, device, fn, `${device} vector ${vector}: IMS index ${index}`);
  return index;
}

/**
 * vfio_pci_ims_set_cookie(intr_ctx, vector, icookie): the cookie pci_ims_alloc_irq gets at the vector's
 * next allocation (vfio_ims_request_interrupt); an entry already allocated keeps the one it was given.
 */
export function vdevImsSetCookie(e: Engine, device: string, vector: number, cookie: number): void {
  const vdev = vdevOf(e, device);
  const fn = apiFn(e, 'ims_set_cookie');
  const slot = vdev.vectors[vector];
  if (!slot) raise('EINVAL', `vector ${vector} is past ${device}'s ${vdev.vectors.length}`, 'vector');
  if (slot.backend !== 'ims') raise('EINVAL', `vector ${vector} of ${device} is not IMS-backed`, 'vector');
  slot.icookie = cookie;
  apiHop(
    e,
    device,
    fn,
    `${device} vector ${vector}: cookie (PASID) ${cookie} for the next pci_ims_alloc_irq${slot.ims_index !== null ? `; IMS entry ${slot.ims_index} keeps its own until then` : ''}`,
  );
}
