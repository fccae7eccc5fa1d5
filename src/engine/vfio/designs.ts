// The three generations of the IMS / interrupt-context design, as data: for each front-end operation
// and backend, the function that performs it (docs/kernel-notes.md, section E.4). The engine runs one
// flow; the design only changes which names the trace shows. None of the three series was merged; the
// merged 6.1/6.12 code is what `vfio-pci` devices run, and its names are the rfc-v3 PCI column's.

import type { DesignGeneration } from '../types.ts';

export type FrontOp =
  | 'set_irqs'
  | 'set_trigger'
  | 'set_trigger_msi'
  | 'set_block'
  | 'vector_signal'
  | 'enable'
  | 'disable'
  | 'request_interrupt'
  | 'free_interrupt'
  | 'loopback'
  | 'send_signal';
export type BackendKind = 'pci' | 'ims' | 'emulated';

const INTRS = 'drivers/vfio/pci/vfio_pci_intrs.c';
const IMS_V1 = 'drivers/vfio/pci/vfio_pci_ims.c';
const fn = (name: string, file = INTRS): string => `${name}@${file}`;

type Table = Record<FrontOp, Record<BackendKind, string>>;

const MERGED_PCI: Record<FrontOp, string> = {
  set_irqs: fn('vfio_pci_set_irqs_ioctl'),
  set_trigger: fn('vfio_pci_set_msi_trigger'),
  set_trigger_msi: fn('vfio_pci_set_msi_trigger'),
  set_block: fn('vfio_msi_set_block'),
  vector_signal: fn('vfio_msi_set_vector_signal'),
  enable: fn('vfio_msi_enable'),
  disable: fn('vfio_msi_disable'),
  // an inline over request_threaded_irq (include/linux/interrupt.h), which kernel/irq/manage.c defines
  request_interrupt: fn('request_irq (inline: request_threaded_irq)', 'kernel/irq/manage.c'),
  free_interrupt: fn('free_irq', 'kernel/irq/manage.c'),
  loopback: fn('vfio_pci_set_msi_trigger'),
  send_signal: fn('eventfd_signal', 'fs/eventfd.c'),
};

