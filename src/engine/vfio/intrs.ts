// The VFIO IRQ ioctls of a device: VFIO_DEVICE_GET_IRQ_INFO (drivers/vfio/pci/vfio_pci_core.c:
// vfio_pci_ioctl_get_irq_info) and VFIO_DEVICE_SET_IRQS (vfio_pci_ioctl_set_irqs: count, generic
// validation, then the dispatcher vfio_pci_set_irqs_ioctl in vfio_pci_intrs.c). The dispatcher is a
// small table, as in the kernel: index x action -> handler; no handler is ENOTTY.

import type { Engine } from '../engine.ts';
import { raise } from '../errno.ts';
import { vfioIrqCount, type VfioTarget } from './device.ts';
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
} from './uapi.ts';
import { vfioPciSetMsiTrigger } from './msi.ts';
import { vfioPciSetIntxMask, vfioPciSetIntxTrigger, vfioPciSetIntxUnmask } from './intx.ts';
import { eventfdCtxFdget, eventfdSignal } from '../kvm/eventfd.ts';

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
