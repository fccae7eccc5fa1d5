// Interrupt Message Store: device-specific storage of MSI messages (address, data, mask, pending) outside
// the PCI MSI-X capability, sized by the device, allocated per virtual device through the parent's
// per-device IMS domain (drivers/pci/msi/api.c: pci_ims_alloc_irq / pci_ims_free_irq; the device driver
// supplies the callbacks that write and mask its own entries).

import { defineEvent, type Engine } from '../engine.ts';
import type { ImsEntry, PciDeviceState } from '../types.ts';
import { EV_MSG } from '../linux/drivers/iommu/intel/irq_remapping.ts';
import { busMasterDrop } from './pci/busmaster.ts';
import { hex } from '../linux/arch/x86/kernel/apic/msi.ts';

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
  e.schedule(e.cost.msi_write, EV_MSG, irq, entry.address | 0, entry.data | 0);
}

/** The device fires IMS entry `index` (a work queue completion): a = device index, b = IMS index. */
export const EV_IMS_RAISE = defineEvent('ims.raise', (e, irq, di, index) => imsRaise(e, irq, di, index));

/** The device fires IMS entry `index` of device ordinal `di` now (the body of EV_IMS_RAISE). */
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
