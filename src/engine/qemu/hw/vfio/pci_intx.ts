// QEMU's INTx for an assigned device (hw/vfio/pci.c, read in a 2025 tree that matches QEMU 8.2+ here):
//   realize   vfio_realize -> vfio_intx_enable when the device reports an interrupt pin (PCI_INTERRUPT_PIN
//             read through VFIO): vfio_disable_interrupts, a QEMU eventfd ("intx-interrupt") with
//             vfio_intx_interrupt as its handler, VFIO_DEVICE_SET_IRQS(INTX, TRIGGER, that fd), then
//             vfio_intx_enable_kvm (the resample irqfd: the KVM side, not this file);
//   MSI-X on  vfio_msix_enable starts with vfio_disable_interrupts, which ends INTx (vfio_intx_disable:
//             SET_IRQS(INTX, DATA_NONE|TRIGGER, count 0), pci_irq_deassert, the eventfd closed);
//   MSI-X off vfio_msix_disable ends with vfio_intx_enable: the function is back on its pin.
// A device with no pin (intx_pin 0, a VF) gets none of this: vfio_intx_enable returns at once.

import type { Engine } from '../../../engine.ts';
import { eventfdClose, eventfdCreate } from '../../../linux/fs/eventfd.ts';
import { vfioIntxPin, vfioTarget } from '../../../linux/drivers/vfio/device.ts';
import { vfioSetIrqs } from '../../../linux/drivers/vfio/pci/vfio_pci_intrs.ts';
import {
  VFIO_IRQ_SET_ACTION_MASK,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_INTX_IRQ_INDEX,
} from '../../../linux/drivers/vfio/vfio_main.ts';
import { kvmIrqfdAssign, kvmIrqfdDeassign } from '../../../linux/virt/kvm/eventfd.ts';
import type { VfioTarget } from '../../../linux/drivers/vfio/device.ts';
import type { VmmDeviceState } from '../../../types.ts';
import { EngineError } from '../../../errno.ts';

const QEMU_VFIO = 'hw/vfio/pci.c';

function ctl(e: Engine, fn: string, detail: string): void {
  e.hop('ctl.vmm', 0, 'guest', 'vmm', 'done', detail, `${fn}@${QEMU_VFIO}`);
}

/** vfio_intx_enable: nothing without a pin; otherwise QEMU's own eventfd becomes the INTx trigger. */
export function vmmIntxEnable(e: Engine, d: VmmDeviceState): void {
  const t = vfioTarget(e, d.device);
  // QEMU reads the pin through VFIO's config region: the virtualized one
  const pin = t?.pci ? vfioIntxPin(t.pci) : 0;
  if (!t || !pin) return;
  // QEMU only knows what it set up itself: a user-space index enabled by a raw ioctl in the scenario
  // stays (the kernel would refuse INTx with EINVAL: another type is enabled).
  if (t.vfio.irq_type !== 'none') {
    ctl(
      e,
      'vfio_intx_enable',
      `${d.device}: ${t.vfio.irq_type.toUpperCase()} already enabled by another VFIO user: INTx left off`,
    );
    return;
  }
  const efd = eventfdCreate(e, `QEMU ${d.device} intx-interrupt (vfio_intx_interrupt)`);
  d.intx_interrupt = efd.fd;
  ctl(
    e,
    'vfio_intx_enable',
    `${d.device}: INT${'ABCD'[pin - 1]} in use: QEMU eventfd ${efd.fd} is the INTx trigger (vfio_intx_interrupt)`,
  );
  try {
    vfioSetIrqs(
      e,
      t,
      {
        argsz: 24,
        flags: VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_INTX_IRQ_INDEX,
        start: 0,
        count: 1,
      },
      [efd.fd],
    );
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    // vfio_intx_enable fails: the fd handler removed, the eventfd cleaned up, and the caller only reports
    // it (vfio_msix_disable: error_reportf_err); the guest's config write itself succeeds.
    eventfdClose(e, efd.fd, 'QEMU cleaned up its INTx eventfd after SET_IRQS failed');
    d.intx_interrupt = null;
    e.hop(
      'ctl.vmm',
      0,
      'vmm',
      `vfio:${d.device}`,
      'failed',
      `vfio ${d.device}: INTx not re-enabled: SET_IRQS(INTX) -${err.errno}: ${err.message} (error_reportf_err)`,
      `vfio_intx_enable@${QEMU_VFIO}`,
    );
    return;
  }
  vmmIntxEnableKvm(e, d, t);
  d.interrupt = 'intx';
}

/** One INTx SET_IRQS of QEMU's (vfio_mask_single_irqindex, vfio_unmask_single_irqindex, set_irq_signaling). */
function intxSetIrqs(e: Engine, t: VfioTarget, flags: number, fds: number[]): void {
  vfioSetIrqs(
    e,
    t,
    {
      argsz: 20 + 4 * fds.length,
      flags,
      index: VFIO_PCI_INTX_IRQ_INDEX,
      start: 0,
      count: 1,
    },
    fds,
  );
}

