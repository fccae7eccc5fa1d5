// INTx through VFIO (drivers/vfio/pci/vfio_pci_intrs.c: vfio_pci_set_intx_trigger, vfio_intx_enable,
// vfio_intx_set_signal, vfio_pci_set_intx_mask/unmask, vfio_pci_intx_unmask_handler). Both modelled
// kernels carry the 2024 "Interrupt eventfd hardening" (18c198c96a81, backported to 6.1.y): the eventfd
// is fetched before anything changes, the host handler is requested once at enable (even with no
// trigger) and a new eventfd only swaps the pointer; topology.host.intx_handler 'per-trigger' gives the
// upstream v6.1.0 code before it instead (intxTriggerPerTrigger, docs/kernel-notes.md I.14). INTx is
// automasked: the handler sets DisINTx and the user unmasks, by ioctl or through an unmask eventfd (a
// virqfd, drivers/vfio/virqfd.c).

import type { Engine } from '../../../../engine.ts';
import { raise } from '../../../../errno.ts';
import type { VfioTarget } from '../device.ts';
import { DESIGNS, intxFn } from './designs.ts';
import { VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../vfio_main.ts';
import { eventfdCtxFdget, eventfdSignal, eventfdRegisterWaiter } from '../../../fs/eventfd.ts';
import { hostAllocIrq, hostFreeIrq, hostIrqsOf, hostRequestIrq } from '../../../kernel/irq/genirq.ts';
import { intxCheckAndUnmask, PCI_COMMAND_INTX_DISABLE } from '../../../../hw/pci/intx.ts';

const INTRS = 'drivers/vfio/pci/vfio_pci_intrs.c';
/** vfio_virqfd_enable / vfio_virqfd_disable: the VFIO core's helpers, not vfio-pci's. */
const VIRQFD = 'drivers/vfio/virqfd.c';

/** `file` names a function outside vfio_pci_intrs.c (the virqfd helpers live in drivers/vfio/virqfd.c). */
function ctl(e: Engine, t: VfioTarget, merged: string, detail: string, file?: string): void {
  e.hop(
    'ctl.intx',
    0,
    `vfio:${t.vfio.device}`,
    `vfio:${t.vfio.device}/intx`,
    'done',
    detail,
    file ? `${merged}@${file}` : intxFn(e.state.design, merged),
  );
}

export function vfioPciSetIntxTrigger(
  e: Engine,
  t: VfioTarget,
  start: number,
  count: number,
  flags: number,
  data: number[],
): number {
  const v = t.vfio;
  ctl(e, t, 'vfio_pci_set_intx_trigger', `INTX TRIGGER start ${start} count ${count}`);
  if (v.irq_type === 'intx' && count === 0 && flags & VFIO_IRQ_SET_DATA_NONE) {
    vfioIntxDisable(e, t);
    return 0;
  }
  if (!(v.irq_type === 'intx' || v.irq_type === 'none') || start !== 0 || count !== 1)
    raise(
      'EINVAL',
      v.irq_type !== 'intx' && v.irq_type !== 'none'
        ? `${v.irq_type.toUpperCase()} is enabled`
        : 'INTx takes start 0 and count 1',
      v.irq_type === 'intx' || v.irq_type === 'none' ? 'count' : 'index',
    );
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    const fd = data[0] ?? 0;
    if (e.state.host.intx_handler === 'per-trigger') return intxTriggerPerTrigger(e, t, fd);
    const trigger = fd >= 0 ? eventfdCtxFdget(e, fd, 'data').fd : null;
    if (v.irq_type === 'intx') {
      // vfio_intx_set_signal: swap the pointer; the handler stays installed
      v.intx.trigger = trigger;
      ctl(
        e,
        t,
        'vfio_intx_set_signal',
        trigger === null ? 'INTx trigger cleared' : `INTx trigger eventfd ${trigger}`,
      );
      return 0;
    }
    vfioIntxEnable(e, t, trigger);
    return 0;
  }
  if (v.irq_type !== 'intx') raise('EINVAL', 'INTx is not enabled: nothing to loop back', 'index');
  if (flags & VFIO_IRQ_SET_DATA_NONE || (flags & VFIO_IRQ_SET_DATA_BOOL && data[0])) {
    const irq = e.newIrq(`vfio:${v.device}`, 'emulated');
    vfioSendIntxEventfd(e, t, irq, 'loop-back');
  }
  return 0;
}

