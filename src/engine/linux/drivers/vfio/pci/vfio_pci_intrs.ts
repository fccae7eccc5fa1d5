// The VFIO IRQ ioctls of a device: VFIO_DEVICE_GET_IRQ_INFO (drivers/vfio/pci/vfio_pci_core.c:
// vfio_pci_ioctl_get_irq_info) and VFIO_DEVICE_SET_IRQS (vfio_pci_ioctl_set_irqs: count, generic
// validation, then the dispatcher vfio_pci_set_irqs_ioctl in vfio_pci_intrs.c). The dispatcher is a
// small table, as in the kernel: index x action -> handler; no handler is ENOTTY. A virtual device's
// SET_IRQS enters through its variant driver's own ioctl, which validates with the driver's IRQ counts and
// then calls the interrupt library the design provides (vdevSetIrqs, imsLibrarySetIrqs).

import type { Engine } from '../../../../engine.ts';
import { raise } from '../../../../errno.ts';
import { vfioIrqCount, type VfioTarget } from '../device.ts';
import {
  VFIO_IRQ_INFO_AUTOMASKED,
  VFIO_IRQ_INFO_EVENTFD,
  VFIO_IRQ_INFO_MASKABLE,
  VFIO_IRQ_INFO_MINSZ,
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_BOOL,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_ERR_IRQ_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_NUM_IRQS,
  VFIO_PCI_REQ_IRQ_INDEX,
  vfioSetIrqsValidate,
  dataElementSize,
  type VfioIrqSet,
} from '../vfio_main.ts';
import { vfioPciSetMsiTrigger } from './vfio_pci_intrs_msi.ts';
import { vfioPciSetIntxMask, vfioPciSetIntxTrigger, vfioPciSetIntxUnmask } from './vfio_pci_intrs_intx.ts';
import { eventfdCtxFdget, eventfdSignal } from '../../../fs/eventfd.ts';
import { DESIGNS } from './designs.ts';

export function vfioGetIrqInfo(
  e: Engine,
  t: VfioTarget,
  index: number,
  argsz: number,
): { flags: number; count: number } {
  if (argsz < VFIO_IRQ_INFO_MINSZ)
    raise('EINVAL', `argsz ${argsz} is below the ${VFIO_IRQ_INFO_MINSZ}-byte vfio_irq_info`, 'argsz');
  if (index >= VFIO_PCI_NUM_IRQS)
    raise('EINVAL', `index ${index} >= VFIO_PCI_NUM_IRQS (${VFIO_PCI_NUM_IRQS})`, 'index');
  if (index === VFIO_PCI_ERR_IRQ_INDEX && !(t.pci?.pcie ?? false))
    raise('EINVAL', `${t.vfio.device} is not PCI Express: no ERR index`, 'index');
  let flags = VFIO_IRQ_INFO_EVENTFD;
  if (index === VFIO_PCI_INTX_IRQ_INDEX) flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
  // 6c8017c6a58d "vfio/pci: Clear VFIO_IRQ_INFO_NORESIZE for MSI-X" (v6.5): dynamic MSI-X can grow
  else if (index !== VFIO_PCI_MSIX_IRQ_INDEX || !hasDynMsix(e, t)) flags |= VFIO_IRQ_INFO_NORESIZE;
  return { flags, count: vfioIrqCount(t, index) };
}

/** vdev->has_dyn_msix (pci_msix_can_alloc_dyn): 6.12 with an MSI-X capability; IMS is always dynamic. */
export function hasDynMsix(e: Engine, t: VfioTarget): boolean {
  if (t.vdev) return true;
  return e.state.profile === '6.12' && t.pci?.msix != null;
}

type SetIrqsFn = (
  e: Engine,
  t: VfioTarget,
  start: number,
  count: number,
  flags: number,
  data: number[],
) => number;

const setMsi: SetIrqsFn = (e, t, s, c, f, d) => vfioPciSetMsiTrigger(e, t, false, s, c, f, d);
const setMsix: SetIrqsFn = (e, t, s, c, f, d) => vfioPciSetMsiTrigger(e, t, true, s, c, f, d);
const setErr: SetIrqsFn = (e, t, s, c, f, d) => ctxTriggerSingle(e, t, 'err_trigger', s, c, f, d);
const setReq: SetIrqsFn = (e, t, s, c, f, d) => ctxTriggerSingle(e, t, 'req_trigger', s, c, f, d);

