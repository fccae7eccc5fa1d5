// A PCI physical function raising interrupts: it uses MSI-X when MSI-X Enable is set, else MSI when MSI
// Enable is set, else its INTx pin (PCIe Base Spec 6.1: a function uses one mechanism at a time).

import { on, placeSite, type Engine, NK } from '../../engine.ts';
import { EV } from '../../datapath.ts';
import type { PciDeviceState, PciDeviceTopology } from '../../types.ts';
import { msixClearPending, msixCreate, msixIsMasked, msixReleasable, msixSetPending } from './msix.ts';
import { msiCreate, msiMessage, msiVectorMasked } from './msi.ts';
import { imsCreate } from '../ims.ts';
import { e1000eInitialUse } from '../../qemu/hw/pci/msix.ts';
import { intxAssert, intxDeassert } from './intx.ts';
import { hex } from '../../hex.ts';
import { HOP } from '../../hops.ts';
import { busMasterDrop } from './busmaster.ts';

const PCI_COMMAND_MASTER = 1 << 2;
import { defineDetail, OUT } from '../../sim/trace.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_DEV = NK['dev'];
const N_MSIX = NK['msix'];

// Hops, detail formats and places this file records (hops.ts, sim/trace.ts).
const P_PBA = placeSite();
const H_RAISE = HOP['dev.raise'];
const H_SEND = HOP['msix.send'];
const F_VECTOR = defineDetail((v) => `vector ${v}`);
const F_SEND = defineDetail((v, data, addr) => `entry ${v}: write ${hex(data)} to ${hex(addr)}`);

const pbaPlace = (e: Engine, di: number, vector: number): string => `${e.deviceNames[di]} PBA[${vector}]`;

export function deviceCreate(t: PciDeviceTopology, index: number): PciDeviceState {
  return {
    name: t.name,
    bdf: t.bdf ?? `0000:${(0x65 + index).toString(16).padStart(2, '0')}:00.0`,
    vendor: t.vendor ?? 0x8086,
    device: t.device ?? 0x10d3,
    pcie: t.pcie ?? true,
    passthrough: t.passthrough ?? true,
    command: t.command ?? 0x0006,
    status: 0,
    msix: t.msix ? msixCreate(t.msix) : null,
    msi: t.msi ? msiCreate(t.msi) : null,
    intx: {
      pin: t.intx_pin ?? 1,
      ...(t.intx_routed === false ? { not_connected: true as const } : {}),
      asserted: false,
      asserted_irq: 0,
      pending_irq: 0,
    },
    ims: t.ims ? imsCreate(t.ims.size) : null,
    e1000e:
      t.model === 'e1000e'
        ? {
            icr: 0,
            ims: 0,
            ivar: 0,
            msi_causes_pending: 0,
            msix_entry_used: e1000eInitialUse(t.msix?.table_size ?? 0),
          }
        : null,
  };
}

/** The device fires `vector` of whichever mechanism is enabled. */
on('dev.raise', (e, irq, di, vector) => {
  const dev = e.state.devices[e.deviceNames[di]];
  const m = dev.msix;
  if (m && m.enable) {
    // QEMU's msix_notify: a vector its device model never declared used sends nothing (hw/pci/msix.c)
    const used = dev.e1000e === null || dev.e1000e.msix_entry_used[vector] > 0;
    // the hot path below builds no strings; the rare branches name their nodes
    if (vector < m.table_size && used && !msixIsMasked(m, vector)) {
      e.hopf(H_RAISE, irq, e.nodeId(N_DEV, di), e.nodeId(N_MSIX, di), OUT.forwarded, F_VECTOR, vector, 0, 0);
      msixSend(e, dev, vector, irq, di);
      return;
    }
    const from = `dev:${dev.name}`;
    const to = `msix:${dev.name}`;
    if (vector >= m.table_size) {
      e.hop(
        'dev.raise',
        irq,
        from,
        to,
        'dropped',
        `vector ${vector} is past the MSI-X table (${m.table_size} entries)`,
      );
      e.dropped(irq, 'vector past the MSI-X table');
      return;
    }
    if (!used) {
      e.hop(
        'dev.raise',
        irq,
        from,
        to,
        'dropped',
        `msix_notify: msix_entry_used[${vector}] is 0 (never declared with msix_vector_use): no message, no PBA bit`,
        'msix_notify@hw/pci/msix.c',
      );
      e.dropped(irq, 'MSI-X vector not used by the QEMU device model');
      return;
    }
    if (msixIsMasked(m, vector)) {
      const into = msixSetPending(m, vector, irq);
      const why = m.function_mask ? 'Function Mask set' : `entry ${vector} masked`;
      if (into) {
        e.hop(
          'msix.pending',
          irq,
          from,
          to,
          'coalesced',
          `${why}; PBA bit ${vector} already set by #${into}`,
        );
        e.coalesced(irq, into, `${dev.name} PBA[${vector}]`);
      } else {
        e.hop('msix.pending', irq, from, to, 'pending', `${why}: PBA bit ${vector} set`);
        e.pending(irq, e.place(P_PBA, di, vector, pbaPlace));
      }
      return;
    }
    return;
  }
  const from = `dev:${dev.name}`;
  const msi = dev.msi;
  if (msi && msi.enable) {
    const to = `msi:${dev.name}`;
    if (vector >= msi.mme) {
      e.hop(
        'dev.raise',
        irq,
        from,
        to,
        'dropped',
        `vector ${vector} not enabled: Multiple Message Enable allows ${msi.mme}`,
      );
      e.dropped(irq, 'MSI vector not enabled');
      return;
    }
    if (msiVectorMasked(msi, vector)) {
      const pend = 1 << vector;
      if (msi.pending_bits & pend) {
        e.hop('dev.raise', irq, from, to, 'coalesced', `MSI vector ${vector} masked, already pending`);
        e.coalesced(irq, msi.pending_irq[vector], `${dev.name} MSI pending[${vector}]`);
      } else {
        msi.pending_bits |= pend;
        msi.pending_irq[vector] = irq;
        e.hop('dev.raise', irq, from, to, 'pending', `MSI vector ${vector} masked: Pending Bits set`);
        e.pending(irq, `${dev.name} MSI pending[${vector}]`);
      }
      return;
    }
    e.hop('dev.raise', irq, from, to, 'forwarded', `vector ${vector}`);
    if (busMasterDrop(e, dev, irq, to, 'msi.send')) return;
    const msg = msiMessage(msi, vector);
    e.hop('msi.send', irq, to, 'iommu', 'forwarded', `write ${hex(msg.data)} to ${hex(msg.addr_lo)}`);
    e.schedule(e.cost.msi_write, EV['ir.remap'], irq, msg.addr_lo | 0, msg.data | 0);
    return;
  }
  if (dev.intx.pin !== 0) {
    intxAssert(e, dev, irq);
    return;
  }
  e.hop(
    'dev.raise',
    irq,
    from,
    `msix:${dev.name}`,
    'dropped',
    'MSI-X and MSI disabled, no INTx pin: nothing is sent',
  );
  e.dropped(irq, 'MSI-X disabled');
});

