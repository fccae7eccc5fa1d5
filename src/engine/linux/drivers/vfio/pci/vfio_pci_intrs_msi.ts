// MSI and MSI-X triggers through the interrupt context (drivers/vfio/pci/vfio_pci_intrs.c:
// vfio_pci_set_msi_trigger, vfio_msi_enable, vfio_msi_disable, vfio_msi_set_block,
// vfio_msi_set_vector_signal), with the kernel profile's rules:
//   6.1  - a context array sized at enable (num_ctx); a vector past it is EINVAL, for assignment and for a
//          loop-back range that reaches past it.
//   6.12 - contexts allocated per vector (an xarray, b156e48fffa9 "vfio/pci: Use xarray for interrupt
//          context storage", v6.5); a vector past the enable-time allocation is allocated on the spot when
//          the MSI-X domain allows it (e4163438e015 "vfio/pci: Support dynamic MSI-X", v6.5); loop-back
//          skips vectors without a context.
// Each backend operation names the function it is in the design chosen (designs.ts), and the design's
// rule says how long a per-vector context lives (DesignRules.pciCtxLifetime): freed with its trigger
// (merged), kept until MSI/MSI-X disable (Feb 2024 clean-up 07/17), or kept until release (RFC v3 18/26;
// every RFC's IMS backend keeps its contexts for the virtual device's lifetime).

import type { Engine } from '../../../../engine.ts';
import type { HostIrq, PciDeviceState, VfioBackend, VfioIrqCtx } from '../../../../types.ts';
import { intxDeassert, PCI_STATUS_INTERRUPT } from '../../../../hw/pci/intx.ts';
import { raise } from '../../../../errno.ts';
import { backendKind, hasDynMsix, irqName, vectorBackend, type VfioTarget } from '../device.ts';
import { DESIGNS, frontFn, type FrontOp } from './designs.ts';
import { VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../vfio_main.ts';
import {
  hostAllocIrq,
  hostFreeDesc,
  hostFreeIrq,
  hostIrqOf,
  hostIrqsOf,
  hostRequestIrq,
  hostActivate,
  hostVectorsFree,
} from '../../../kernel/irq/genirq.ts';
import {
  irteAllocFailed,
  irteBlockFree,
  irteFreeCount,
  irteReserveBlock,
} from '../../iommu/intel/irq_remapping.ts';
import { eventfdCtxFdget, eventfdSignal } from '../../../fs/eventfd.ts';
import { imsAllocEntry, imsFreeEntry } from '../../../../hw/ims.ts';
import { printk } from '../../../kernel/printk/printk.ts';
import { bypassSync } from '../../../virt/lib/irqbypass.ts';

function ctl(e: Engine, t: VfioTarget, op: FrontOp, backend: VfioBackend, detail: string, to?: string): void {
  e.hop(
    'ctl.vector_signal',
    0,
    `vfio:${t.vfio.device}`,
    to ?? `vfio:${t.vfio.device}/${backend}`,
    'done',
    detail,
    frontFn(e.state.design, op, backendKind(backend)),
  );
}

/** VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER on MSI (msix false) or MSI-X; returns the ioctl's return value. */
export function vfioPciSetMsiTrigger(
  e: Engine,
  t: VfioTarget,
  msix: boolean,
  start: number,
  count: number,
  flags: number,
  data: number[],
): number {
  const v = t.vfio;
  const type = msix ? 'msix' : 'msi';
  const kind = backendKind(vectorBackend(t, start, msix));
  e.hop(
    'ctl.set_irqs',
    0,
    'vmm',
    `vfio:${v.device}`,
    'done',
    `${type.toUpperCase()} TRIGGER start ${start} count ${count}`,
    frontFn(e.state.design, msix ? 'set_trigger' : 'set_trigger_msi', kind),
  );

  if (v.irq_type === type && count === 0 && flags & VFIO_IRQ_SET_DATA_NONE) {
    vfioMsiDisable(e, t, msix);
    return 0;
  }
  if (!(v.irq_type === type || v.irq_type === 'none'))
    raise(
      'EINVAL',
      `${v.irq_type.toUpperCase()} is enabled: disable it before using ${type.toUpperCase()}`,
      'index',
    );

  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    if (v.irq_type === type) return vfioMsiSetBlock(e, t, start, count, data, msix);
    const got = vfioMsiEnable(e, t, start + count, msix);
    if (got) return got;
    try {
      return vfioMsiSetBlock(e, t, start, count, data, msix);
    } catch (err) {
      // vfio_pci_set_msi_trigger: a failed first assignment tears the whole index down again
      vfioMsiDisable(e, t, msix);
      throw err;
    }
  }

  // Loop-back: DATA_NONE signals every vector in range, DATA_BOOL those whose byte is set.
  if (v.irq_type !== type)
    raise('EINVAL', `${type.toUpperCase()} is not enabled: nothing to loop back`, 'index');
  if (e.state.profile === '6.1' && !t.vdev && start + count > v.num_ctx)
    raise(
      'EINVAL',
      `vectors ${start}..${start + count - 1} reach past the ${v.num_ctx} contexts allocated at enable (6.1)`,
      'count',
    );
  for (let i = start; i < start + count; i++) {
    const ctx = v.ctx[i];
    if (!ctx || ctx.trigger === null) continue;
    if (flags & VFIO_IRQ_SET_DATA_BOOL && !data[i - start]) continue;
    const irq = e.newIrq(`vfio:${v.device}`, 'emulated');
    e.hop(
      'vfio.send_signal',
      irq,
      `vfio:${v.device}/${ctx.backend}`,
      'eventfd',
      'forwarded',
      `loop-back: ${ctx.name} signals eventfd ${ctx.trigger}`,
      frontFn(e.state.design, 'loopback', backendKind(ctx.backend)),
    );
    eventfdSignal(e, irq, ctx.trigger, `vfio:${v.device}/${ctx.backend}`);
  }
  return 0;
}

