// What QEMU does for an assigned device (hw/vfio/pci.c, hw/pci/msix.c). The guest's MSI-X table is
// trapped, not mapped: QEMU keeps the guest's view (address, data, mask, pending) and turns the guest's
// writes into VFIO_DEVICE_SET_IRQS calls and KVM routes/irqfds:
//   enable    vfio_msix_enable: with no vector in use, enable the host index with vector 0 and fd -1
//             (vfio_enable_msix_no_vec) so the physical function is in MSI-X mode like the guest's view;
//   unmask    vfio_msix_vector_do_use: add a KVM MSI route + irqfd, point VFIO's trigger at the irqfd's
//             eventfd; without dynamic MSI-X (NORESIZE) a vector past those enabled disables and re-enables
//             the index with more vectors;
//   mask      vfio_msix_vector_release: keep the route, point VFIO at QEMU's own eventfd, so QEMU sees the
//             interrupt and sets the guest-visible pending bit (msix_notify);
//   unmask again: msix_handle_mask_update sends what was pending, once.

import { own } from '../own.ts';
import { defineEvent, type Engine } from '../engine.ts';
import type { VmmDeviceState, VmmVector } from '../types.ts';
import { raise } from '../errno.ts';
import { msixClearPending, msixCreate, msixIsMasked, msixSetPending } from '../pci/msix.ts';
import { eventfdClose, eventfdCreate } from '../kvm/eventfd.ts';
import { kvmIrqfdAssign, kvmIrqfdDeassign, kvmSetMsiRoute, kvmSignalMsi } from '../kvm/irqfd.ts';
import { vfioTarget } from '../vfio/device.ts';
import { vfioSetIrqs, vfioGetIrqInfo } from '../vfio/intrs.ts';
import {
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSIX_IRQ_INDEX,
} from '../vfio/uapi.ts';
import { hex } from '../iommu/msg.ts';

const QEMU_VFIO = 'hw/vfio/pci.c';

export function vmmDeviceCreate(device: string, tableSize: number): VmmDeviceState {
  return {
    device,
    msix: msixCreate({ table_size: tableSize }),
    nr_vectors: 0,
    vectors: Array.from({ length: tableSize }, (): VmmVector => ({
      virq: null,
      kvm_interrupt: null,
      interrupt: null,
      vfio_fd: null,
      in_use: false,
    })),
  };
}

export function vmmDevice(e: Engine, device: string): VmmDeviceState {
  const d = own(e.state.vmm, device);
  if (d) return d;
  const dev = own(e.state.devices, device);
  if (dev && !dev.passthrough)
    raise('ENODEV', `${device} is not assigned to the VM (it only parents virtual devices)`, 'device');
  raise(
    'EINVAL',
    `${device} has no MSI-X capability: the guest driver model drives MSI-X only (use vfio.setIrqs for MSI and INTx)`,
    'device',
  );
}

function ctl(e: Engine, fn: string, detail: string): void {
  e.hop('ctl.vmm', 0, 'guest', 'vmm', 'done', detail, `${fn}@${QEMU_VFIO}`);
}

/** One VFIO_DEVICE_SET_IRQS(MSI-X, EVENTFD|TRIGGER) from QEMU (vfio_device_irq_set_signaling). */
function setIrqs(e: Engine, device: string, start: number, fds: number[]): void {
  const t = vfioTarget(e, device)!;
  const flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  vfioSetIrqs(
    e,
    t,
    { argsz: 20 + 4 * fds.length, flags, index: VFIO_PCI_MSIX_IRQ_INDEX, start, count: fds.length },
    fds,
  );
}

function noresize(e: Engine, device: string): boolean {
  const t = vfioTarget(e, device)!;
  return (vfioGetIrqInfo(e, t, VFIO_PCI_MSIX_IRQ_INDEX, 16).flags & VFIO_IRQ_INFO_NORESIZE) !== 0;
}

