// What QEMU does for an assigned device (hw/vfio/pci.c, hw/pci/msix.c), as QEMU 8.2 and later do it
// (QEMU_VERSION; docs/kernel-notes.md section I.2 for what 8.1 and earlier did instead). The guest's
// MSI-X table is trapped, not mapped: QEMU keeps the guest's view (address, data, mask, pending) and
// turns the guest's writes into VFIO_DEVICE_SET_IRQS calls and KVM routes/irqfds:
//   enable    vfio_msix_enable: vfio_disable_interrupts (INTx off, qemu/hw/vfio/pci_intx.ts), then the vectors the
//             guest already unmasked are used in one batch (vfio_pci_prepare_kvm_msi_virq_batch: routes
//             deferred, no SET_IRQS per vector), committed together, and one vfio_enable_vectors sets
//             them all; with none in use, the host index is enabled with vector 0 and fd -1
//             (vfio_enable_msix_no_vec) and nr_vectors stays 0;
//   unmask    vfio_msix_vector_do_use: add a KVM MSI route + irqfd, point VFIO's trigger at the irqfd's
//             eventfd; without dynamic MSI-X (NORESIZE) a vector past those enabled disables and re-enables
//             the index with more vectors;
//   mask      vfio_msix_vector_release: keep the route, point VFIO at QEMU's own eventfd, so QEMU sees the
//             interrupt and sets the guest-visible pending bit (msix_notify);
//   unmask again: msix_handle_mask_update sends what was pending, once.

import { own } from '../../../own.ts';
import { on, type Engine } from '../../../engine.ts';
import type { VmmDeviceState, VmmVector } from '../../../types.ts';
import { raise } from '../../../errno.ts';
import { msixClearPending, msixCreate, msixIsMasked, msixSetPending } from '../../../hw/pci/msix.ts';
import { eventfdClose, eventfdCreate } from '../../../linux/fs/eventfd.ts';
import {
  kvmIrqfdAssign,
  kvmIrqfdDeassign,
  kvmSetMsiRoute,
  kvmSignalMsi,
} from '../../../linux/virt/kvm/eventfd.ts';
import { vfioTarget } from '../../../linux/drivers/vfio/device.ts';
import { vfioSetIrqs, vfioGetIrqInfo } from '../../../linux/drivers/vfio/pci/vfio_pci_intrs.ts';
import {
  VFIO_IRQ_INFO_NORESIZE,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSIX_IRQ_INDEX,
} from '../../../linux/drivers/vfio/vfio_main.ts';
import { hex } from '../../../hex.ts';
import { vmmIntxDisable, vmmIntxEnable, vmmRealize } from './pci_intx.ts';
import { vfioConfigWrite } from '../../../linux/drivers/vfio/pci/vfio_pci_config.ts';

const QEMU_VFIO = 'hw/vfio/pci.c';

/** The QEMU release whose hw/vfio/pci.c this model follows (vfio_enable_msix_no_vec: 5ebffa4e87e7, 8.2). */
export const QEMU_VERSION = '8.2';

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
    realized: false,
    interrupt: 'none',
    intx_interrupt: null,
    intx_route: null,
    intx_unmask: null,
    intx_kvm_accel: false,
    defer_kvm_irq_routing: false,
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
function setIrqs(e: Engine, device: string, start: number, fds: number[]): number {
  const t = vfioTarget(e, device)!;
  const flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  return vfioSetIrqs(
    e,
    t,
    { argsz: 20 + 4 * fds.length, flags, index: VFIO_PCI_MSIX_IRQ_INDEX, start, count: fds.length },
    fds,
  );
}

/** vfio_device_irq_disable(MSIX): DATA_NONE|TRIGGER, count 0 (the kernel frees every vector). */
function msixIrqDisable(e: Engine, device: string): void {
  const t = vfioTarget(e, device)!;
  // On an index that is not enabled the kernel answers EINVAL, which QEMU only reports.
  if (t.vfio.irq_type !== 'msix') return;
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
}

