// QEMU's MSI (not MSI-X) for an assigned device (hw/vfio/pci.c, read in the 2025 tree, index id
// 161744317; the retry is the same since 2012):
//   enable   the guest sets MSI Enable in its virtual capability (vfio_pci_write_config ->
//            vfio_msi_enable): vfio_disable_interrupts; nr_vectors = msi_nr_vectors_allocated (the
//            guest's Multiple Message Enable); retry: per vector an "interrupt" eventfd, a KVM MSI route
//            with msi_get_message(pdev, i) and an irqfd (batched: vfio_pci_prepare/commit_kvm_msi_virq_batch);
//            vfio_enable_vectors(vdev, false) = one SET_IRQS(MSI, 0, nr_vectors). A positive answer (the
//            kernel could give fewer: docs/kernel-notes.md I.12) is "vfio: Error: Failed to enable %d MSI
//            vectors, retry with %d": vfio_msi_disable_common, nr_vectors = ret, goto retry. A negative
//            one ends with "vfio: Error: Failed to enable MSI" and the guest left without interrupts.
//   disable  vfio_msi_disable: vfio_device_irq_disable(MSI), vfio_msi_disable_common, vfio_intx_enable.
// The guest keeps the Multiple Message Enable it wrote: after a retry with fewer, its upper vectors never
// fire, because the physical function was enabled with fewer (vfio_msi_enable's msi_qmax).

import type { Engine } from '../../../engine.ts';
import type { VmmMsiState } from '../../../types.ts';
import { raise } from '../../../errno.ts';
import { own } from '../../../own.ts';
import { eventfdClose, eventfdCreate } from '../../../linux/fs/eventfd.ts';
import { kvmIrqfdAssign, kvmIrqfdDeassign, kvmSetMsiRoute } from '../../../linux/virt/kvm/eventfd.ts';
import { vfioTarget } from '../../../linux/drivers/vfio/device.ts';
import { vfioSetIrqs } from '../../../linux/drivers/vfio/pci/vfio_pci_intrs.ts';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_PCI_MSI_IRQ_INDEX,
} from '../../../linux/drivers/vfio/vfio_main.ts';
import { compatAddress, hex } from '../../../linux/arch/x86/kernel/apic/msi.ts';
import { EngineError } from '../../../errno.ts';
import { vmmIntxDisable, vmmIntxEnable, vmmRealize } from './pci_intx.ts';

const QEMU_VFIO = 'hw/vfio/pci.c';

function ctl(e: Engine, fn: string, detail: string, outcome: 'done' | 'failed' = 'done'): void {
  e.hop('ctl.vmm', 0, 'guest', 'vmm', outcome, detail, `${fn}@${QEMU_VFIO}`);
}

/** The device, checked: an assigned function with an MSI capability. */
function msiCheck(e: Engine, device: string): void {
  const dev = own(e.state.devices, device);
  if (!dev) raise('ENODEV', `${device} is not a PCI device of the topology`, 'device');
  if (!dev.passthrough || !vfioTarget(e, device))
    raise('ENODEV', `${device} is not assigned to the VM (it only parents virtual devices)`, 'device');
  if (!dev.msi) raise('EINVAL', `${device} has no MSI capability`, 'device');
}

/** QEMU's MSI state of the device, made at the first enable that passes the checks. */
function msiState(e: Engine, device: string): VmmMsiState {
  const all = (e.state.vmm_msi ??= {});
  return (all[device] ??= {
    device,
    enable: false,
    mme: 1,
    address: 0,
    data: 0,
    nr_vectors: 0,
    vectors: [],
  });
}

/** msi_get_message: vector n of a multi-message MSI replaces the low bits of data (hw/pci/msi.c). */
function msiGetMessage(m: VmmMsiState, n: number): { address: number; data: number } {
  const data = m.mme > 1 ? ((m.data & ~(m.mme - 1)) | n) >>> 0 : m.data;
  return { address: m.address, data };
}

/** One VFIO_DEVICE_SET_IRQS(MSI) from QEMU: the ioctl's value, or the kernel's refusal. */
function setIrqsMsi(
  e: Engine,
  device: string,
  flags: number,
  count: number,
  fds: number[],
): number | EngineError {
  const t = vfioTarget(e, device)!;
  try {
    return vfioSetIrqs(
      e,
      t,
      { argsz: 20 + 4 * fds.length, flags, index: VFIO_PCI_MSI_IRQ_INDEX, start: 0, count },
      fds,
    );
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    return err;
  }
}

/** vfio_msi_disable_common: routes, irqfds and eventfds of every vector gone; nr_vectors 0. */
function msiDisableCommon(e: Engine, m: VmmMsiState): void {
  for (const v of m.vectors) {
    if (v.virq !== null && v.kvm_interrupt !== null) kvmIrqfdDeassign(e, v.kvm_interrupt, v.virq);
    if (v.virq !== null) delete e.state.kvm.gsi_routes[v.virq];
    for (const fd of [v.interrupt, v.kvm_interrupt])
      if (fd !== null) eventfdClose(e, fd, 'QEMU closed the eventfd (vfio_msi_disable_common)');
  }
  m.vectors = [];
  m.nr_vectors = 0;
  const d = own(e.state.vmm, m.device);
  if (d && d.interrupt !== 'intx') d.interrupt = 'none';
}

/**
 * The guest programs its virtual MSI capability (address for vCPU `vcpu`, data = guest vector, Multiple
 * Message Enable = `vectors`) and sets Enable: vfio_pci_write_config -> vfio_msi_enable.
 */
