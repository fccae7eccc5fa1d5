// Interrupt Message Store: device-specific storage of MSI messages (address, data, mask, pending) outside
// the PCI MSI-X capability, sized by the device, allocated per virtual device through the parent's
// per-device IMS domain (drivers/pci/msi/api.c: pci_ims_alloc_irq / pci_ims_free_irq; the device driver
// supplies the callbacks that write and mask its own entries).

import { on, type Engine } from '../engine.ts';
import { EV } from '../datapath.ts';
import type { ImsEntry, PciDeviceState } from '../types.ts';
import { busMasterDrop } from './pci/busmaster.ts';
import { hex } from '../hex.ts';
import { raise } from '../errno.ts';

export function imsCreate(size: number): { size: number; entries: ImsEntry[] } {
  return {
    size,
    entries: Array.from({ length: size }, (): ImsEntry => ({
      address: 0,
      address_hi: 0,
      data: 0,
      masked: true,
      pending: false,
      pending_irq: 0,
      cookie: null,
      owner: null,
      host_irq: null,
    })),
  };
}

/** Claims the first free entry for a virtual device; -1 when the store is full. */
export function imsAllocEntry(dev: PciDeviceState, owner: string, cookie: number): number {
  const ims = dev.ims!;
  const i = ims.entries.findIndex((x) => x.owner === null);
  if (i < 0) return -1;
  const entry = ims.entries[i];
  entry.owner = owner;
  entry.cookie = cookie;
  entry.masked = true;
  return i;
}

export function imsFreeEntry(e: Engine, dev: PciDeviceState, index: number): void {
  const entry = dev.ims!.entries[index];
  if (entry.pending) {
    const irq = entry.pending_irq;
    e.hop(
      'ims.pending',
      irq,
      `ims:${dev.name}`,
      `dev:${dev.name}`,
      'dropped',
      `IMS entry ${index} freed (pci_ims_free_irq) with an interrupt pending`,
    );
    e.dropped(irq, 'IMS entry freed while pending');
  }
  entry.pending = false;
  entry.pending_irq = 0;
  entry.owner = null;
  entry.cookie = null;
  entry.masked = true;
  entry.host_irq = null;
}

function send(e: Engine, dev: PciDeviceState, index: number, irq: number, detail: string): void {
  const entry = dev.ims!.entries[index];
  if (busMasterDrop(e, dev, irq, `ims:${dev.name}`, 'ims.send')) return;
  e.hop(
    'ims.send',
    irq,
    `ims:${dev.name}`,
    'iommu',
    'forwarded',
    `${detail}: write ${hex(entry.data)} to ${hex(entry.address)}`,
  );
  e.schedule(e.cost.msi_write, EV['ir.remap'], irq, entry.address | 0, entry.data | 0);
}

/** The device fires IMS entry `index` (a work queue completion): a = device index, b = IMS index. */
on('ims.send', (e, irq, di, index) => imsRaise(e, irq, di, index));

/** The device fires IMS entry `index` of device ordinal `di` now (the body of EV['ims.send']). */
export function imsRaise(e: Engine, irq: number, di: number, index: number): void {
  const dev = e.state.devices[e.deviceNames[di]];
  const from = `dev:${dev.name}`;
  const to = `ims:${dev.name}`;
  const entry = dev.ims?.entries[index];
  if (!entry || entry.owner === null) {
    e.hop('dev.raise', irq, from, to, 'dropped', `IMS entry ${index} is not allocated: no message to send`);
    e.dropped(irq, 'IMS entry not allocated');
    return;
  }
  if (entry.masked) {
    if (entry.pending) {
      e.hop(
        'ims.pending',
        irq,
        from,
        to,
        'coalesced',
        `IMS entry ${index} masked, pending already set by #${entry.pending_irq}`,
      );
      e.coalesced(irq, entry.pending_irq, `${dev.name} IMS[${index}] pending`);
    } else {
      entry.pending = true;
      entry.pending_irq = irq;
      e.hop('ims.pending', irq, from, to, 'pending', `IMS entry ${index} masked: pending set`);
      e.pending(irq, `${dev.name} IMS[${index}] pending`);
    }
    return;
  }
  e.hop(
    'dev.raise',
    irq,
    from,
    to,
    'forwarded',
    `IMS entry ${index} (cookie ${entry.cookie}, ${entry.owner})`,
  );
  send(e, dev, index, irq, `entry ${index}`);
}

/** After an unmask: a pending entry sends its message once and clears pending. */
export function imsUpdateMasks(e: Engine, dev: PciDeviceState): void {
  dev.ims!.entries.forEach((entry, i) => {
    if (entry.pending && !entry.masked) {
      const irq = entry.pending_irq;
      entry.pending = false;
      entry.pending_irq = 0;
      e.inFlight(irq);
      send(e, dev, i, irq, `unmasked with pending set: entry ${i} sent`);
    }
  });
}

/**
 * The host's irq_chip mask / unmask callback of the IDXD IMS domain (drivers/irqchip/irq-pci-intel-idxd.c,
 * "[patch V3 33/33] irqchip: Add IDXD Interrupt Message Store driver"): idxd_mask writes the slot's control
 * word as `cookie | CTRL_VECTOR_MASKBIT` (bit 0), idxd_unmask writes the cookie alone (the PASID at bit 12
 * with CTRL_PASID_ENABLE, bit 3). A raise while masked is held pending (imsRaise, as an MSI-X entry holds
 * its PBA bit); the unmask sends it once (imsUpdateMasks). Only an allocated slot has a descriptor, so
 * only it has the callback.
 */
export function imsSlotMask(e: Engine, dev: PciDeviceState, index: number, masked: boolean): string {
  const entry = dev.ims?.entries[index];
  if (!dev.ims) raise('ENODEV', `${dev.name} has no IMS`, 'device');
  if (!entry) raise('EINVAL', `IMS slot ${index} is past ${dev.name}'s ${dev.ims.size} slots`, 'ims');
  if (entry.owner === null)
    raise(
      'EINVAL',
      `IMS slot ${index} of ${dev.name} is not allocated: no MSI descriptor, no irq_chip callback (pci_ims_alloc_irq first)`,
      'ims',
    );
  entry.masked = masked;
  e.hop(
    'ctl.device',
    0,
    `dev:${dev.name}`,
    `ims:${dev.name}`,
    'done',
    `${dev.name} IMS slot ${index}: control word ${masked ? 'cookie | CTRL_VECTOR_MASKBIT' : 'cookie'} (${masked ? 'masked' : 'unmasked'})`,
    `${masked ? 'idxd_mask' : 'idxd_unmask'}@drivers/irqchip/irq-pci-intel-idxd.c`,
  );
  if (!masked) imsUpdateMasks(e, dev);
  return `IMS slot ${index} ${masked ? 'masked' : 'unmasked'}`;
}
