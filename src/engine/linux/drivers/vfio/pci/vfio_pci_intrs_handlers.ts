// The VFIO interrupt handlers on the data path (drivers/vfio/pci/vfio_pci_intrs.c): vfio_msihandler
// signals the vector's trigger eventfd and nothing else; vfio_intx_handler automasks the line then
// signals; vfio_pci_send_signal is how a virtual device driver fires an emulated vector.

import { on, type Engine, type NodeKind, NK } from '../../../../engine.ts';
import { EV } from '../../../../datapath.ts';
import type { VfioBackend } from '../../../../types.ts';
import { HOP } from '../../../../hops.ts';
import { defineDetail, OUT } from '../../../../sim/trace.ts';
import { vfioTarget } from '../device.ts';
import { vfioSendIntxEventfd } from './vfio_pci_intrs_intx.ts';
import { intxCheckAndMask } from '../../../../hw/pci/intx.ts';
import { frontFn } from './designs.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_VFIO = NK['vfio'];
const N_VFIO_EMULATED = NK['vfio/emulated'];
const N_VFIO_MSIX = NK['vfio/msix'];
const N_VFIO_MSI = NK['vfio/msi'];
const N_VFIO_IMS = NK['vfio/ims'];

// Hops, detail formats and places this file records (hops.ts, sim/trace.ts).
const H_MSIHANDLER = HOP['vfio.msihandler'];
const H_IMSHANDLER = HOP['vfio.imshandler'];
const F_HANDLER = defineDetail((vector, fd) => `vector ${vector}: eventfd_signal(${fd})`);

/** a = host IRQ. */
on('vfio.msihandler', (e, irq, hostIrq) => {
  const h = e.state.host.irqs[hostIrq];
  const v = h && h.owner !== null ? e.state.vfio[h.owner] : undefined;
  const ctx = v?.ctx[h.owner_vector];
  if (!v || !ctx || ctx.trigger === null) {
    // free_irq removed the handler between the flow handler and the action (free_irq waits for running
    // handlers with synchronize_irq; here the hop had not started yet)
    e.hop(
      'host.no_handler',
      irq,
      'hostirq',
      'hostirq',
      'dropped',
      `IRQ ${hostIrq}: its handler was freed before it ran`,
    );
    e.dropped(irq, 'no handler: IRQ freed while the message was in flight');
    return;
  }
  const di = e.deviceOrdinal(v.device);
  // the backend's node kind by comparison, not a string-keyed table (issue 14: a hashed lookup per interrupt)
  const b = ctx.backend;
  const kind =
    b === 'msix'
      ? N_VFIO_MSIX
      : b === 'ims'
        ? N_VFIO_IMS
        : b === 'msi'
          ? N_VFIO_MSI
          : NK[BACKEND_NODE[BACKEND_CODE[b]]];
  const to = e.nodeId(kind, di);
  const hop = b === 'ims' ? H_IMSHANDLER : H_MSIHANDLER;
  e.hopf(hop, irq, e.nodeId(N_VFIO, di), to, OUT.forwarded, F_HANDLER, h.owner_vector, ctx.trigger, 0);
  // eventfd_signal(trigger), from the backend's node (a = eventfd, b = the node's string id)
  e.schedule(e.cost.vfio_handler, EV['eventfd.signal'], irq, ctx.trigger, to);
});

const BACKENDS: readonly VfioBackend[] = ['msix', 'msi', 'intx', 'ims', 'emulated'];
const BACKEND_CODE = Object.fromEntries(BACKENDS.map((b, i) => [b, i])) as Record<VfioBackend, number>;
const BACKEND_NODE: readonly NodeKind[] = ['vfio/msix', 'vfio/msi', 'vfio/intx', 'vfio/ims', 'vfio/emulated'];

/** a = host IRQ of the INTx line. */
on('vfio.intxhandler', (e, irq, hostIrq) => {
  const h = e.state.host.irqs[hostIrq];
  const t = h && h.owner !== null ? vfioTarget(e, h.owner) : null;
  if (!t || !t.pci) {
    e.hop('vfio.intxhandler', irq, 'hostirq', 'hostirq', 'dropped', 'INTx line without a VFIO handler');
    e.dropped(irq, 'INTx without a handler');
    return;
  }
  const v = t.vfio;
  // vfio_intx_handler: pci_2_3 devices are masked with DisINTx only when they really assert (shared line)
  if (v.intx.masked || !intxCheckAndMask(t.pci)) {
    e.hop(
      'vfio.intxhandler',
      irq,
      'hostirq',
      `vfio:${v.device}/intx`,
      'dropped',
      'IRQ_NONE: not asserting or already masked (shared line)',
    );
    e.dropped(irq, 'INTx IRQ_NONE');
    return;
  }
  v.intx.masked = true;
  if (v.ctx[0]) v.ctx[0].masked = true;
  e.hop(
    'vfio.intxhandler',
    irq,
    `vfio:${v.device}`,
    `vfio:${v.device}/intx`,
    'forwarded',
    'automask: DisINTx set, ctx masked',
  );
  vfioSendIntxEventfd(e, t, irq, 'vfio_intx_handler');
});

/**
 * vfio_pci_send_signal(intr_ctx, vector): the virtual device driver fires an emulated vector. The
 * interrupt `irq` was created by the caller (the intercepted path).
 */
export function vfioSendSignal(e: Engine, irq: number, device: string, vector: number, from: string): void {
  const v = e.state.vfio[device];
  const ctx = v?.ctx[vector];
  const fn = frontFn(e.state.design, 'send_signal', 'emulated');
  if (!ctx || ctx.trigger === null) {
    // The kernel WARNs and returns: no trigger, nothing reaches the guest.
    e.hop(
      'vfio.send_signal',
      irq,
      from,
      `vfio:${device}/emulated`,
      'dropped',
      `vector ${vector} has no trigger eventfd (de-assigned)`,
      fn,
    );
    e.dropped(irq, 'no trigger eventfd (de-assigned)');
    return;
  }
  e.hop(
    'vfio.send_signal',
    irq,
    from,
    `vfio:${device}/emulated`,
    'forwarded',
    `${ctx.name}: emulated vector ${vector}, eventfd_signal(${ctx.trigger})`,
    fn,
  );
  e.schedule(
    e.cost.vfio_handler,
    EV['eventfd.signal'],
    irq,
    ctx.trigger,
    e.nodeId(N_VFIO_EMULATED, e.deviceOrdinal(device)),
  );
}