/** Sends the message of an unmasked MSI-X entry: a memory write the IOMMU intercepts. */
export function msixSend(
  e: Engine,
  dev: PciDeviceState,
  vector: number,
  irq: number,
  di = e.deviceOrdinal(dev.name), // the caller's ordinal: no name search per interrupt
): void {
  const entry = dev.msix!.table[vector];
  if (!(dev.command & PCI_COMMAND_MASTER) && busMasterDrop(e, dev, irq, `msix:${dev.name}`)) return;
  e.hopf(
    H_SEND,
    irq,
    e.nodeId(N_MSIX, di),
    e.ids.iommu,
    OUT.forwarded,
    F_SEND,
    vector,
    entry.data,
    entry.addr_lo,
  );
  e.schedule(e.cost.msi_write, EV['ir.remap'], irq, entry.addr_lo | 0, entry.data | 0);
}

/**
 * After a mask bit, the Function Mask or MSI-X Enable changed: every vector now unmasked with its pending
 * bit set sends its message once and clears the bit (PCIe Base Spec 6.1.4.5; hw/pci/msix.c:
 * msix_handle_mask_update).
 */
export function msixUpdateMasks(e: Engine, dev: PciDeviceState): void {
  const m = dev.msix;
  if (!m) return;
  for (const v of msixReleasable(m)) {
    const irq = msixClearPending(m, v);
    e.inFlight(irq);
    if (busMasterDrop(e, dev, irq, `msix:${dev.name}`)) continue;
    e.hop(
      'msix.send',
      irq,
      `msix:${dev.name}`,
      'iommu',
      'forwarded',
      `unmasked with PBA bit ${v} set: message sent, bit cleared`,
    );
    e.schedule(e.cost.msi_write, EV['ir.remap'], irq, m.table[v].addr_lo | 0, m.table[v].data | 0);
  }
}

/**
 * MSI-X Enable written in the function's own Message Control from the host side, outside VFIO (setpci, a
 * backdoor reset). The function follows the bit at once (PCIe Base Spec 6.1.4: with MSI-X Enable clear
 * it signals with MSI or INTx; while it is set INTx is prohibited, so an asserted pin goes down, as
 * QEMU's msix_write_config does with pci_device_deassert_intx); enabling releases what waited in the
 * PBA for entries no longer masked (QEMU: msix_handle_mask_update per vector). vfio-pci is not told:
 * its irq_type and host IRQs stay as they were.
 */
export function hwMsixSetEnable(e: Engine, dev: PciDeviceState, enable: boolean): string {
  const m = dev.msix!;
  const was = m.enable;
  m.enable = enable;
  e.hop(
    'ctl.device',
    0,
    `dev:${dev.name}`,
    `msix:${dev.name}`,
    'done',
    `${dev.name}: MSI-X Enable ${was ? 1 : 0} -> ${enable ? 1 : 0} written outside VFIO (vfio-pci keeps irq_type)`,
  );
  if (enable && !was) {
    if (dev.intx.asserted) intxDeassert(e, dev);
    msixUpdateMasks(e, dev);
  }
  return enable ? 'MSI-X enabled' : 'MSI-X disabled: the function signals with MSI or INTx';
}