/**
 * vfio_msi_enable: allocate nvec host vectors (pci_alloc_irq_vectors), request none. Returns 0, or the
 * number of vectors the host could give when it is fewer (the ioctl returns that positive count).
 */
function vfioMsiEnable(e: Engine, t: VfioTarget, nvec: number, msix: boolean): number {
  const v = t.vfio;
  const backend: VfioBackend = msix ? 'msix' : 'msi';
  if (t.vdev) {
    // IMS has no enable step (RFC v1/v2: always dynamic; v3 vfio_ims_enable returns -EINVAL, never
    // reached: the context starts as MSI-X), so this path is only reached for MSI, which it lacks.
    raise('EINVAL', `${t.vfio.device} is a virtual device: only MSI-X is emulated`, 'index');
  }
  ctl(
    e,
    t,
    'enable',
    backend,
    `enable ${msix ? 'MSI-X' : 'MSI'} with ${nvec} vectors (pci_alloc_irq_vectors)`,
  );
  // drivers/pci/msi: pci_alloc_irq_vectors(pdev, 1, 0, ...) fails with ERANGE (maxvec < minvec)
  if (nvec === 0) raise('ERANGE', 'enable with 0 vectors: pci_alloc_irq_vectors returns -ERANGE', 'count');
  const dev = t.pci!;
  // "return the number of supported vectors if we can't get all": pci_alloc_irq_vectors(pdev, 1, nvec)
  // may settle for fewer; vfio_msi_enable then frees them (pci_free_irq_vectors) and returns the count,
  // which the ioctl returns as a positive value (docs/kernel-notes.md I.12).
  const got = hostVectorsGranted(e, t, nvec, msix);
  if (got < nvec) {
    if (msix) for (const entry of dev.msix!.table) entry.vector_ctrl = 1; // msix_mask_all, left masked
    ctl(
      e,
      t,
      'enable',
      backend,
      `pci_alloc_irq_vectors gave ${got} of ${nvec} ${msix ? 'MSI-X' : 'MSI'} vectors: pci_free_irq_vectors; SET_IRQS returns ${got}`,
    );
    return got;
  }
  if (msix) {
    const m = dev.msix!;
    // msix_capability_init: Function Mask during setup, every entry masked (msix_mask_all), then enable
    for (const entry of m.table) entry.vector_ctrl = 1;
    m.enable = true;
    m.function_mask = false;
    intxOff(e, dev);
    for (let i = 0; i < nvec; i++) hostAllocIrq(e, 'PCI-MSIX', dev, i);
  } else {
    const m = dev.msi!;
    const remap = e.state.iommu.interrupt_remapping;
    m.enable = true;
    intxOff(e, dev);
    m.mme = 1 << Math.ceil(Math.log2(nvec));
    // "Compute the virtual hardware field for max msi vectors": fls(nvec * 2 - 1) - 1
    v.vconfig.msi_qmax = Math.ceil(Math.log2(nvec));
    if (m.per_vector_mask) m.mask_bits = m.mmc >= 32 ? -1 : (1 << m.mmc) - 1; // every vector masked until requested
    // intel_irq_remapping_alloc: one aligned block of IRTEs; vector i is subhandle i of its handle
    const base = remap ? irteReserveBlock(e, nvec, dev.bdf) : 0;
    for (let i = 0; i < nvec; i++)
      hostAllocIrq(e, 'PCI-MSI', dev, i, remap ? { index: base + i, msgIndex: base } : undefined);
  }
  v.irq_type = msix ? 'msix' : 'msi';
  v.num_ctx = nvec;
  if (e.state.profile === '6.1') for (let i = 0; i < nvec; i++) v.ctx[i] = emptyCtx(backend);
  return 0;
}