/**
 * Upstream v6.1.0, before the 2024 "Interrupt eventfd hardening" (topology.host.intx_handler
 * 'per-trigger'; docs/kernel-notes.md I.14). vfio_pci_set_intx_trigger: "if (is_intx(vdev)) return
 * vfio_intx_set_signal(vdev, fd); ret = vfio_intx_enable(vdev); if (ret) return ret; ret =
 * vfio_intx_set_signal(vdev, fd); if (ret) vfio_intx_disable(vdev);". vfio_intx_enable takes no trigger
 * and requests nothing; vfio_intx_set_signal(vdev, fd) frees the old handler and eventfd first ("if
 * (vdev->ctx[0].trigger) { free_irq(pdev->irq, vdev); ... }"), returns 0 for fd < 0 ("Disable only"),
 * then kasprintf, eventfd_ctx_fdget and request_irq(pdev->irq, vfio_intx_handler, pci_2_3 ? IRQF_SHARED
 * : 0, name, vdev). So INTx enabled with fd -1 has no host handler at all, and a bad fd while enabled
 * leaves INTx enabled with none (what 18c198c96a81 "vfio/pci: Create persistent INTx handler" fixed).
 */
function intxTriggerPerTrigger(e: Engine, t: VfioTarget, fd: number): number {
  if (t.vfio.irq_type === 'intx') {
    intxSetSignalPerTrigger(e, t, fd);
    return 0;
  }
  vfioIntxEnable(e, t, null, false);
  try {
    intxSetSignalPerTrigger(e, t, fd);
  } catch (err) {
    vfioIntxDisable(e, t);
    throw err;
  }
  return 0;
}

// v6.1.0 vfio_intx_set_signal: free_irq of the old trigger, then (fd >= 0) fdget and request_irq
function intxSetSignalPerTrigger(e: Engine, t: VfioTarget, fd: number): void {
  const v = t.vfio;
  const pci = t.pci!;
  const h = hostIrqsOf(e, pci.name, 'IO-APIC')[0];
  if (v.intx.trigger !== null) {
    if (h?.started) hostFreeIrq(e, h);
    ctl(
      e,
      t,
      'vfio_intx_set_signal',
      `free_irq(${h?.irq ?? '?'}): INTx trigger eventfd ${v.intx.trigger} released`,
    );
    v.intx.trigger = null;
    if (v.ctx[0]) v.ctx[0].trigger = null;
  }
  if (fd < 0) {
    ctl(e, t, 'vfio_intx_set_signal', 'fd < 0: "Disable only": INTx enabled with no handler requested');
    return;
  }
  const trigger = eventfdCtxFdget(e, fd, 'data').fd;
  v.intx.trigger = trigger;
  if (v.ctx[0]) v.ctx[0].trigger = trigger;
  ctl(
    e,
    t,
    'vfio_intx_set_signal',
    `request_irq(${h.irq}, vfio_intx_handler, IRQF_SHARED) with trigger eventfd ${trigger}`,
  );
  hostRequestIrq(e, h, `vfio-intx(${pci.bdf})`, v.device, 0);
}

// vfio_intx_enable: ENODEV without an interrupt line; DisINTx follows the virtual mask; request_irq
// (not on the per-trigger code of upstream v6.1.0, where vfio_intx_set_signal requests it)
function vfioIntxEnable(e: Engine, t: VfioTarget, trigger: number | null, request = true): void {
  const v = t.vfio;
  const pci = t.pci!;
  if (v.irq_type !== 'none') raise('EINVAL', `${v.irq_type} is enabled`, 'index');
  if (!pci.intx.pin) raise('ENODEV', `${pci.name} has no interrupt pin`, 'index');
  // "if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED) return -ENODEV;" (the count check refuses it first)
  if (pci.intx.not_connected)
    raise('ENODEV', `${pci.name}'s pin is not routed (pdev->irq IRQ_NOTCONNECTED)`, 'index');
  // RFC v3 keeps per-vector contexts until release (18/26); vfio_intx_enable allocates context 0 with
  // vfio_irq_ctx_alloc, whose xa_insert fails (-EBUSY) when MSI or MSI-X left one there, and
  // vfio_intx_enable returns -ENOMEM for any failed allocation.
  if (v.ctx[0] && DESIGNS[e.state.design].rules.pciCtxLifetime === 'release')
    raise(
      'ENOMEM',
      `vfio_irq_ctx_alloc(0): context 0 kept since ${v.ctx[0].backend.toUpperCase()} was used (RFC v3 keeps per-vector contexts until release): -ENOMEM`,
      'index',
    );
  // ctx->masked = vdev->virq_disabled: the user's Interrupt Disable holds INTx masked from the start
  const masked = v.vconfig.virq_disabled;
  v.intx = { masked, unmask_fd: null, trigger, enabled: true };
  v.ctx[0] = {
    trigger,
    name: `vfio-intx(${pci.bdf})`,
    backend: 'intx',
    host_irq: null,
    producer: false,
    masked,
  };
  if (masked)
    pci.command |= PCI_COMMAND_INTX_DISABLE; // pci_intx(pdev, !ctx->masked)
  else pci.command &= ~PCI_COMMAND_INTX_DISABLE;
  v.irq_type = 'intx';
  // pdev->irq: the function's legacy IRQ is one descriptor for the device's life; free_irq at disable
  // removes only the action, so /proc/interrupts keeps counting on it (oracle: dp-intx host-reenabled)
  const h = hostIrqsOf(e, pci.name, 'IO-APIC')[0] ?? hostAllocIrq(e, 'IO-APIC', pci, 0);
  v.ctx[0].host_irq = h.irq;
  if (!request) {
    ctl(e, t, 'vfio_intx_enable', 'INTx enabled (upstream v6.1.0: no request_irq until a trigger is set)');
    return;
  }
  ctl(
    e,
    t,
    'vfio_intx_enable',
    `INTx enabled: request_irq(${h.irq}, vfio_intx_handler) ${trigger === null ? 'with no trigger' : `trigger eventfd ${trigger}`}`,
  );
  hostRequestIrq(e, h, `vfio-intx(${pci.bdf})`, v.device, 0);
  // A level already asserted when the line is requested is not taken: on both kernels under QEMU the
  // handler does not run and nothing is signalled until the device drops the line and raises it again
  // (oracle/fixtures/dp-intx.*: reenable-e3 reads 0, the vfio-intx count does not move, DisINTx stays
  // clear with Interrupt Status set). The interrupt waits at the pin until the driver services it.
}