function noresize(e: Engine, device: string): boolean {
  const t = vfioTarget(e, device)!;
  return (vfioGetIrqInfo(e, t, VFIO_PCI_MSIX_IRQ_INDEX, 16).flags & VFIO_IRQ_INFO_NORESIZE) !== 0;
}

/** vfio_enable_msix_no_vec: SET_IRQS(MSI-X, start 0, count 1, fd -1): MSI-X on, no vector enabled. */
function enableMsixNoVec(e: Engine, device: string, why: string): void {
  ctl(e, 'vfio_enable_msix_no_vec', `${device}: ${why}: host MSI-X on with vector 0, fd -1`);
  setIrqs(e, device, 0, [-1]);
}

/**
 * vfio_enable_vectors(vdev, true): one SET_IRQS for vectors 0..nr_vectors-1, fd -1 where not in use,
 * QEMU's own eventfd where there is no route or the guest masked it, else the irqfd's eventfd. Without
 * NORESIZE (dynamic MSI-X) it first enables the index with no vector, so only the listed ones are allocated.
 */
function enableVectors(
  e: Engine,
  device: string,
  caller: 'vfio_msix_enable' | 'vfio_msix_vector_do_use',
): void {
  const d = vmmDevice(e, device);
  const t = vfioTarget(e, device)!;
  if (!noresize(e, device) && t.vfio.irq_type !== 'msix')
    enableMsixNoVec(e, device, 'dynamic MSI-X: enable first, then the sparse set');
  const fds = d.vectors.slice(0, d.nr_vectors).map((x, n) => {
    if (!x.in_use) return -1;
    x.vfio_fd = x.virq === null || msixIsMasked(d.msix, n) ? x.interrupt : x.kvm_interrupt;
    return x.vfio_fd ?? -1;
  });
  ctl(
    e,
    'vfio_enable_vectors',
    `${device}: SET_IRQS(MSI-X, start 0, count ${d.nr_vectors}): [${fds.join(', ')}]`,
  );
  const ret = setIrqs(e, device, 0, fds);
  // A positive answer (the host gave fewer vectors, docs/kernel-notes.md I.12) is only reported for
  // MSI-X: vfio_msix_enable and vfio_msix_vector_do_use print "vfio: failed to enable vectors, %d" (8.1 and
  // 8.2; later QEMU prints strerror(-ret)) after vfio_enable_vectors returns, and do not retry
  // (vfio_msi_enable does); the host index stays disabled.
  if (ret > 0)
    e.hop(
      'ctl.vmm',
      0,
      'guest',
      'vmm',
      'failed',
      `vfio: failed to enable vectors, ${ret} (error_report; no retry for MSI-X)`,
      `${caller}@${QEMU_VFIO}`,
    );
}