/**
 * vfio_intx_enable_kvm (hw/vfio/pci.c, 8.2): only with irqfds, resample irqfds (the in-kernel irqchip)
 * and a route for the pin (intx.route.mode == PCI_INTX_ENABLED: here the topology's guest_intx_gsi).
 * "Get to a known interrupt state": the fd handler removed, vfio_mask_single_irqindex, the line deasserted;
 * a new eventfd (intx.unmask); kvm_irqchip_add_irqfd_notifier_gsi(&intx.interrupt, &intx.unmask,
 * intx.route.irq) = KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE; SET_IRQS(INTX, ACTION_UNMASK, intx.unmask);
 * "Let'em rip": vfio_unmask_single_irqindex. A failure undoes its steps and leaves QEMU's own handler.
 */
export function vmmIntxEnableKvm(e: Engine, d: VmmDeviceState, t: VfioTarget): void {
  const gsi = d.intx_route;
  const fd = d.intx_interrupt;
  if (gsi === null || fd === null) return;
  ctl(
    e,
    'vfio_intx_enable_kvm',
    `${d.device}: INTx through KVM: mask, resample irqfd on GSI ${gsi}, unmask eventfd, unmask`,
  );
  intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, []);
  const unmask = eventfdCreate(e, `QEMU ${d.device} intx-unmask (resamplefd)`);
  try {
    kvmIrqfdAssign(e, fd, gsi, unmask.fd);
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    // fail_irqfd / fail: the eventfd cleaned up, QEMU's handler back, the index unmasked
    eventfdClose(e, unmask.fd, 'QEMU cleaned up its INTx unmask eventfd (vfio_intx_enable_kvm failed)');
    e.hop(
      'ctl.vmm',
      0,
      'vmm',
      'irqfd',
      'failed',
      `${d.device}: failed to setup resample irqfd: -${err.errno}: ${err.message}; INTx stays in QEMU`,
      `vfio_intx_enable_kvm@${QEMU_VFIO}`,
    );
    intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, []);
    return;
  }
  d.intx_unmask = unmask.fd;
  intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, [unmask.fd]);
  intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, []);
  d.intx_kvm_accel = true;
}

/**
 * vfio_intx_disable_kvm: mask, KVM told to stop listening (kvm_irqchip_remove_irqfd_notifier_gsi), the
 * unmask eventfd closed ("We only need to close the eventfd for VFIO to cleanup the kernel side"), QEMU's
 * handler back, and unmask so that a missed event re-fires through QEMU.
 */
export function vmmIntxDisableKvm(e: Engine, d: VmmDeviceState, t: VfioTarget | null): void {
  if (!d.intx_kvm_accel) return;
  ctl(e, 'vfio_intx_disable_kvm', `${d.device}: INTx back to QEMU: the resample irqfd removed`);
  const live = t && t.vfio.irq_type === 'intx';
  if (live) intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, []);
  if (d.intx_interrupt !== null && d.intx_route !== null && e.state.kvm.irqfds[d.intx_interrupt])
    kvmIrqfdDeassign(e, d.intx_interrupt, d.intx_route);
  if (d.intx_unmask !== null)
    eventfdClose(e, d.intx_unmask, 'QEMU closed its INTx unmask eventfd (vfio_intx_disable_kvm)');
  d.intx_unmask = null;
  d.intx_kvm_accel = false;
  if (live) intxSetIrqs(e, t, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, []);
}

/** vfio_intx_disable: the index disabled, the line deasserted in the guest, the eventfd closed. */
export function vmmIntxDisable(e: Engine, d: VmmDeviceState): void {
  if (d.interrupt !== 'intx') return;
  const t = vfioTarget(e, d.device);
  vmmIntxDisableKvm(e, d, t);
  ctl(e, 'vfio_intx_disable', `${d.device}: INTx off: SET_IRQS(INTX, DATA_NONE|TRIGGER, count 0)`);
  if (t && t.vfio.irq_type === 'intx')
    vfioSetIrqs(
      e,
      t,
      {
        argsz: 20,
        flags: VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
        index: VFIO_PCI_INTX_IRQ_INDEX,
        start: 0,
        count: 0,
      },
      [],
    );
  if (d.intx_interrupt !== null)
    eventfdClose(e, d.intx_interrupt, 'QEMU closed its INTx eventfd (vfio_intx_disable)');
  d.intx_interrupt = null;
  d.interrupt = 'none';
}

/**
 * vfio_realize: QEMU sets the device up before the guest runs. The engine does it at the guest's first
 * access to the device (or an explicit vmm.realize), so that a scenario driving the uAPI by hand keeps a
 * device nobody else has opened.
 */
export function vmmRealize(e: Engine, d: VmmDeviceState): void {
  if (d.realized) return;
  d.realized = true;
  ctl(e, 'vfio_realize', `${d.device}: QEMU realizes the assigned device`);
  vmmIntxEnable(e, d);
}