export function vmmMsiEnable(
  e: Engine,
  device: string,
  vectors: number,
  guestVector: number,
  vcpu: number,
): void {
  msiCheck(e, device);
  const dev = e.state.devices[device];
  if (e.state.vmm_msi?.[device]?.enable)
    raise('EBUSY', `${device}: the guest already enabled MSI (clear Enable first)`, 'device');
  if (![1, 2, 4, 8, 16, 32].includes(vectors) || vectors > dev.msi!.mmc)
    raise(
      'EINVAL',
      `${device}: Multiple Message Enable ${vectors} must be a power of two up to Multiple Message Capable (${dev.msi!.mmc})`,
      'vectors',
    );
  if (guestVector < 0x10 || guestVector > 0xff || guestVector % vectors !== 0)
    raise(
      'EINVAL',
      `guest vector ${hex(guestVector)} must be in 0x10..0xff and aligned to ${vectors} (multi-message MSI data)`,
      'guest_vector',
    );
  const cpu = e.state.kvm.vcpus[vcpu];
  if (!cpu) raise('EINVAL', `vCPU ${vcpu} does not exist`, 'vcpu');
  const d = own(e.state.vmm, device);
  // QEMU's vfio_disable_interrupts would tear MSI-X down first; a guest enabling both is outside the PCI
  // spec (6.1.4.3: software enables one of them) and not modelled
  if (d?.msix.enable)
    raise(
      'EOPNOTSUPP',
      `${device}: the guest has MSI-X enabled; enabling MSI on top of it (vfio_disable_interrupts tearing MSI-X down) is not modelled`,
      'device',
    );
  const m = msiState(e, device);
  if (d) vmmRealize(e, d);
  // vfio_disable_interrupts runs first; an index the scenario enabled by hand is the kernel's to refuse
  if (d) vmmIntxDisable(e, d);
  m.enable = true;
  m.mme = vectors;
  m.address = compatAddress(cpu.apic_id);
  m.data = guestVector;
  m.nr_vectors = vectors; // msi_nr_vectors_allocated
  ctl(e, 'vfio_msi_enable', `${device}: guest enabled MSI with ${vectors} vector(s): nr_vectors ${vectors}`);
  for (;;) {
    // retry: (vfio_pci_prepare_kvm_msi_virq_batch) one eventfd, route and irqfd per vector
    for (let i = 0; i < m.nr_vectors; i++) {
      const interrupt = eventfdCreate(e, `QEMU ${device} MSI vector ${i} interrupt`).fd;
      const kvm = eventfdCreate(e, `QEMU ${device} MSI vector ${i} kvm_interrupt`).fd;
      const gsi = e.state.kvm.next_gsi++;
      const msg = msiGetMessage(m, i);
      kvmSetMsiRoute(e, { gsi, address_lo: msg.address, address_hi: 0, data: msg.data });
      m.vectors[i] = { virq: gsi, interrupt, kvm_interrupt: kvm };
    }
    // vfio_pci_commit_kvm_msi_virq_batch: commit, then one KVM_IRQFD per vector with a route
    for (const v of m.vectors) kvmIrqfdAssign(e, v.kvm_interrupt!, v.virq!);
    if (d) d.interrupt = 'none'; // VFIO_INT_MSI: the engine's VmmDeviceState names INTx and MSI-X only
    const fds = m.vectors.map((v) => v.kvm_interrupt!);
    ctl(
      e,
      'vfio_enable_vectors',
      `${device}: SET_IRQS(MSI, start 0, count ${m.nr_vectors}): [${fds.join(', ')}]`,
    );
    const ret = setIrqsMsi(
      e,
      device,
      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
      m.nr_vectors,
      fds,
    );
    if (ret === 0) break;
    const asked = m.nr_vectors;
    ctl(
      e,
      'vfio_msi_enable',
      typeof ret === 'number'
        ? `vfio: Error: Failed to enable ${asked} MSI vectors, retry with ${ret}`
        : `vfio: Error: Failed to setup MSI fds: ${ret.errno} (${ret.message})`,
      'failed',
    );
    msiDisableCommon(e, m);
    if (typeof ret === 'number' && ret > 0 && ret < asked) {
      m.nr_vectors = ret;
      continue;
    }
    // "Failing to setup MSI doesn't really fall within any specification": interrupts left disabled
    ctl(e, 'vfio_msi_enable', 'vfio: Error: Failed to enable MSI', 'failed');
    return;
  }
  ctl(e, 'vfio_msi_enable', `${device}: ${m.nr_vectors} MSI vector(s) enabled (trace_vfio_msi_enable)`);
}

/** The guest clears MSI Enable: vfio_msi_disable. */
export function vmmMsiDisable(e: Engine, device: string): void {
  msiCheck(e, device);
  const m = e.state.vmm_msi?.[device];
  if (!m?.enable) return;
  m.enable = false;
  ctl(e, 'vfio_msi_disable', `${device}: guest disabled MSI: VFIO index disabled, INTx back`);
  // vfio_device_irq_disable(MSI): DATA_NONE|TRIGGER, count 0 (EINVAL on an index not enabled: reported)
  if (vfioTarget(e, device)!.vfio.irq_type === 'msi')
    setIrqsMsi(e, device, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, []);
  msiDisableCommon(e, m);
  const d = own(e.state.vmm, device);
  if (d) vmmIntxEnable(e, d);
}