/** The guest sets MSI-X Enable in its config space: vfio_pci_write_config -> vfio_msix_enable. */
export function vmmMsixEnable(e: Engine, device: string): void {
  const d = vmmDevice(e, device);
  if (d.msix.enable) return;
  if (e.state.vmm_msi?.[device]?.enable)
    raise(
      'EOPNOTSUPP',
      `${device}: the guest has MSI enabled; enabling MSI-X on top of it (vfio_disable_interrupts tearing MSI down) is not modelled`,
      'device',
    );
  vmmRealize(e, d);
  // msix_write_config runs first (pci_default_write_config): MSI-X off counted as function-masked, so
  // every vector whose own mask is clear sends what QEMU held pending for it, before any notifier is set.
  d.msix.enable = true;
  for (let n = 0; n < d.msix.table_size; n++)
    if (!msixIsMasked(d.msix, n) && d.msix.pba[n]) sendPending(e, device, n);
  // vfio_msix_enable: vfio_disable_interrupts (INTx, if QEMU had it on)
  vmmIntxDisable(e, d);
  d.interrupt = 'msix';
  // msix_set_vector_notifiers calls the use notifier for each vector already unmasked, inside a batch
  // (vfio_pci_prepare_kvm_msi_virq_batch): routes are added but VFIO is not told per vector.
  const unmasked = d.msix.table.map((_, n) => n).filter((n) => !msixIsMasked(d.msix, n));
  if (unmasked.length) {
    ctl(
      e,
      'vfio_pci_prepare_kvm_msi_virq_batch',
      `${device}: vectors ${unmasked.join(', ')} already unmasked: KVM routes batched (defer_kvm_irq_routing)`,
    );
    d.defer_kvm_irq_routing = true;
    for (const n of unmasked) vmmVectorUse(e, device, n);
    d.defer_kvm_irq_routing = false;
    // vfio_pci_commit_kvm_msi_virq_batch: commit the routes, then one irqfd per vector with a route
    ctl(
      e,
      'vfio_pci_commit_kvm_msi_virq_batch',
      `${device}: routes committed, irqfds connected for ${unmasked.length} vector(s)`,
    );
    for (let n = 0; n < d.nr_vectors; n++) connectIrqfd(e, d, n);
  }
  const t = vfioTarget(e, device)!;
  // A VFIO index the scenario enabled by hand stays as it is (the kernel would refuse another type).
  if (t.vfio.irq_type !== 'none' && t.vfio.irq_type !== 'msix') return;
  if (d.nr_vectors) enableVectors(e, device, 'vfio_msix_enable');
  else if (t.vfio.irq_type === 'none')
    // nr_vectors stays 0 (QEMU 8.2+): the first use of vector 0 resizes
    enableMsixNoVec(e, device, 'guest enabled MSI-X with every vector masked');
}

/** The guest clears MSI-X Enable: vfio_msix_disable releases every vector, disables the index, INTx back on. */
export function vmmMsixDisable(e: Engine, device: string): void {
  const d = vmmDevice(e, device);
  if (!d.msix.enable) return;
  vmmRealize(e, d);
  d.msix.enable = false;
  ctl(
    e,
    'vfio_msix_disable',
    `${device}: guest disabled MSI-X: vectors released, VFIO index disabled, INTx back`,
  );
  d.vectors.forEach((v, n) => {
    if (!v.in_use) return;
    // "MSI-X will only release vectors if MSI-X is still enabled on the device": release it ourselves
    vmmVectorRelease(e, device, n);
    if (d.msix.pba[n]) {
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
  });
  msixIrqDisable(e, device);
  // vfio_msi_disable_common: KVM routes and irqfds removed, QEMU's eventfds closed, nr_vectors = 0
  d.vectors.forEach((v, n) => {
    if (v.virq !== null && v.kvm_interrupt !== null) kvmIrqfdDeassign(e, v.kvm_interrupt, v.virq);
    if (v.virq !== null) delete e.state.kvm.gsi_routes[v.virq];
    for (const fd of [v.interrupt, v.kvm_interrupt])
      if (fd !== null) eventfdClose(e, fd, 'QEMU closed the eventfd (vfio_msi_disable_common)');
    d.vectors[n] = { virq: null, kvm_interrupt: null, interrupt: null, vfio_fd: null, in_use: false };
  });
  d.nr_vectors = 0;
  d.interrupt = 'none';
  vmmIntxEnable(e, d);
}

/** vfio_connect_kvm_msi_virq: the irqfd on the vector's kvm_interrupt eventfd (KVM_IRQFD). */
function connectIrqfd(e: Engine, d: VmmDeviceState, nr: number): void {
  const v = d.vectors[nr];
  if (v.virq === null || v.kvm_interrupt === null || e.state.kvm.irqfds[v.kvm_interrupt]) return;
  kvmIrqfdAssign(e, v.kvm_interrupt, v.virq);
}

// vfio_msix_vector_do_use
export function vmmVectorUse(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  const v = d.vectors[nr];
  const entry = d.msix.table[nr];
  const before = d.nr_vectors;
  const resizing = before < nr + 1;
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
    // batched: vfio_pci_commit_kvm_msi_virq_batch connects the irqfd
    if (!d.defer_kvm_irq_routing) kvmIrqfdAssign(e, v.kvm_interrupt, v.virq);
  } else kvmSetMsiRoute(e, route);
  v.in_use = true;
  v.vfio_fd = v.kvm_interrupt;
  if (resizing) d.nr_vectors = nr + 1;
  if (d.defer_kvm_irq_routing) {
    ctl(
      e,
      'vfio_msix_vector_do_use',
      `${device} vector ${nr}: KVM route GSI ${v.virq} ${hex(entry.addr_lo)}/${hex(entry.data)} (batched: no SET_IRQS yet)`,
    );
    return;
  }
  if (resizing && noresize(e, device)) {
    // Without dynamic MSI-X the index must be torn down and re-enabled with every vector in use.
    ctl(
      e,
      'vfio_msix_vector_do_use',
      `${device} vector ${nr} >= nr_vectors ${before} and NORESIZE: disable and re-enable with ${nr + 1}`,
    );
    msixIrqDisable(e, device);
    enableVectors(e, device, 'vfio_msix_vector_do_use');
  } else {
    ctl(
      e,
      'vfio_msix_vector_do_use',
      `${device} vector ${nr}: KVM route GSI ${v.virq} ${hex(entry.addr_lo)}/${hex(entry.data)}, irqfd eventfd ${v.kvm_interrupt}`,
    );
    setIrqs(e, device, nr, [v.kvm_interrupt]);
  }
}