const RFC_V1: Table = {
  set_irqs: {
    pci: MERGED_PCI.set_irqs,
    ims: fn('vfio_pci_set_ims_trigger', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger', IMS_V1),
  },
  set_trigger: {
    pci: MERGED_PCI.set_trigger,
    ims: fn('vfio_pci_set_ims_trigger', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger', IMS_V1),
  },
  set_trigger_msi: {
    pci: MERGED_PCI.set_trigger_msi,
    ims: MERGED_PCI.set_trigger_msi,
    emulated: MERGED_PCI.set_trigger_msi,
  },
  set_block: {
    pci: MERGED_PCI.set_block,
    ims: fn('vfio_pci_ims_set_block', IMS_V1),
    emulated: fn('vfio_pci_ims_set_block', IMS_V1),
  },
  vector_signal: {
    pci: MERGED_PCI.vector_signal,
    ims: fn('vfio_pci_ims_set_vector_signal', IMS_V1),
    emulated: fn('vfio_pci_ims_set_vector_signal (ctx->emulated)', IMS_V1),
  },
  enable: {
    pci: MERGED_PCI.enable,
    ims: fn('(none: IMS is always dynamic)', IMS_V1),
    emulated: fn('(none)', IMS_V1),
  },
  disable: {
    pci: MERGED_PCI.disable,
    ims: fn('vfio_pci_set_ims_trigger', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger', IMS_V1),
  },
  request_interrupt: {
    pci: MERGED_PCI.request_interrupt,
    ims: fn('vfio_pci_ims_irq_alloc', IMS_V1),
    emulated: fn('(none: emulated)', IMS_V1),
  },
  free_interrupt: {
    pci: MERGED_PCI.free_interrupt,
    ims: fn('vfio_pci_ims_irq_free', IMS_V1),
    emulated: fn('(none: emulated)', IMS_V1),
  },
  loopback: {
    pci: MERGED_PCI.loopback,
    ims: fn('vfio_pci_set_ims_trigger', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger', IMS_V1),
  },
  send_signal: {
    pci: MERGED_PCI.send_signal,
    ims: fn('vfio_pci_ims_irq_handler', IMS_V1),
    emulated: fn('vfio_pci_ims_send_signal', IMS_V1),
  },
};

const RFC_V3: Table = {
  set_irqs: {
    pci: fn('vfio_pci_set_irqs_ioctl (intr_ctx)'),
    ims: fn('vfio_pci_set_irqs_ioctl (intr_ctx)'),
    emulated: fn('vfio_pci_set_irqs_ioctl (intr_ctx)'),
  },
  set_trigger: {
    pci: fn('intr_ctx->ops->set_msix_trigger = vfio_pci_set_msi_trigger'),
    ims: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_msi_trigger'),
    emulated: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_msi_trigger'),
  },
  set_trigger_msi: {
    pci: fn('intr_ctx->ops->set_msi_trigger = vfio_pci_set_msi_trigger'),
    ims: fn('intr_ctx->ops->set_msi_trigger = vfio_pci_set_msi_trigger'),
    emulated: fn('intr_ctx->ops->set_msi_trigger = vfio_pci_set_msi_trigger'),
  },
  set_block: { pci: MERGED_PCI.set_block, ims: MERGED_PCI.set_block, emulated: MERGED_PCI.set_block },
  vector_signal: {
    pci: fn('vfio_msi_set_vector_signal (intr_ctx)'),
    ims: fn('vfio_msi_set_vector_signal (intr_ctx)'),
    emulated: fn('vfio_msi_set_vector_signal: ctx->emulated, return early'),
  },
  enable: {
    pci: fn('ops->msi_enable = vfio_msi_enable'),
    ims: fn('ops->msi_enable = vfio_ims_enable'),
    emulated: fn('ops->msi_enable = vfio_ims_enable'),
  },
  disable: {
    pci: fn('ops->msi_disable = vfio_msi_disable'),
    ims: fn('ops->msi_disable = vfio_ims_disable'),
    emulated: fn('ops->msi_disable = vfio_ims_disable'),
  },
  request_interrupt: {
    pci: fn('ops->msi_request_interrupt = vfio_msi_request_interrupt'),
    ims: fn('ops->msi_request_interrupt = vfio_ims_request_interrupt'),
    emulated: fn('(none: emulated vector)'),
  },
  free_interrupt: {
    pci: fn('ops->msi_free_interrupt = vfio_msi_free_interrupt'),
    ims: fn('ops->msi_free_interrupt = vfio_ims_free_interrupt'),
    emulated: fn('(none: emulated vector)'),
  },
  loopback: {
    pci: fn('vfio_pci_set_msi_trigger'),
    ims: fn('vfio_pci_set_msi_trigger'),
    emulated: fn('vfio_pci_set_msi_trigger'),
  },
  send_signal: {
    pci: fn('vfio_msihandler'),
    ims: fn('vfio_msihandler'),
    emulated: fn('vfio_pci_send_signal (intr_ctx)'),
  },
};

// The February 2024 series has no IMS backend; for IMS and emulated vectors the table extends its
// per-type ops the way the series shapes them, and says so.
const HYPO = ' (extension: not in the series)';
const CLEANUP_2024: Table = {
  set_irqs: {
    pci: fn('vfio_pci_set_irqs_ioctl'),
    ims: fn('vfio_pci_set_irqs_ioctl'),
    emulated: fn('vfio_pci_set_irqs_ioctl'),
  },
  set_trigger: {
    pci: fn('vfio_pci_set_trigger'),
    ims: fn('vfio_pci_set_trigger'),
    emulated: fn('vfio_pci_set_trigger'),
  },
  set_trigger_msi: {
    pci: fn('vfio_pci_set_trigger'),
    ims: fn('vfio_pci_set_trigger'),
    emulated: fn('vfio_pci_set_trigger'),
  },
  set_block: {
    pci: fn('vfio_irq_set_block'),
    ims: fn('vfio_irq_set_block'),
    emulated: fn('vfio_irq_set_block'),
  },
  vector_signal: {
    pci: fn('vfio_irq_set_vector_signal'),
    ims: fn('vfio_irq_set_vector_signal'),
    emulated: fn('vfio_irq_set_vector_signal'),
  },
  enable: {
    pci: fn('intr_ops[index].enable = vfio_msi_enable'),
    ims: fn('intr_ops[IMS].enable' + HYPO),
    emulated: fn('intr_ops[IMS].enable' + HYPO),
  },
  disable: {
    pci: fn('intr_ops[index].disable = vfio_msi_disable'),
    ims: fn('intr_ops[IMS].disable' + HYPO),
    emulated: fn('intr_ops[IMS].disable' + HYPO),
  },
  request_interrupt: {
    pci: fn('intr_ops[index].request_interrupt = vfio_msi_request_interrupt'),
    ims: fn('intr_ops[IMS].request_interrupt' + HYPO),
    emulated: fn('(none: emulated vector)' + HYPO),
  },
  free_interrupt: {
    pci: fn('intr_ops[index].free_interrupt = vfio_msi_free_interrupt'),
    ims: fn('intr_ops[IMS].free_interrupt' + HYPO),
    emulated: fn('(none: emulated vector)' + HYPO),
  },
  loopback: {
    pci: fn('intr_ops[index].send_eventfd = vfio_send_msi_eventfd'),
    ims: fn('intr_ops[index].send_eventfd = vfio_send_msi_eventfd'),
    emulated: fn('intr_ops[index].send_eventfd = vfio_send_msi_eventfd'),
  },
  send_signal: {
    pci: fn('vfio_msihandler'),
    ims: fn('vfio_msihandler'),
    emulated: fn('vfio_send_msi_eventfd' + HYPO),
  },
};

/**
 * INTx functions by design: the merged name, or what the design calls instead. RFC v2/v3 reach the
 * per-action entries through intr_ctx->ops; the 2024 clean-up folds INTx into vfio_pci_set_trigger and
 * removes vfio_intx_set_signal.
 */
const INTX_BY_DESIGN: Record<DesignGeneration, Record<string, string>> = {
  'rfc-v1': {},
  'rfc-v3': {
    vfio_pci_set_intx_trigger: 'intr_ctx->ops->set_intx_trigger = vfio_pci_set_intx_trigger',
    vfio_pci_set_intx_mask: 'intr_ctx->ops->set_intx_mask = vfio_pci_set_intx_mask',
    vfio_pci_set_intx_unmask: 'intr_ctx->ops->set_intx_unmask = vfio_pci_set_intx_unmask',
  },
  'cleanup-2024': {
    vfio_pci_set_intx_trigger: 'vfio_pci_set_trigger',
    vfio_intx_enable: 'intr_ops[INTX].enable = vfio_intx_enable',
    vfio_intx_set_signal: 'vfio_irq_set_vector_signal',
    vfio_intx_disable: 'intr_ops[INTX].disable = vfio_intx_disable',
  },
};

export function intxFn(design: DesignGeneration, merged: string): string {
  return fn(INTX_BY_DESIGN[design][merged] ?? merged);
}

export const DESIGNS: Record<DesignGeneration, { label: string; table: Table }> = {
  'rfc-v1': { label: 'RFC v1 (Aug 2023): IMS library beside PCI MSI-X', table: RFC_V1 },
  'rfc-v3': { label: 'RFC v2/v3 (Oct 2023): vfio_pci_intr_ctx + vfio_pci_intr_ops', table: RFC_V3 },
  'cleanup-2024': {
    label: 'Feb 2024 clean-up: vfio_pci_set_trigger + per-type intr_ops',
    table: CLEANUP_2024,
  },
};

/**
 * The function for a front-end operation. A physical function bound to vfio-pci runs the merged kernel
 * code under every design except the 2024 clean-up (which rewrote the PCI flow itself).
 */
export function frontFn(design: DesignGeneration, op: FrontOp, backend: BackendKind): string {
  if (backend === 'pci' && design === 'rfc-v1') return MERGED_PCI[op];
  return DESIGNS[design].table[op][backend];
}