export function vfioIntxDisable(e: Engine, t: VfioTarget): void {
  const v = t.vfio;
  const pci = t.pci!;
  for (const h of hostIrqsOf(e, pci.name, 'IO-APIC')) if (h.started) hostFreeIrq(e, h);
  v.intx = { masked: false, unmask_fd: null, trigger: null, enabled: false };
  delete v.ctx[0];
  v.irq_type = 'none';
  ctl(e, t, 'vfio_intx_disable', 'INTx disabled: free_irq, virqfds removed');
}

// vfio_send_intx_eventfd: signal the trigger, or drop the interrupt when there is none
export function vfioSendIntxEventfd(e: Engine, t: VfioTarget, irq: number, why: string): void {
  const from = `vfio:${t.vfio.device}/intx`;
  const trigger = t.vfio.intx.trigger;
  if (t.vfio.vconfig.virq_disabled) {
    // vfio_send_intx_eventfd signals only while the user's Interrupt Disable is clear
    e.hop('vfio.no_trigger', irq, from, 'eventfd', 'dropped', `${why}: the user set Interrupt Disable`);
    e.dropped(irq, 'the user set Interrupt Disable (virq_disabled)');
    return;
  }
  if (trigger === null) {
    e.hop('vfio.no_trigger', irq, from, 'eventfd', 'dropped', `${why}: INTx has no trigger eventfd`);
    e.dropped(irq, 'no trigger eventfd (de-assigned)');
    return;
  }
  e.hop(
    'eventfd.signal',
    irq,
    from,
    'eventfd',
    'forwarded',
    `${why}: signal INTx trigger eventfd ${trigger}`,
    'vfio_send_intx_eventfd@' + INTRS,
  );
  eventfdSignal(e, irq, trigger, from);
}

/** vfio_pci_set_intx_mask / _unmask: "if (!is_intx(vdev) || start != 0 || count != 1) return -EINVAL;" */
function intxOnlyVector(v: VfioTarget['vfio'], start: number, count: number): void {
  if (v.irq_type !== 'intx' || start !== 0 || count !== 1)
    raise(
      'EINVAL',
      v.irq_type !== 'intx' ? 'INTx is not enabled' : 'INTx takes start 0 and count 1',
      v.irq_type !== 'intx' ? 'index' : 'count',
    );
}

export function vfioPciSetIntxMask(
  e: Engine,
  t: VfioTarget,
  start: number,
  count: number,
  flags: number,
  data: number[],
): number {
  const v = t.vfio;
  ctl(e, t, 'vfio_pci_set_intx_mask', `INTX MASK start ${start} count ${count}`);
  intxOnlyVector(v, start, count);
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
    raise(
      'ENOTTY',
      'INTx MASK through an eventfd is not implemented by the kernel ("XXX implement me")',
      'flags',
    );
  if (flags & VFIO_IRQ_SET_DATA_NONE || data[0]) vfioIntxMask(e, t);
  return 0;
}

// __vfio_pci_intx_mask: always mask (DisINTx), not only when something is pending
function vfioIntxMask(e: Engine, t: VfioTarget): void {
  const v = t.vfio;
  if (!v.intx.masked) {
    t.pci!.command |= PCI_COMMAND_INTX_DISABLE;
    t.pci!.intx.asserted = false;
    v.intx.masked = true;
    if (v.ctx[0]) v.ctx[0].masked = true;
    ctl(e, t, '__vfio_pci_intx_mask', 'INTx masked: DisINTx set');
  }
}

