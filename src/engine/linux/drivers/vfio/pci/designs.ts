// The designs of the VFIO interrupt front end, as data (docs/kernel-notes.md, section E): the merged
// code, and the four generations of Reinette Chatre's IMS / interrupt-context work, none of which was
// merged. For each front-end operation and backend, the function that performs it; for each design,
// the rules in which they behave differently (context lifetime, the errno of a missing op) and where
// every name comes from. The engine runs one flow; a design changes the names the trace shows and, where
// a rule says so, what happens.

import type { DesignGeneration } from '../../../../types.ts';

/** Operations the engine names (msi.ts, handlers.ts); each is looked up with frontFn. */
export type FrontOp =
  | 'set_trigger'
  | 'set_trigger_msi'
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
const MANAGE = 'kernel/irq/manage.c';
const fn = (name: string, file = INTRS): string => `${name}@${file}`;

/** lore.kernel.org archive of a message id. */
export const lore = (id: string): string => `https://lore.kernel.org/lkml/${id}/`;

/** The series (and patches) or merged code a design's names are read from. */
export interface DesignSource {
  title: string;
  /** lore.kernel.org URL of the cover letter or patch, or the file and tag of merged code. */
  ref: string;
}

/** Rules in which the designs behave differently, modelled like a kernel profile's rules. */
export interface DesignRules {
  /**
   * How long a PCI device's per-vector MSI/MSI-X context lives. 'trigger': freed with its trigger
   * (merged 6.12 xarray, b156e48fffa9; the 6.1 profile's array lives until disable whatever the design
   * is); 'disable': kept across assign and de-assign, freed at MSI/MSI-X disable (Feb 2024 07/17);
   * 'release': kept until the device is released (RFC v3 18/26, "a new functional change to PCI").
   */
  pciCtxLifetime: 'trigger' | 'disable' | 'release';
  /**
   * Errno when the interrupt library is asked for an index its backend has no function for: RFC v1's
   * vfio_pci_set_ims_trigger checks `index != VFIO_PCI_MSIX_IRQ_INDEX` (-EINVAL); RFC v2/v3's
   * vfio_pci_set_irqs_ioctl finds a NULL op in vfio_pci_ims_intr_ops (-ENOTTY). null: no IMS backend.
   */
  missingOp: 'ENOTTY' | 'EINVAL' | null;
  /** Where emulated vectors are set: the IMS library, a backend flag (supports_emulated), the front end. */
  emulated: 'library' | 'backend-flag' | 'front-end' | 'extension' | null;
  /** Who registers the irq-bypass producer of an IMS-backed vector. */
  imsProducer: 'library' | 'backend' | 'front-end' | 'extension' | null;
  /**
   * A virtual device's VFIO_DEVICE_SET_IRQS: the variant driver's own ioctl validates with its own IRQ
   * counts, then calls the library. null: the design has no virtual-device path (merged).
   */
  vdevEntry: { ioctl: string; calls: string } | null;
}

type Table = Record<FrontOp, Record<BackendKind, string>>;

export interface Design {
  label: string;
  /** Merged upstream (only `merged` is). */
  merged: boolean;
  rules: DesignRules;
  table: Table;
  /** INTx functions where the design names them differently (merged name -> design's name). */
  intx: Record<string, string>;
  sources: DesignSource[];
}

// Every unmerged series predates v6.9's "vfio/pci: Lock external INTx masking ops" (810cd4bb5345), which
// split __vfio_pci_intx_mask out of vfio_pci_intx_mask: their trees call vfio_pci_intx_mask.
const PRE_V6_9_INTX = { __vfio_pci_intx_mask: 'vfio_pci_intx_mask' };

// No function in this design for that backend: the text says why, in parentheses (not a name).
const NONE_MERGED = '(none: the merged kernel has no IMS backend or emulated vectors)';