/**
 * How many vectors pci_alloc_irq_vectors(pdev, 1, nvec, flag) gets (drivers/pci/msi/api.c, msi.c), with
 * nothing allocated: __pci_enable_msi_range / __pci_enable_msix_range loop "rc = ...; if (rc == 0) return
 * nvec; if (rc < 0) return rc; if (rc < minvec) return -ENOSPC; nvec = rc;" on a positive answer:
 *   MSI, nvec > 1, no remapping: the vector domain lacks MSI_FLAG_MULTI_PCI_MSI (only Intel/AMD
 *     remapping set it): 6.1 pci_msi_domain_check_cap (drivers/pci/msi/irqdomain.c) and 6.12
 *     msi_capability_init ("Reject multi-MSI early": pci_msi_domain_supports) answer 1;
 *   MSI, nvec > 1, no aligned IRTE block: msi_handle_pci_fail (kernel/irq/msi.c, since 5.17 in both
 *     profiles): "Let a failed PCI multi MSI allocation retry": 1;
 *   MSI-X, the IRTEs run out after k vectors: msi_handle_pci_fail "If there was a successful allocation
 *     let the caller know": k (0: -ENOSPC). Each failed alloc_irte prints "DMAR-IR: IR0: can't allocate an IRTE", then "DMAR-IR: Failed to allocate IRTE".
 * The vector matrix never limits an enable: x86 only reserves at allocation (I.7).
 */