// vfio_msix_vector_release: switch VFIO to QEMU's own eventfd; the KVM route stays
export function vmmVectorRelease(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  const v = d.vectors[nr];
  // only a vector with a KVM route switches; one already on QEMU's eventfd has nothing to do
  if (!v.in_use || v.virq === null || v.interrupt === null) return;
  if (vfioTarget(e, device)!.vfio.irq_type !== 'msix') return;
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
  if (d.msix.pba[nr]) sendPending(e, device, nr);
}

/** msix_handle_mask_update: msix_clr_pending, then msix_notify sends the message once. */
function sendPending(e: Engine, device: string, nr: number): void {
  const d = vmmDevice(e, device);
  {
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
on('vmm.interrupt', (e, irq, di, nr) => {
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

/**
 * The guest writes its virtual PCI command register (2 bytes at offset 4). For an assigned function QEMU's
 * vfio_pci_write_config passes it to VFIO first (vfio_pci_config_space_write: a pwrite on the config
 * region), where vfio-pci virtualizes Interrupt Disable (vdev->virq_disabled). A virtual device's driver
 * emulates it (vidxd_cfg_write: writable bits 0x07ff, pci_cfg_space_rw_bmp).
 */
export function vmmCommandWrite(e: Engine, device: string, value: number): void {
  const vdev = own(e.state.vdevs, device);
  if (vdev) {
    const bme = (value & 0x4) !== 0;
    if (vdev.regs.dev_enabled && vdev.regs.command & 0x4 && !bme)
      raise(
        'EOPNOTSUPP',
        `${device}: clearing Bus Master while enabled halts the device (vidxd_report_pci_error): not modelled`,
        'value',
      );
    vdev.regs.command = (vdev.regs.command & ~0x07ff) | (value & 0x07ff);
    ctl(e, 'vidxd_cfg_write', `${device}: PCI_COMMAND ${hex(vdev.regs.command)} (emulated by the driver)`);
    return;
  }
  const d = vmmDevice(e, device);
  vmmRealize(e, d);
  ctl(e, 'vfio_pci_write_config', `${device}: guest writes PCI_COMMAND ${hex(value)}: passed to VFIO`);
  vfioConfigWrite(e, vfioTarget(e, device)!, 4, 2, value & 0xffff);
}