// ---- merged (6.1, 6.12): drivers/vfio/pci/vfio_pci_intrs.c, no ops tables
const MERGED_PCI: Record<FrontOp, string> = {
  set_trigger: fn('vfio_pci_set_msi_trigger'),
  set_trigger_msi: fn('vfio_pci_set_msi_trigger'),
  vector_signal: fn('vfio_msi_set_vector_signal'),
  enable: fn('vfio_msi_enable'),
  disable: fn('vfio_msi_disable'),
  // vfio_msi_set_vector_signal calls request_irq, an inline over request_threaded_irq
  // (include/linux/interrupt.h), which kernel/irq/manage.c defines
  request_interrupt: fn('request_irq (inline: request_threaded_irq)', MANAGE),
  free_interrupt: fn('free_irq', MANAGE),
  loopback: fn('vfio_pci_set_msi_trigger'),
  send_signal: fn('vfio_msihandler'),
};

const pciOnly = (pci: Record<FrontOp, string>): Table =>
  Object.fromEntries(
    Object.entries(pci).map(([op, f]) => [op, { pci: f, ims: NONE_MERGED, emulated: NONE_MERGED }]),
  ) as Table;

const MERGED = pciOnly(MERGED_PCI);

// ---- RFC v1 (Aug 2023): a library beside vfio_pci_intrs.c (untouched), entered from the variant
// driver's own ioctl. 1/3 cc9967616ad6 (library), 2/3 7a08c41e1825 (emulated), 3/3 2e293a866f07.
const RFC_V1: Table = {
  set_trigger: {
    pci: MERGED_PCI.set_trigger,
    ims: fn('vfio_pci_set_ims_trigger', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger', IMS_V1),
  },
  set_trigger_msi: {
    pci: MERGED_PCI.set_trigger_msi,
    ims: fn('vfio_pci_set_ims_trigger (index != MSIX: -EINVAL)', IMS_V1),
    emulated: fn('vfio_pci_set_ims_trigger (index != MSIX: -EINVAL)', IMS_V1),
  },
  vector_signal: {
    pci: MERGED_PCI.vector_signal,
    ims: fn('vfio_pci_ims_set_vector_signal', IMS_V1),
    emulated: fn('vfio_pci_ims_set_vector_signal (ctx->emulated)', IMS_V1),
  },
  enable: {
    pci: MERGED_PCI.enable,
    ims: fn('(none: IMS is always dynamic)', IMS_V1),
    emulated: fn('(none: IMS is always dynamic)', IMS_V1),
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

// ---- RFC v2 (Oct 2023, 18 patches): struct vfio_pci_intr_ctx + vfio_pci_intr_ops with per-action
// entries only; the IMS backend (14/18) keeps its own set_block/set_vector_signal and reuses
// vfio_msihandler; emulated vectors in the front end (15/18) allowed only where the backend sets
// supports_emulated (16/18: IMS).
const RFC_V2: Table = {
  set_trigger: {
    pci: fn('intr_ctx->ops->set_msix_trigger = vfio_pci_set_msi_trigger'),
    ims: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_ims_trigger'),
    emulated: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_ims_trigger'),
  },
  set_trigger_msi: {
    pci: fn('intr_ctx->ops->set_msi_trigger = vfio_pci_set_msi_trigger'),
    ims: fn('(NULL: vfio_pci_ims_intr_ops has no set_msi_trigger, -ENOTTY)'),
    emulated: fn('(NULL: vfio_pci_ims_intr_ops has no set_msi_trigger, -ENOTTY)'),
  },
  vector_signal: {
    pci: fn('vfio_msi_set_vector_signal'),
    ims: fn('vfio_pci_ims_set_vector_signal'),
    emulated: fn('vfio_pci_ims_set_vector_signal (ctx->emulated)'),
  },
  enable: {
    pci: fn('vfio_msi_enable'),
    ims: fn('(none: IMS is always dynamic)'),
    emulated: fn('(none: IMS is always dynamic)'),
  },
  disable: {
    pci: fn('vfio_msi_disable'),
    ims: fn('vfio_pci_set_ims_trigger'),
    emulated: fn('vfio_pci_set_ims_trigger'),
  },
  request_interrupt: {
    pci: MERGED_PCI.request_interrupt,
    ims: fn('vfio_pci_ims_irq_alloc'),
    emulated: fn('(none: emulated)'),
  },
  free_interrupt: {
    pci: MERGED_PCI.free_interrupt,
    ims: fn('vfio_pci_ims_irq_free'),
    emulated: fn('(none: emulated)'),
  },
  loopback: {
    pci: fn('vfio_pci_set_msi_trigger'),
    ims: fn('vfio_pci_set_ims_trigger'),
    emulated: fn('vfio_pci_set_ims_trigger'),
  },
  send_signal: {
    pci: fn('vfio_msihandler'),
    ims: fn('vfio_msihandler'),
    emulated: fn('vfio_pci_send_signal (supports_emulated)'),
  },
};

// ---- RFC v3 (Oct 2023, 26 patches): one front-end flow; vfio_pci_intr_ops also carries the backend
// callbacks (msi_enable ... init_irq_ctx, 20-22/26); the IMS table (24/26) has only the MSI-X and REQ
// triggers; emulation is a per-vector front-end flag (23/26); the front end registers the producer.
const V3_NO_MSI = '(NULL: vfio_pci_ims_intr_ops has no set_msi_trigger, -ENOTTY)';
const RFC_V3: Table = {
  set_trigger: {
    pci: fn('intr_ctx->ops->set_msix_trigger = vfio_pci_set_msi_trigger'),
    ims: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_msi_trigger'),
    emulated: fn('vfio_pci_ims_intr_ops.set_msix_trigger = vfio_pci_set_msi_trigger'),
  },
  set_trigger_msi: {
    pci: fn('intr_ctx->ops->set_msi_trigger = vfio_pci_set_msi_trigger'),
    ims: fn(V3_NO_MSI),
    emulated: fn(V3_NO_MSI),
  },
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

// ---- Feb 2024 clean-up (17 patches, not merged): vdev-based, file-local intr_ops[] indexed by IRQ
// index, shared vfio_pci_set_trigger. It has no IMS backend: for IMS and emulated vectors the table
// extends its per-type ops the way the series shapes them, and says so.
const HYPO = ' (extension: not in the series)';
const CLEANUP_2024: Table = {
  set_trigger: {
    pci: fn('vfio_pci_set_trigger'),
    ims: fn('vfio_pci_set_trigger' + HYPO),
    emulated: fn('vfio_pci_set_trigger' + HYPO),
  },
  set_trigger_msi: {
    pci: fn('vfio_pci_set_trigger'),
    ims: fn('vfio_pci_set_trigger' + HYPO),
    emulated: fn('vfio_pci_set_trigger' + HYPO),
  },
  vector_signal: {
    pci: fn('vfio_irq_set_vector_signal'),
    ims: fn('vfio_irq_set_vector_signal' + HYPO),
    emulated: fn('vfio_irq_set_vector_signal' + HYPO),
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
    ims: fn('intr_ops[index].send_eventfd = vfio_send_msi_eventfd' + HYPO),
    emulated: fn('intr_ops[index].send_eventfd = vfio_send_msi_eventfd' + HYPO),
  },
  send_signal: {
    pci: fn('vfio_msihandler'),
    ims: fn('vfio_msihandler'),
    emulated: fn('vfio_send_msi_eventfd' + HYPO),
  },
};

/** The variant driver of the RFC era (IDXD, "yet to be published"; read from a stored copy). */
const IDXD_VFIO = 'drivers/dma/idxd/';

const V1_ID = 'cover.1692892275.git.reinette.chatre@intel.com';
const V2_ID = 'cover.1696609476.git.reinette.chatre@intel.com';
const V3_ID = 'cover.1698422237.git.reinette.chatre@intel.com';
const CLEANUP_ID = 'cover.1706849424.git.reinette.chatre@intel.com';
const patch = (hash: string, cover: string): string =>
  lore(`${hash}.${cover.split('.')[1]}.git.reinette.chatre@intel.com`);

export const DESIGNS: Record<DesignGeneration, Design> = {
  merged: {
    label: 'Merged (6.1, 6.12): vfio_pci_set_msi_trigger, no ops tables',
    merged: true,
    rules: {
      pciCtxLifetime: 'trigger',
      missingOp: null,
      emulated: null,
      imsProducer: null,
      vdevEntry: null,
    },
    table: MERGED,
    intx: {},
    sources: [
      {
        title: 'drivers/vfio/pci/vfio_pci_intrs.c (v6.1, v6.12)',
        ref: 'drivers/vfio/pci/vfio_pci_intrs.c@v6.12',
      },
      {
        title: 'b156e48fffa9 "vfio/pci: Use xarray for interrupt context storage" (v6.5)',
        ref: 'commit b156e48fffa9',
      },
      {
        title: '18c198c96a81 "vfio/pci: Create persistent INTx handler" (v6.9 INTx eventfd hardening)',
        ref: 'commit 18c198c96a81',
      },
    ],
  },
  'rfc-v1': {
    label: 'RFC v1 (Aug 2023): vfio_pci_ims.c library beside PCI MSI-X',
    merged: false,
    rules: {
      pciCtxLifetime: 'trigger',
      missingOp: 'EINVAL',
      emulated: 'library',
      imsProducer: 'library',
      vdevEntry: {
        ioctl: fn('idxd_vdcm_ioctl_device_set_irqs', IDXD_VFIO),
        calls: fn('idxd_vdcm_set_irqs -> vfio_pci_set_ims_trigger', IDXD_VFIO),
      },
    },
    table: RFC_V1,
    intx: { ...PRE_V6_9_INTX },
    sources: [
      {
        title: '[RFC PATCH 0/3] vfio/ims: Back guest interrupts from Interrupt Message Store (IMS)',
        ref: lore(V1_ID),
      },
      {
        title: '[RFC PATCH 1/3] vfio/pci: Introduce library allocating from Interrupt Message Store (IMS)',
        ref: patch('cc9967616ad6b5d014ccf150c9984339c5eb2543', V1_ID),
      },
      {
        title: '[RFC PATCH 2/3] vfio/ims: Support emulated interrupts',
        ref: patch('7a08c41e1825095814f8c35854d3938c084b2368', V1_ID),
      },
      {
        title: '[RFC PATCH 3/3] vfio/ims: Add helper that returns IMS index',
        ref: patch('2e293a866f071d6a116cad8c9b725298b8217f43', V1_ID),
      },
    ],
  },
  'rfc-v2': {
    label: 'RFC v2 (Oct 2023): intr_ctx + per-action ops; IMS keeps its own set_block',
    merged: false,
    rules: {
      pciCtxLifetime: 'trigger',
      missingOp: 'ENOTTY',
      emulated: 'backend-flag',
      imsProducer: 'backend',
      vdevEntry: {
        ioctl: fn('idxd_vdcm_ioctl_device_set_irqs', IDXD_VFIO),
        calls: fn('vfio_pci_set_irqs_ioctl (intr_ctx)'),
      },
    },
    table: RFC_V2,
    intx: {
      ...PRE_V6_9_INTX,
      vfio_pci_set_intx_trigger: 'intr_ctx->ops->set_intx_trigger = vfio_pci_set_intx_trigger',
      vfio_pci_set_intx_mask: 'intr_ctx->ops->set_intx_mask = vfio_pci_set_intx_mask',
      vfio_pci_set_intx_unmask: 'intr_ctx->ops->set_intx_unmask = vfio_pci_set_intx_unmask',
    },
    sources: [
      {
        title: '[RFC PATCH V2 00/18] vfio/pci: Back guest interrupts from Interrupt Message Store (IMS)',
        ref: lore(V2_ID),
      },
      {
        title: '[RFC PATCH V2 12/18] vfio/pci: Provide interrupt context to generic ops',
        ref: patch('b8e89188180968c45341eddcad610816be9737d7', V2_ID),
      },
      {
        title: '[RFC PATCH V2 14/18] vfio/pci: Add core IMS support',
        ref: patch('0f8fb7122814c5c5083799e935d5bd3d27d38aef', V2_ID),
      },
      {
        title: '[RFC PATCH V2 15/18] vfio/pci: Support emulated interrupts',
        ref: patch('bb8e249259f021a57eb9185f3178a665f39f82be', V2_ID),
      },
      {
        title: '[RFC PATCH V2 16/18] vfio/pci: Support emulated interrupts in IMS backend',
        ref: patch('ad5d28f37b96f1f8c9da27749de429a98c96ba4a', V2_ID),
      },
    ],
  },
  'rfc-v3': {
    label: 'RFC v3 (Oct 2023): intr_ctx + vfio_pci_intr_ops with backend callbacks',
    merged: false,
    rules: {
      pciCtxLifetime: 'release',
      missingOp: 'ENOTTY',
      emulated: 'front-end',
      imsProducer: 'front-end',
      vdevEntry: {
        ioctl: fn('idxd_vdcm_ioctl_device_set_irqs', IDXD_VFIO),
        calls: fn('vfio_pci_set_irqs_ioctl (intr_ctx)'),
      },
    },
    table: RFC_V3,
    intx: {
      ...PRE_V6_9_INTX,
      vfio_pci_set_intx_trigger: 'intr_ctx->ops->set_intx_trigger = vfio_pci_set_intx_trigger',
      vfio_pci_set_intx_mask: 'intr_ctx->ops->set_intx_mask = vfio_pci_set_intx_mask',
      vfio_pci_set_intx_unmask: 'intr_ctx->ops->set_intx_unmask = vfio_pci_set_intx_unmask',
    },
    sources: [
      {
        title: '[RFC PATCH V3 00/26] vfio/pci: Back guest interrupts from Interrupt Message Store (IMS)',
        ref: lore(V3_ID),
      },
      {
        title: '[RFC PATCH V3 06/26] vfio/pci: Separate MSI and MSI-X handling',
        ref: patch('397accb1341ac18273e6bc3e39361693a5411b4f', V3_ID),
      },
      {
        title: '[RFC PATCH V3 18/26] vfio/pci: Preserve per-interrupt contexts',
        ref: patch('12630e207092c11a69efe691a9273abcef831c18', V3_ID),
      },
      {
        title: '[RFC PATCH V3 24/26] vfio/pci: Add core IMS support',
        ref: patch('e2029ef0084683170fe90ae526a5cf1c676cd1a3', V3_ID),
      },
      {
        title: '[RFC PATCH V3 25/26] vfio/pci: Add accessor for IMS index',
        ref: patch('f76998db7e1cc5445069ff42ceaf3179667cd932', V3_ID),
      },
    ],
  },
  'cleanup-2024': {
    label: 'Feb 2024 clean-up (not merged): vfio_pci_set_trigger + per-type intr_ops',
    merged: false,
    rules: {
      pciCtxLifetime: 'disable',
      missingOp: 'ENOTTY',
      emulated: 'extension',
      imsProducer: 'extension',
      vdevEntry: {
        ioctl: fn('idxd_vdcm_ioctl_device_set_irqs' + HYPO, IDXD_VFIO),
        calls: fn('vfio_pci_set_irqs_ioctl' + HYPO),
      },
    },
    table: CLEANUP_2024,
    intx: {
      ...PRE_V6_9_INTX,
      vfio_pci_set_intx_trigger: 'vfio_pci_set_trigger',
      vfio_intx_enable: 'intr_ops[INTX].enable = vfio_intx_enable',
      vfio_intx_set_signal: 'vfio_irq_set_vector_signal',
      vfio_intx_disable: 'intr_ops[INTX].disable = vfio_intx_disable',
    },
    sources: [
      {
        title: '[PATCH 00/17] vfio/pci: Remove duplicate code and logic from VFIO PCI interrupt management',
        ref: lore(CLEANUP_ID),
      },
      {
        title: '[PATCH 07/17] vfio/pci: Preserve per-interrupt contexts',
        ref: patch('d6e32e0e7adaf61da39fb6cd2863298b15a2663e', CLEANUP_ID),
      },
      {
        title: '[PATCH 12/17] vfio/pci: Remove msi term from generic code',
        ref: patch('0550572e64505df6ecff0b08f1eca869a79f6acf', CLEANUP_ID),
      },
    ],
  },
};

/** Every design, the merged code first. */
export const DESIGN_IDS = Object.keys(DESIGNS) as DesignGeneration[];

/** INTx functions by design: the merged name, or what the design calls instead. */
export function intxFn(design: DesignGeneration, merged: string): string {
  return fn(DESIGNS[design].intx[merged] ?? merged);
}

/**
 * The function for a front-end operation. A physical function bound to vfio-pci runs the merged code
 * under `merged` and RFC v1 (which left vfio_pci_intrs.c alone); RFC v2, v3 and the 2024 clean-up
 * reworked the PCI flow itself, so their PCI column names their own functions.
 */
export function frontFn(design: DesignGeneration, op: FrontOp, backend: BackendKind): string {
  return DESIGNS[design].table[op][backend];
}