function hostVectorsGranted(e: Engine, t: VfioTarget, nvec: number, msix: boolean): number {
  const remap = e.state.iommu.interrupt_remapping;
  const tried = (fn: string, detail: string): void =>
    e.hop('ctl.msi_enable', 0, `vfio:${t.vfio.device}`, 'hostirq', 'done', detail, fn);
  const full = (): never => {
    irteAllocFailed(e);
    return raise(
      'ENOSPC',
      `no free interrupt remapping entry for ${t.hw.bdf} (alloc_irte; msi_handle_pci_fail: nothing allocated, -ENOSPC)`,
      'count',
    );
  };
  if (msix) {
    if (!remap) return nvec;
    const free = irteFreeCount(e);
    if (free >= nvec) return nvec;
    if (free === 0) full();
    irteAllocFailed(e);
    tried(
      'msi_handle_pci_fail@kernel/irq/msi.c',
      `MSI-X vector ${free}: no free IRTE; ${free} allocated, so __pci_enable_msix_range retries with ${free}`,
    );
    return free;
  }
  // An MSI without per-vector masking has no reservation mode: msi_init_virq activates it at allocation
  // and a vector the matrix cannot give fails the allocation with -ENOSPC as is (msi_init_virq's error is
  // returned, not turned into a count), before anything is enabled.
  const vectors = (k: number): void => {
    if (!t.pci!.msi!.per_vector_mask && hostVectorsFree(e) < k)
      raise(
        'ENOSPC',
        `${k} MSI vector(s) without per-vector masking need their real vectors at allocation; ${hostVectorsFree(e)} free (msi_init_virq: -ENOSPC)`,
        'count',
      );
  };
  if (nvec > 1 && !remap) {
    // checked before anything is allocated (6.1 msi_domain_prepare_irqs -> ops->msi_check)
    tried(
      e.state.profile === '6.1'
        ? 'pci_msi_domain_check_cap@drivers/pci/msi/irqdomain.c'
        : 'msi_capability_init@drivers/pci/msi/msi.c',
      `${nvec} MSI vectors: the vector domain has no MSI_FLAG_MULTI_PCI_MSI (no interrupt remapping): 1, retry with 1`,
    );
    vectors(1);
    return 1;
  }
  if (nvec > 1 && !irteBlockFree(e, nvec)) {
    irteAllocFailed(e);
    tried(
      'msi_handle_pci_fail@kernel/irq/msi.c',
      `no aligned block of ${nvec} IRTEs: a failed multi-MSI allocation answers 1, retry with 1`,
    );
    if (irteFreeCount(e) === 0) full();
    vectors(1);
    return 1;
  }
  if (remap && nvec === 1 && irteFreeCount(e) === 0) full();
  vectors(nvec);
  return nvec;
}

function emptyCtx(backend: VfioBackend): VfioIrqCtx {
  return { trigger: null, name: null, backend, host_irq: null, producer: false, masked: false };
}

// vfio_msi_disable: de-assign every vector, free the host vectors, back to no interrupt type
export function vfioMsiDisable(e: Engine, t: VfioTarget, msix: boolean): void {
  const v = t.vfio;
  const backend = vectorBackend(t, 0, msix);
  ctl(e, t, 'disable', backend, `disable ${msix ? 'MSI-X' : 'MSI'}: free every vector`);
  for (const key of Object.keys(v.ctx)) vfioMsiSetVectorSignal(e, t, Number(key), -1, msix);
  if (ctxLifetime(e, t) !== 'release') v.ctx = {};
  v.num_ctx = 0;
  if (t.vdev) return; // the IMS context stays MSI-X: the guest only ever sees MSI-X
  const dev = t.pci!;
  for (const h of hostIrqsOf(e, dev.name, msix ? 'MSIX' : 'MSI')) hostFreeDesc(e, h);
  if (msix) dev.msix!.enable = false;
  else {
    dev.msi!.enable = false;
    dev.msi!.mme = 1;
  }
  v.irq_type = 'none';
}

// vfio_msi_set_block: assign a block; on failure de-assign the block from start up to the failed vector
function vfioMsiSetBlock(
  e: Engine,
  t: VfioTarget,
  start: number,
  count: number,
  fds: number[],
  msix: boolean,
): number {
  const v = t.vfio;
  if (e.state.profile === '6.1' && !t.vdev && (start >= v.num_ctx || start + count > v.num_ctx))
    raise(
      'EINVAL',
      `vectors ${start}..${start + count - 1} are past the ${v.num_ctx} contexts allocated at enable (6.1: no dynamic MSI-X)`,
      'start',
    );
  let j = start;
  try {
    for (let i = 0; i < count; i++, j++) vfioMsiSetVectorSignal(e, t, j, fds[i] ?? 0, msix);
  } catch (err) {
    for (let i = start; i <= j; i++) vfioMsiSetVectorSignal(e, t, i, -1, msix);
    throw err;
  }
  return 0;
}