// vfio_pci_set_irqs_ioctl: MSI/MSI-X masking is not exported ("XXX Need masking support exported");
// ERR exists only on PCI Express.
function dispatch(t: VfioTarget, index: number, action: number): SetIrqsFn | null {
  const pcie = t.pci?.pcie ?? false;
  const table: Record<number, Partial<Record<number, SetIrqsFn>>> = {
    [VFIO_PCI_INTX_IRQ_INDEX]: {
      [VFIO_IRQ_SET_ACTION_MASK]: vfioPciSetIntxMask,
      [VFIO_IRQ_SET_ACTION_UNMASK]: vfioPciSetIntxUnmask,
      [VFIO_IRQ_SET_ACTION_TRIGGER]: vfioPciSetIntxTrigger,
    },
    [VFIO_PCI_MSI_IRQ_INDEX]: { [VFIO_IRQ_SET_ACTION_TRIGGER]: setMsi },
    [VFIO_PCI_MSIX_IRQ_INDEX]: { [VFIO_IRQ_SET_ACTION_TRIGGER]: setMsix },
    [VFIO_PCI_ERR_IRQ_INDEX]: pcie ? { [VFIO_IRQ_SET_ACTION_TRIGGER]: setErr } : {},
    [VFIO_PCI_REQ_IRQ_INDEX]: { [VFIO_IRQ_SET_ACTION_TRIGGER]: setReq },
  };
  return table[index]?.[action] ?? null;
}

/** VFIO_DEVICE_SET_IRQS; returns the ioctl's return value (0). Data: fds (EVENTFD) or bytes (BOOL). */
export function vfioSetIrqs(e: Engine, t: VfioTarget, hdr: VfioIrqSet, data: number[]): number {
  if (t.vdev) return vdevSetIrqs(e, t, hdr, data);
  const bad = vfioSetIrqsValidate(hdr, vfioIrqCount(t, hdr.index), VFIO_PCI_NUM_IRQS);
  if (bad) raise('EINVAL', bad.message, bad.field);
  const fn = dispatch(t, hdr.index, hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK);
  if (!fn) {
    const actions = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    raise(
      'ENOTTY',
      actions === 0 || (actions & (actions - 1)) !== 0
        ? `flags must name exactly one ACTION_* (got 0x${actions.toString(16)})`
        : `index ${hdr.index} does not support this action`,
      'flags',
    );
  }
  // memdup_user copies count elements from the caller; a shorter array is memory the caller lacks.
  const size = dataElementSize(hdr.flags);
  if (size > 0 && data.length < hdr.count)
    raise(
      'EFAULT',
      `count ${hdr.count} needs ${hdr.count} ${size === 4 ? 'fds' : 'bytes'} of data; ${data.length} given`,
      'data',
    );
  return fn(e, t, hdr.start, hdr.count, hdr.flags, data);
}

/** The vfio_pci_intr_ops member the dispatcher looks up for an index and action (RFC v2/v3). */
function opName(index: number, action: number): string {
  const act = { [VFIO_IRQ_SET_ACTION_MASK]: 'mask', [VFIO_IRQ_SET_ACTION_UNMASK]: 'unmask' }[action];
  const type = ['intx', 'msi', 'msix', 'err', 'req'][index] ?? `index ${index}`;
  if (action === VFIO_IRQ_SET_ACTION_TRIGGER) return `set_${type}_trigger`;
  if (index === VFIO_PCI_INTX_IRQ_INDEX && act) return `set_intx_${act}`;
  return `no op for ${type} ${act ?? `action 0x${action.toString(16)}`}`;
}

/**
 * A virtual device's VFIO_DEVICE_SET_IRQS: the variant driver's ioctl (idxd_vdcm_ioctl_device_set_irqs)
 * validates with its own counts (vfio_set_irqs_validate_and_prepare), then RFC v1's driver switches itself (MSI-X TRIGGER to
 * vfio_pci_set_ims_trigger, REQ TRIGGER to its own vfio_set_req_trigger, anything else -ENOTTY) and RFC
 * v2/v3's calls vfio_pci_set_irqs_ioctl(intr_ctx), whose IMS ops table answers.
 */
function vdevSetIrqs(e: Engine, t: VfioTarget, hdr: VfioIrqSet, data: number[]): number {
  const entry = DESIGNS[e.state.design].rules.vdevEntry;
  if (!entry)
    raise('ENOTTY', `${t.vfio.device}: the ${e.state.design} design has no virtual-device path`, 'device');
  const action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
  e.hop(
    'ctl.set_irqs',
    0,
    'vmm',
    `vfio:${t.vfio.device}`,
    'done',
    `${t.vfio.device}'s variant driver: validates with its own IRQ counts, then ${entry.calls.split('@')[0]}`,
    entry.ioctl,
  );
  const bad = vfioSetIrqsValidate(hdr, vfioIrqCount(t, hdr.index), VFIO_PCI_NUM_IRQS);
  if (bad) raise('EINVAL', bad.message, bad.field);
  const size = dataElementSize(hdr.flags);
  if (size > 0 && data.length < hdr.count)
    raise(
      'EFAULT',
      `count ${hdr.count} needs ${hdr.count} ${size === 4 ? 'fds' : 'bytes'} of data; ${data.length} given`,
      'data',
    );
  if (e.state.design === 'rfc-v1') {
    if (hdr.index === VFIO_PCI_REQ_IRQ_INDEX && action === VFIO_IRQ_SET_ACTION_TRIGGER)
      return setReq(e, t, hdr.start, hdr.count, hdr.flags, data);
    if (hdr.index !== VFIO_PCI_MSIX_IRQ_INDEX || action !== VFIO_IRQ_SET_ACTION_TRIGGER)
      raise('ENOTTY', `idxd_vdcm_set_irqs: index ${hdr.index} with this action is not supported`, 'flags');
  }
  return imsLibrarySetIrqs(e, t, hdr.flags, hdr.index, hdr.start, hdr.count, data);
}