export function vfioPciSetIntxUnmask(
  e: Engine,
  t: VfioTarget,
  start: number,
  count: number,
  flags: number,
  data: number[],
): number {
  const v = t.vfio;
  ctl(e, t, 'vfio_pci_set_intx_unmask', `INTX UNMASK start ${start} count ${count}`);
  intxOnlyVector(v, start, count);
  if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
    const fd = data[0] ?? 0;
    if (fd >= 0) {
      // drivers/vfio/virqfd.c: vfio_virqfd_enable
      const efd = eventfdCtxFdget(e, fd, 'data');
      if (v.intx.unmask_fd !== null)
        raise(
          'EBUSY',
          `an unmask eventfd (${v.intx.unmask_fd}) is already installed: remove it with -1 first`,
          'data',
        );
      v.intx.unmask_fd = efd.fd;
      efd.label = `virqfd: INTx unmask of ${v.device}`;
      ctl(e, t, 'vfio_virqfd_enable', `unmask virqfd on eventfd ${fd}`, VIRQFD);
      // An eventfd already signalled runs the handler at once (its count is not consumed).
      if (efd.count > 0) intxUnmaskAndResend(e, t, 'virqfd installed on a signalled eventfd');
    } else if (v.intx.unmask_fd !== null) {
      const efd = e.state.eventfds[v.intx.unmask_fd];
      if (efd) efd.label = '';
      v.intx.unmask_fd = null;
      ctl(e, t, 'vfio_virqfd_disable', 'unmask virqfd removed', VIRQFD);
    }
    return 0;
  }
  if (flags & VFIO_IRQ_SET_DATA_NONE || data[0]) intxUnmaskAndResend(e, t, 'unmask');
  return 0;
}

/**
 * vfio_pci_intx_unmask_handler + __vfio_pci_intx_unmask: clear DisINTx unless the device still asserts
 * INTx; if it does, stay masked and re-send the interrupt to the user instead.
 */
function intxUnmaskAndResend(e: Engine, t: VfioTarget, why: string): void {
  const v = t.vfio;
  // "if (ctx->masked && !vdev->virq_disabled)": the user's Interrupt Disable wins over an unmask
  if (!v.intx.masked || v.vconfig.virq_disabled) return;
  const pci = t.pci!;
  if (intxCheckAndUnmask(pci)) {
    v.intx.masked = false;
    if (v.ctx[0]) v.ctx[0].masked = false;
    ctl(e, t, 'vfio_pci_intx_unmask_handler', `${why}: DisINTx cleared`);
    return;
  }
  ctl(e, t, 'vfio_pci_intx_unmask_handler', `${why}: the device still asserts INTx: stays masked, re-sent`);
  // The interrupt still waiting at the pin is the one re-sent; if it was already passed on, this is a
  // new signal of the same condition.
  let irq = pci.intx.pending_irq;
  if (irq) {
    pci.intx.pending_irq = 0;
    e.inFlight(irq);
  } else irq = e.newIrq(`intx:${pci.name}`, 'direct');
  vfioSendIntxEventfd(e, t, irq, 'still asserted at unmask');
}

/** An eventfd signal reaching a VFIO unmask virqfd: consumes the count and unmasks. */
export function vfioVirqfdWakeup(e: Engine, irq: number, fd: number, from: string): boolean {
  for (const v of Object.values(e.state.vfio)) {
    if (v.intx.unmask_fd !== fd) continue;
    e.hop(
      'irqfd.unmask',
      irq,
      from,
      `vfio:${v.device}/intx`,
      'delivered',
      `eventfd ${fd} wakes the unmask virqfd of ${v.device}`,
    );
    e.delivered(irq, `VFIO unmask virqfd of ${v.device}`);
    const t = { vfio: v, pci: e.state.devices[v.device], vdev: null, hw: e.state.devices[v.device] };
    intxUnmaskAndResend(e, t, 'unmask virqfd');
    return true;
  }
  return false;
}

/**
 * vfio_pci_intx_mask / vfio_pci_intx_unmask, as a config-space write of Interrupt Disable calls them:
 * with INTx not in use "just try to have the physical bit follow the virtual bit".
 */
export function vfioPciIntxMask(e: Engine, t: VfioTarget): void {
  if (t.vfio.irq_type === 'intx') vfioIntxMask(e, t);
  else if (t.pci) t.pci.command |= PCI_COMMAND_INTX_DISABLE;
}

export function vfioPciIntxUnmask(e: Engine, t: VfioTarget): void {
  if (t.vfio.irq_type === 'intx') intxUnmaskAndResend(e, t, 'Interrupt Disable cleared in config space');
  else if (t.pci) t.pci.command &= ~PCI_COMMAND_INTX_DISABLE;
}

eventfdRegisterWaiter('virqfd', vfioVirqfdWakeup);