/** The guest sets MSI-X Enable in its config space. */
export function vmmMsixEnable(e: Engine, device: string): void {
  const d = vmmDevice(e, device);
  if (d.msix.enable) return;
  d.msix.enable = true;
  const used = d.vectors.some((v) => v.in_use);
  if (!used && vfioTarget(e, device)!.vfio.irq_type === 'none') {
    ctl(
      e,
      'vfio_enable_msix_no_vec',
      `${device}: guest enabled MSI-X with every vector masked: host MSI-X on with vector 0, fd -1`,
    );
    setIrqs(e, device, 0, [-1]);
    d.nr_vectors = 1;
  }
  // msix_write_config: MSI-X off counts as function-masked, so enabling unmasks every vector whose own
  // mask is clear, and what QEMU held pending for it goes out once (msix_handle_mask_update).
  for (let n = 0; n < d.msix.table_size; n++) if (!msixIsMasked(d.msix, n)) vectorUnmasked(e, device, n);
}

/** The guest clears MSI-X Enable: vfio_msix_disable releases every vector and disables the index. */
export function vmmMsixDisable(e: Engine, device: string): void {
  const d = vmmDevice(e, device);
  if (!d.msix.enable) return;
  d.msix.enable = false;
  const t = vfioTarget(e, device)!;
  ctl(e, 'vfio_msix_disable', `${device}: guest disabled MSI-X: VFIO index disabled, routes removed`);
  if (t.vfio.irq_type === 'msix')
    vfioSetIrqs(
      e,
      t,
      {
        argsz: 20,
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSIX_IRQ_INDEX,
        start: 0,
        count: 0,
      },
      [],
    );
  d.vectors.forEach((v, n) => {
    if (v.virq !== null && v.kvm_interrupt !== null) kvmIrqfdDeassign(e, v.kvm_interrupt, v.virq);
    if (v.virq !== null) delete e.state.kvm.gsi_routes[v.virq];
    if (v.in_use && d.msix.pba[n]) {
      // msix_vector_unuse ends in msix_clr_pending: what QEMU held for the guest is gone
      const irq = msixClearPending(d.msix, n);
      e.hop(
        'vmm.msix_pending',
        irq,
        'vmm',
        'vmm',
        'dropped',
        `${device} vector ${n}: MSI-X disabled, msix_vector_unuse clears the pending bit`,
      );
      e.dropped(irq, 'MSI-X disabled: msix_vector_unuse cleared the pending bit');
    }
    // vfio_msi_disable_common closes QEMU's eventfds for the vector
    for (const fd of [v.interrupt, v.kvm_interrupt])
      if (fd !== null) eventfdClose(e, fd, 'QEMU closed the eventfd (vfio_msi_disable_common)');
    d.vectors[n] = { virq: null, kvm_interrupt: null, interrupt: null, vfio_fd: null, in_use: false };
  });
  d.nr_vectors = 0;
}

// vfio_msix_vector_do_use
export function vmmVectorUse(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  const v = d.vectors[nr];
  const entry = d.msix.table[nr];
  if (v.interrupt === null) v.interrupt = eventfdCreate(e, `QEMU ${device} vector ${nr} interrupt`).fd;
  if (v.kvm_interrupt === null)
    v.kvm_interrupt = eventfdCreate(e, `QEMU ${device} vector ${nr} kvm_interrupt`).fd;
  const route = {
    gsi: v.virq ?? e.state.kvm.next_gsi,
    address_lo: entry.addr_lo,
    address_hi: entry.addr_hi,
    data: entry.data,
  };
  if (v.virq === null) {
    v.virq = e.state.kvm.next_gsi++;
    kvmSetMsiRoute(e, route);
    kvmIrqfdAssign(e, v.kvm_interrupt, v.virq);
  } else kvmSetMsiRoute(e, route);
  v.in_use = true;
  v.vfio_fd = v.kvm_interrupt;
  if (nr >= d.nr_vectors && noresize(e, device)) {
    // Without dynamic MSI-X the index must be torn down and re-enabled with every vector in use.
    ctl(
      e,
      'vfio_msix_vector_do_use',
      `${device} vector ${nr} >= ${d.nr_vectors} enabled and NORESIZE: disable and re-enable with ${nr + 1}`,
    );
    const t = vfioTarget(e, device)!;
    vfioSetIrqs(
      e,
      t,
      {
        argsz: 20,
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_MSIX_IRQ_INDEX,
        start: 0,
        count: 0,
      },
      [],
    );
    d.nr_vectors = nr + 1;
    const fds = d.vectors
      .slice(0, d.nr_vectors)
      .map((x) => (x.in_use && x.vfio_fd !== null ? x.vfio_fd : -1));
    setIrqs(e, device, 0, fds);
  } else {
    ctl(
      e,
      'vfio_msix_vector_do_use',
      `${device} vector ${nr}: KVM route GSI ${v.virq} ${hex(entry.addr_lo)}/${hex(entry.data)}, irqfd eventfd ${v.kvm_interrupt}`,
    );
    setIrqs(e, device, nr, [v.kvm_interrupt]);
    d.nr_vectors = Math.max(d.nr_vectors, nr + 1);
  }
}