/**
 * What a variant driver calls once it has validated: RFC v1's vfio_pci_set_ims_trigger (any index but
 * MSI-X is -EINVAL), or RFC v2/v3's vfio_pci_set_irqs_ioctl(intr_ctx) with vfio_pci_ims_intr_ops, which
 * has only set_msix_trigger and set_req_trigger: a NULL op is -ENOTTY (DesignRules.missingOp).
 */
export function imsLibrarySetIrqs(
  e: Engine,
  t: VfioTarget,
  flags: number,
  index: number,
  start: number,
  count: number,
  data: number[],
): number {
  const missing = DESIGNS[e.state.design].rules.missingOp ?? 'ENOTTY';
  const action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
  if (e.state.design === 'rfc-v1') {
    if (index !== VFIO_PCI_MSIX_IRQ_INDEX)
      raise(missing, `vfio_pci_set_ims_trigger: index ${index} is not VFIO_PCI_MSIX_IRQ_INDEX`, 'index');
    return setMsix(e, t, start, count, flags, data);
  }
  const op =
    action === VFIO_IRQ_SET_ACTION_TRIGGER && index === VFIO_PCI_MSIX_IRQ_INDEX
      ? setMsix
      : action === VFIO_IRQ_SET_ACTION_TRIGGER && index === VFIO_PCI_REQ_IRQ_INDEX
        ? setReq
        : null;
  if (!op)
    raise(
      missing,
      `vfio_pci_set_irqs_ioctl: vfio_pci_ims_intr_ops has no ${opName(index, action)} (NULL op)`,
      'index',
    );
  return op(e, t, start, count, flags, data);
}

// vfio_pci_set_ctx_trigger_single (ERR and REQ). 6.12 carries "vfio/pci: Use RCU for error/request
// triggers to avoid circular locking" (6.12 stable): an fd below -1 became EINVAL; 6.1 ignores it.
function ctxTriggerSingle(
  e: Engine,
  t: VfioTarget,
  which: 'err_trigger' | 'req_trigger',
  start: number,
  count: number,
  flags: number,
  data: number[],
): number {
  const v = t.vfio;
  const label = which === 'err_trigger' ? 'ERR' : 'REQ';
  if (start !== 0 || count > 1) raise('EINVAL', `${label} takes start 0 and count 0 or 1`, 'count');
  if (flags & VFIO_IRQ_SET_DATA_NONE) {
    if (v[which] !== null) {
      if (count) {
        const irq = e.newIrq(`vfio:${v.device}`, 'emulated');
        e.hop(
          'vfio.send_signal',
          irq,
          `vfio:${v.device}`,
          'eventfd',
          'forwarded',
          `${label} loop-back: eventfd ${v[which]}`,
          'vfio_pci_set_ctx_trigger_single@drivers/vfio/pci/vfio_pci_intrs.c',
        );
        eventfdSignal(e, irq, v[which]!, `vfio:${v.device}`);
      } else v[which] = null;
      return 0;
    }
    raise('EINVAL', `${label} has no eventfd to signal or release`, 'flags');
  }
  if (flags & VFIO_IRQ_SET_DATA_BOOL) {
    if (!count) raise('EINVAL', `${label} DATA_BOOL needs count 1`, 'count');
    if (data[0] && v[which] !== null) {
      const irq = e.newIrq(`vfio:${v.device}`, 'emulated');
      eventfdSignal(e, irq, v[which]!, `vfio:${v.device}`);
    }
    return 0;
  }
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    if (!count) raise('EINVAL', `${label} DATA_EVENTFD needs count 1`, 'count');
    const fd = data[0] ?? 0;
    if (fd === -1) v[which] = null;
    else if (fd >= 0) v[which] = eventfdCtxFdget(e, fd, 'data').fd;
    else if (e.state.profile === '6.12') raise('EINVAL', `fd ${fd} is neither an eventfd nor -1`, 'data');
    return 0;
  }
  raise('EINVAL', 'no data type', 'flags');
}