/** The host interrupt behind a vector, allocating it when the backend allows (vfio_msi_alloc_irq). */
function hostIrqForVector(e: Engine, t: VfioTarget, vector: number, msix: boolean): HostIrq {
  const dev = t.pci!;
  const existing = hostIrqOf(e, dev.name, msix ? 'MSIX' : 'MSI', vector);
  if (existing) return existing;
  // pci_irq_vector gives -EINVAL for a vector never allocated; 6.12 allocates it when MSI-X can grow
  if (!msix || e.state.profile === '6.1')
    raise('EINVAL', `vector ${vector} was not allocated at enable (pci_irq_vector: -EINVAL)`, 'start');
  // vfio_msi_alloc_irq: "if (irq > 0 || !msix || !vdev->has_dyn_msix) return irq;": without dynamic
  // allocation the -EINVAL of pci_irq_vector is the answer, and vfio_msi_set_block unwinds the block
  if (!hasDynMsix(e, t))
    raise(
      'EINVAL',
      `vector ${vector} was not allocated at enable and this host's MSI-X domain cannot allocate after enable (vfio_msi_alloc_irq: !has_dyn_msix, pci_irq_vector -EINVAL)`,
      'start',
    );
  const h = hostAllocIrq(e, 'PCI-MSIX', dev, vector);
  e.hop(
    'ctl.msi_enable',
    0,
    `vfio:${t.vfio.device}`,
    'hostirq',
    'done',
    `dynamic MSI-X: vector ${vector} allocated, IRQ ${h.irq}`,
    'pci_msix_alloc_irq_at@drivers/pci/msi/api.c',
  );
  return h;
}