// vfio_msix_vector_release: switch VFIO to QEMU's own eventfd; the KVM route stays
export function vmmVectorRelease(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  const v = d.vectors[nr];
  if (!v.in_use || v.interrupt === null) return;
  ctl(
    e,
    'vfio_msix_vector_release',
    `${device} vector ${nr} masked by the guest: VFIO now signals QEMU's eventfd ${v.interrupt}`,
  );
  v.vfio_fd = v.interrupt;
  setIrqs(e, device, nr, [v.interrupt]);
}

/** hw/pci/msix.c: msix_handle_mask_update: a vector that became unmasked sends its pending message once. */
export function vmmMaskUpdate(e: Engine, device: string, nr: number, wasMasked: boolean): void {
  const d = vmmDevice(e, device);
  const masked = msixIsMasked(d.msix, nr);
  if (wasMasked === masked || !d.msix.enable) return;
  if (masked) {
    vmmVectorRelease(e, device, nr);
    return;
  }
  vectorUnmasked(e, device, nr);
}

/** A vector the guest can now take: QEMU uses it, then sends what it held pending, once. */
function vectorUnmasked(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  vmmVectorUse(e, device, nr);
  if (d.msix.pba[nr]) {
    const irq = msixClearPending(d.msix, nr);
    e.inFlight(irq);
    e.hop(
      'vmm.unmask_pending',
      irq,
      'vmm',
      'kvm',
      'forwarded',
      `${device} vector ${nr} unmasked with its virtual PBA bit set: sent once`,
    );
    msixNotifyDeliver(e, irq, device, nr);
  }
}

/** QEMU's handler on its own eventfd (vfio_msi_interrupt -> msix_notify): a = device ordinal, b = vector. */
export const EV_VMM_INTERRUPT = defineEvent('vmm.interrupt', (e, irq, di, nr) => {
  const device = e.deviceNames[di];
  const d = e.state.vmm[device];
  // event_notifier_test_and_clear: someone else (a KVM irqfd, a read, a close) may have taken it first
  const fd = d.vectors[nr].interrupt;
  const efd = fd === null ? undefined : e.state.eventfds[fd];
  if (!efd || efd.reader_irq !== irq) return;
  efd.count = 0;
  efd.reader_irq = 0;
  if (msixIsMasked(d.msix, nr) || !d.msix.enable) {
    const into = msixSetPending(d.msix, nr, irq);
    if (into) {
      e.hop(
        'vmm.msix_pending',
        irq,
        'vmm',
        'vmm',
        'coalesced',
        `guest masked ${device} vector ${nr}; virtual PBA already set by #${into}`,
      );
      e.coalesced(irq, into, `${device} guest PBA[${nr}] (QEMU)`);
    } else {
      e.hop(
        'vmm.msix_pending',
        irq,
        'vmm',
        'vmm',
        'pending',
        `guest masked ${device} vector ${nr}: virtual PBA bit set`,
      );
      e.pending(irq, `${device} guest PBA[${nr}] (QEMU)`);
    }
    return;
  }
  e.hop('vmm.interrupt', irq, 'vmm', 'vmm', 'forwarded', `${device} vector ${nr} not masked: msix_notify`);
  msixNotifyDeliver(e, irq, device, nr);
});

/** msix_notify -> msi_send_message -> KVM_SIGNAL_MSI with the guest's address/data. */
function msixNotifyDeliver(e: Engine, irq: number, device: string, nr: number): void {
  const entry = e.state.vmm[device].msix.table[nr];
  kvmSignalMsi(e, irq, entry.addr_lo, entry.data);
}
