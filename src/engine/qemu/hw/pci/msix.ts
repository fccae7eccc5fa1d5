// QEMU's own MSI-X bookkeeping for a device QEMU emulates (hw/pci/msix.c, QEMU 7.2 .. 8.2): a device
// model declares the vectors software will use (msix_vector_use / msix_vector_unuse, a count per vector,
// PCIDevice.msix_entry_used), and msix_notify checks it on the notification path:
//   assert(vector < dev->msix_entries_nr);          (since "msix: Assert that specified vector is in
//                                                     range", Akihiko Odaki, QEMU 7.2)
//   if (!dev->msix_entry_used[vector]) return;       no message and no PBA bit
//   if (msix_is_masked(dev, vector)) { msix_set_pending(dev, vector); return; }
//   msi_send_message(dev, msix_get_message(dev, vector));
// irqflow's e1000e (QEMU's model, the oracle's NIC) declares all E1000E_MSIX_VEC_NUM vectors used at
// realize (hw/net/e1000e.c: e1000e_init_msix -> e1000e_use_msix_vectors); a real device has no such
// state (dev.e1000e null: every vector is "used").

import type { Engine } from '../../../engine.ts';
import type { PciDeviceState } from '../../../types.ts';
import { raise } from '../../../errno.ts';
import { msixClearPending } from '../../../hw/pci/msix.ts';

const QEMU_MSIX = 'hw/pci/msix.c';

/** e1000e_use_msix_vectors(s, E1000E_MSIX_VEC_NUM) at realize: one use per vector of the table. */
export function e1000eInitialUse(tableSize: number): number[] {
  return new Array<number>(tableSize).fill(1);
}

/** msix_entry_used[vector] > 0, or true for a device QEMU does not emulate. */
export function msixEntryUsed(dev: PciDeviceState, vector: number): boolean {
  const used = dev.e1000e?.msix_entry_used;
  return !used || (used[vector] ?? 0) > 0;
}

function qemuModel(dev: PciDeviceState, vector: number): number[] {
  const used = dev.e1000e?.msix_entry_used;
  if (!used || !dev.msix)
    raise(
      'EOPNOTSUPP',
      `${dev.name} is not a QEMU-emulated MSI-X device: msix_vector_use is QEMU's (hw/pci/msix.c), modelled for model 'e1000e'`,
      'device',
    );
  // msix_vector_use / msix_vector_unuse: assert(vector < dev->msix_entries_nr) (QEMU would abort)
  if (!Number.isInteger(vector) || vector < 0 || vector >= dev.msix.table_size)
    raise(
      'EINVAL',
      `vector ${vector} is past ${dev.name}'s ${dev.msix.table_size} MSI-X entries: QEMU asserts vector < msix_entries_nr`,
      'vector',
    );
  return used;
}

/** msix_vector_use: msix_entry_used[vector]++. Returns the new count. */
export function qemuMsixVectorUse(e: Engine, dev: PciDeviceState, vector: number): number {
  const used = qemuModel(dev, vector);
  used[vector]++;
  e.hop(
    'ctl.device',
    0,
    `dev:${dev.name}`,
    `msix:${dev.name}`,
    'done',
    `${dev.name}: msix_vector_use(${vector}): msix_entry_used[${vector}] = ${used[vector]}`,
    `msix_vector_use@${QEMU_MSIX}`,
  );
  return used[vector];
}

/**
 * msix_vector_unuse: nothing when the count is already 0; otherwise the count drops, and at 0 the pending
 * bit is cleared (msix_clr_pending): a message held there is lost.
 */
export function qemuMsixVectorUnuse(e: Engine, dev: PciDeviceState, vector: number): number {
  const used = qemuModel(dev, vector);
  const m = dev.msix!;
  const fn = `msix_vector_unuse@${QEMU_MSIX}`;
  const from = `dev:${dev.name}`;
  const to = `msix:${dev.name}`;
  if (!used[vector]) {
    e.hop(
      'ctl.device',
      0,
      from,
      to,
      'done',
      `${dev.name}: msix_entry_used[${vector}] is 0: msix_vector_unuse returns`,
      fn,
    );
    return 0;
  }
  used[vector]--;
  e.hop(
    'ctl.device',
    0,
    from,
    to,
    'done',
    `${dev.name}: msix_vector_unuse(${vector}): msix_entry_used[${vector}] = ${used[vector]}`,
    fn,
  );
  if (!used[vector] && m.pba[vector]) {
    const irq = msixClearPending(m, vector);
    e.hop(
      'msix.pending',
      irq,
      to,
      to,
      'dropped',
      `vector ${vector} unused: msix_clr_pending cleared PBA bit ${vector}`,
      fn,
    );
    e.dropped(irq, 'PBA bit cleared by msix_vector_unuse');
  }
  return used[vector];
}
