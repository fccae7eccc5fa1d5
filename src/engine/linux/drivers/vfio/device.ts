// The VFIO device: one per-device interrupt context (the front end) whatever backs its vectors.
// vfio-pci devices back MSI/MSI-X vectors with the function's own vectors; a composed virtual device
// (idxd-vdev) backs each virtual MSI-X vector with an IMS entry of its parent or with nothing (emulated).

import { own } from '../../../own.ts';
import type { Engine } from '../../../engine.ts';
import type { PciDeviceState, VfioBackend, VfioDeviceState, VirtualDeviceState } from '../../../types.ts';
import {
  VFIO_PCI_ERR_IRQ_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSIX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_REQ_IRQ_INDEX,
} from './vfio_main.ts';
import type { BackendKind } from './pci/designs.ts';

export function vfioDeviceCreate(name: string, driver: VfioDeviceState['driver']): VfioDeviceState {
  return {
    device: name,
    driver,
    irq_type: driver === 'idxd-vdev' ? 'msix' : 'none',
    ctx: {},
    num_ctx: 0,
    emulated: [],
    intx: { masked: false, unmask_fd: null, trigger: null, enabled: false },
    err_trigger: null,
    req_trigger: null,
    vconfig: { virq_disabled: false, msi_flags: 0, msi_addr_lo: 0, msi_addr_hi: 0, msi_data: 0, msi_qmax: 0 },
  };
}

export interface VfioTarget {
  vfio: VfioDeviceState;
  pci: PciDeviceState | null;
  vdev: VirtualDeviceState | null;
  /** The PCI device whose hardware raises this device's interrupts (the parent for a virtual device). */
  hw: PciDeviceState;
}

export function vfioTarget(e: Engine, name: string): VfioTarget | null {
  const vfio = own(e.state.vfio, name);
  if (!vfio) return null;
  const vdev = own(e.state.vdevs, name) ?? null;
  const pci = vdev ? null : (own(e.state.devices, name) ?? null);
  const hw = vdev ? e.state.devices[vdev.parent] : pci;
  if (!hw) return null;
  return { vfio, pci, vdev, hw };
}

// drivers/vfio/pci/vfio_pci_core.c: vfio_pci_get_irq_count. A virtual device reports what its driver
// emulates: MSI-X only (one vector per work queue plus one), and REQ.
export function vfioIrqCount(t: VfioTarget, index: number): number {
  if (t.vdev) {
    if (index === VFIO_PCI_MSIX_IRQ_INDEX) return t.vdev.vectors.length;
    if (index === VFIO_PCI_REQ_IRQ_INDEX) return 1;
    return 0;
  }
  const pci = t.pci!;
  switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
      // vfio_pci_get_irq_count: "return vdev->vconfig[PCI_INTERRUPT_PIN] ? 1 : 0" (860be250fc32)
      return vfioIntxPin(pci) ? 1 : 0;
    case VFIO_PCI_MSI_IRQ_INDEX:
      return pci.msi ? pci.msi.mmc : 0;
    case VFIO_PCI_MSIX_IRQ_INDEX:
      return pci.msix ? pci.msix.table_size : 0;
    case VFIO_PCI_ERR_IRQ_INDEX:
      return pci.pcie ? 1 : 0;
    case VFIO_PCI_REQ_IRQ_INDEX:
      return 1;
    default:
      return 0;
  }
}

/** The backend of one vector of an MSI/MSI-X index. */
export function vectorBackend(t: VfioTarget, vector: number, msix: boolean): VfioBackend {
  if (t.vdev) return t.vdev.vectors[vector]?.backend ?? 'emulated';
  return msix ? 'msix' : 'msi';
}

export function backendKind(b: VfioBackend): BackendKind {
  return b === 'ims' ? 'ims' : b === 'emulated' ? 'emulated' : 'pci';
}

export function irqName(t: VfioTarget, vector: number, backend: VfioBackend): string {
  // vfio-msi%s[%d](%s) with pci_name; vfio-ims[%d](%s) with the VFIO device's name
  if (backend === 'ims' || backend === 'emulated') return `vfio-ims[${vector}](${t.vfio.device})`;
  return `vfio-msi${backend === 'msix' ? 'x' : ''}[${vector}](${t.hw.bdf})`;
}

/**
 * vdev->has_dyn_msix, probed at open (vfio_pci_core_enable: pci_msix_can_alloc_dyn, dd27a7070038): 6.12
 * with an MSI-X capability whose MSI domain has MSI_FLAG_PCI_MSIX_ALLOC_DYN (drivers/pci/msi/api.c:
 * pci_msi_domain_supports(dev, MSI_FLAG_PCI_MSIX_ALLOC_DYN, DENY_LEGACY)); topology.host.msix_alloc_dyn
 * false models a parent domain without it (its msi_domain_info flags lack MSI_FLAG_PCI_MSIX_ALLOC_DYN:
 * e.g. Xen's XEN-MSI domain, arch/x86/pci/xen.c xen_create_pci_msi_domain, or pci-hyperv). IMS is always
 * dynamic.
 */
export function hasDynMsix(e: Engine, t: VfioTarget): boolean {
  if (t.vdev) return true;
  return e.state.profile === '6.12' && t.pci?.msix != null && e.state.host.msix_alloc_dyn !== false;
}

/**
 * The Interrupt Pin as vfio-pci shows it (vconfig[PCI_INTERRUPT_PIN]): vfio_config_init virtualizes it to 0
 * when the platform routes no IRQ to the pin ("vfio/pci: Handle INTx IRQ_NOTCONNECTED", 860be250fc32,
 * and "Virtualize zero INTx PIN if no pdev->irq", both 2025 and in the stable releases both profiles
 * stand for), so config space and the ioctls agree the function has no INTx.
 */
export function vfioIntxPin(pci: PciDeviceState): number {
  return pci.intx.not_connected ? 0 : pci.intx.pin;
}