/** vfio_msi_set_vector_signal: release the old trigger, then (fd >= 0) request the interrupt with the new. */
export function vfioMsiSetVectorSignal(
  e: Engine,
  t: VfioTarget,
  vector: number,
  fd: number,
  msix: boolean,
): void {
  const v = t.vfio;
  const backend = vectorBackend(t, vector, msix);
  const old = v.ctx[vector];
  if (old && old.trigger !== null) {
    ctl(e, t, 'free_interrupt', backend, `${old.name}: release eventfd ${old.trigger}`);
    // irq_bypass_unregister_producer before free_irq: a posted IRTE goes back to remapped first
    if (old.producer) {
      old.producer = false;
      bypassSync(e);
    }
    if (old.host_irq !== null) {
      const h = e.state.host.irqs[old.host_irq];
      if (backend === 'ims') {
        // pci_ims_free_irq: the IMS entry and its host interrupt go back to the parent
        imsFreeEntry(e, t.hw, h.hwirq);
        hostFreeDesc(e, h);
      } else hostFreeIrq(e, h); // the host vector stays allocated until disable
    }
    old.trigger = null;
    old.name = null;
    old.host_irq = null;
    if (ctxLifetime(e, t) === 'trigger') delete v.ctx[vector];
    bypassSync(e);
  }
  if (fd < 0) return;
  // RFC v3 and the 2024 clean-up allocate a missing context before requesting the interrupt and keep it
  // when that fails; here a failed assignment leaves no context behind (a refusal leaves the state as it
  // was), so only a context that once held a trigger persists (docs/kernel-notes.md E.5).
  let host: HostIrq | null = null;
  if (backend === 'msix' || backend === 'msi') host = hostIrqForVector(e, t, vector, msix);
  const name = irqName(t, vector, backend);
  const efd = eventfdCtxFdget(e, fd, 'data');
  if (backend === 'ims') {
    // pci_ims_alloc_irq(ims->pdev, &ctx->icookie, NULL): the vector's own cookie (vfio_pci_ims_set_cookie)
    const index = imsAllocEntry(t.hw, v.device, t.vdev!.vectors[vector]?.icookie ?? t.vdev!.cookie);
    if (index < 0)
      raise('EBUSY', `${t.hw.name}: every IMS entry is in use (msi_insert_desc: xa_alloc -EBUSY)`, 'data');
    host = hostAllocIrq(e, 'IMS', t.hw, index);
    t.hw.ims!.entries[index].host_irq = host.irq;
    t.vdev!.vectors[vector].ims_index = index;
  }
  // request_irq assigns the real host vector (x86 reservation mode) and fails with -ENOSPC when none is
  // free; vfio_msi_set_vector_signal then frees what it set up for the vector (out_put_eventfd_ctx).
  if (host) {
    try {
      hostActivate(e, host);
    } catch (err) {
      if (backend === 'ims') {
        imsFreeEntry(e, t.hw, host.hwirq);
        t.vdev!.vectors[vector].ims_index = null;
        hostFreeDesc(e, host);
      }
      throw err;
    }
  }
  const ctx: VfioIrqCtx = v.ctx[vector] ?? emptyCtx(backend);
  ctx.backend = backend;
  ctx.name = name;
  ctx.trigger = efd.fd;
  ctx.host_irq = host ? host.irq : null;
  v.ctx[vector] = ctx;
  if (host) {
    ctl(
      e,
      t,
      'request_interrupt',
      backend,
      `${name}: request IRQ ${host.irq}${backend === 'ims' ? ` (IMS entry ${host.hwirq} of ${t.hw.name})` : ''}, trigger eventfd ${fd}`,
      'hostirq',
    );
    hostRequestIrq(e, host, name, v.device, vector);
    // irq_bypass_register_producer: token = the trigger eventfd. A second producer with the same token
    // is refused (-EBUSY) and VFIO only logs it ("irq bypass producer (token %p) registration fails"):
    // that vector is never posted, not even after the first goes (virt/lib/irqbypass.c).
    ctx.producer = !producerHolds(e, efd.fd);
    if (!ctx.producer)
      printk(
        e,
        'info',
        'vfio_msi_set_vector_signal@drivers/vfio/pci/vfio_pci_intrs.c',
        `vfio-pci ${t.hw.bdf}: irq bypass producer (token eventfd ${fd}) registration fails: -16`,
      );
    if (!ctx.producer)
      ctl(
        e,
        t,
        'vector_signal',
        backend,
        `${name}: irq bypass producer for eventfd ${fd} refused (-EBUSY): another vector holds its token`,
      );
  } else {
    ctl(
      e,
      t,
      'vector_signal',
      backend,
      `vector ${vector} emulated: trigger eventfd ${fd}, no host interrupt`,
    );
  }
  bypassSync(e);
}

/**
 * A function with MSI or MSI-X enabled does not use INTx (PCIe Base Spec 6.1.4.3): QEMU's device models
 * lower the line when the enable bit is set (hw/pci/msix.c: msix_write_config, hw/pci/msi.c:
 * msi_write_config -> pci_device_deassert_intx).
 */
function intxOff(e: Engine, dev: PciDeviceState): void {
  if (dev.status & PCI_STATUS_INTERRUPT) intxDeassert(e, dev);
}

/**
 * How long this device's per-vector contexts live: a virtual device's IMS backend keeps them until
 * release in every RFC (v1 vfio_pci_ims_free, v2 14/18 "remain allocated until shutdown", v3 18/26); a
 * PCI device follows the design's rule, and the 6.1 profile's array (sized at enable) lives until disable.
 */
export function ctxLifetime(e: Engine, t: VfioTarget): 'trigger' | 'disable' | 'release' {
  if (t.vdev) return 'release';
  const rule = DESIGNS[e.state.design].rules.pciCtxLifetime;
  return rule === 'trigger' && e.state.profile === '6.1' ? 'disable' : rule;
}

/** A registered irq-bypass producer already holds eventfd `fd` as its token. */
function producerHolds(e: Engine, fd: number): boolean {
  for (const v of Object.values(e.state.vfio))
    for (const c of Object.values(v.ctx)) if (c.producer && c.trigger === fd) return true;
  return false;
}
