// The host asking for an assigned device back (drivers/vfio/pci/vfio_pci_core.c: vfio_pci_core_request,
// the .request op of vfio-pci). When the device is unbound from vfio-pci on the host (driver unbind,
// hot-unplug, rmmod of a PF driver), vfio_unregister_group_dev (drivers/vfio/vfio_main.c) waits for the
// user to release it and calls device->ops->request(device, i++) once, then again every 10 s
// (wait_for_completion_*_timeout(&device->comp, HZ * 10)) while the user holds it:
//   with a REQ trigger   "if (!(count % 10)) pci_notice_ratelimited(pdev, "Relaying device request to
//                        user (#%u)\n", count);" then eventfd_signal(vdev->req_trigger);
//   without one          "else if (count == 0) pci_warn(pdev, "No device request channel registered,
//                        blocked until released by user\n");" and nothing else: the unbind blocks.
// 6.1 and 6.12 differ only in how the trigger is read (6.12 stable: RCU, vfio_pci_eventfd), not in what
// is printed or signalled. QEMU's side (vfio_req_notifier_handler -> qdev_unplug: a hot-unplug request
// to the guest) needs the REQ notifier QEMU registers at realize, which the engine's realize does not
// model (docs/kernel-notes.md I.15).

import type { Engine } from '../../../../engine.ts';
import { raise } from '../../../../errno.ts';
import { printk } from '../../../kernel/printk/printk.ts';
import { eventfdSignal } from '../../../fs/eventfd.ts';
import type { VfioTarget } from '../device.ts';

const FN = 'vfio_pci_core_request@drivers/vfio/pci/vfio_pci_core.c';

/** vfio_pci_core_request(core_vdev, count): returns whether the REQ eventfd was signalled. */
export function vfioPciCoreRequest(e: Engine, t: VfioTarget, count: number): boolean {
  if (t.vdev)
    raise(
      'EOPNOTSUPP',
      `${t.vfio.device} is a virtual device: its variant driver's own request op (idxd_vdcm_request) is not modelled`,
      'device',
    );
  const v = t.vfio;
  const from = `vfio:${v.device}`;
  const trigger = v.req_trigger;
  if (trigger === null) {
    if (count === 0)
      printk(
        e,
        'warn',
        FN,
        `vfio-pci ${t.hw.bdf}: No device request channel registered, blocked until released by user`,
      );
    e.hop(
      'vfio.request',
      0,
      'hostirq',
      from,
      'dropped',
      `device request #${count}: no REQ eventfd${count === 0 ? ' (pci_warn)' : ''}; the unbind waits for the user`,
    );
    return false;
  }
  if (count % 10 === 0)
    printk(e, 'notice', FN, `vfio-pci ${t.hw.bdf}: Relaying device request to user (#${count})`);
  const irq = e.newIrq(from, 'emulated');
  e.hop(
    'vfio.request',
    irq,
    'hostirq',
    from,
    'forwarded',
    `device request #${count}: signal REQ eventfd ${trigger}`,
  );
  eventfdSignal(e, irq, trigger, from);
  return true;
}
