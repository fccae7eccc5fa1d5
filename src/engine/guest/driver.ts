// The guest driver of each assigned device, as Linux in the guest behaves: pci_alloc_irq_vectors enables
// MSI-X with every entry masked, request_irq programs an entry (address = the destination APIC id,
// data = the guest vector) and unmasks it; the handler services the device; work is submitted straight
// to the hardware (direct path) or through emulated registers (intercepted path). Every access to the
// MSI-X table or to an emulated register traps to QEMU (qemu/hw/vfio/pci.ts).

import { own } from '../own.ts';
import { on, type Engine, type GuestOwner, NK } from '../engine.ts';
import { EV } from '../datapath.ts';
import type { GuestDriverState } from '../types.ts';
import { raise } from '../errno.ts';
import { compatAddress } from '../linux/arch/x86/kernel/apic/msi.ts';
import { hex } from '../hex.ts';
import { msixIsMasked } from '../hw/pci/msix.ts';
import { vmmDevice, vmmMaskUpdate, vmmMsixDisable, vmmMsixEnable } from '../qemu/hw/vfio/pci.ts';
import { intxDeassert } from '../hw/pci/intx.ts';
import { scheduleAccept } from '../linux/arch/x86/kvm/lapic.ts';
import { HOP } from '../hops.ts';
import { OUT } from '../sim/trace.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_LAPIC = NK['lapic'];

export function guestDriverCreate(device: string, tableSize: number): GuestDriverState {
  return {
    device,
    vectors: Array.from({ length: tableSize }, () => ({ vector: 0, dest: 0, enabled: false })),
    outstanding: 0,
    completions: 0,
  };
}

function driver(e: Engine, device: string): GuestDriverState {
  const d = own(e.state.guest, device);
  if (d) return d;
  vmmDevice(e, device); // names why: not assigned, or no MSI-X
  raise('ENODEV', `the guest has no driver for ${device}`, 'device');
}

function checkVector(e: Engine, device: string, nr: number): void {
  const size = vmmDevice(e, device).msix.table_size;
  if (!Number.isInteger(nr) || nr < 0 || nr >= size)
    raise('EINVAL', `MSI-X entry ${nr} is past ${device}'s table (${size} entries)`, 'vector');
}

export function guestMsixEnable(e: Engine, device: string, enable: boolean): void {
  driver(e, device);
  if (enable) vmmMsixEnable(e, device);
  else vmmMsixDisable(e, device);
}

/** The guest writes address and data of entry nr (a trapped write to the virtual table). */
export function guestProgram(e: Engine, device: string, nr: number, vector: number, vcpu: number): void {
  const g = driver(e, device);
  checkVector(e, device, nr);
  if (vector < 0x10 || vector > 0xff)
    raise('EINVAL', `guest vector ${hex(vector)} is outside 0x10..0xff`, 'guest_vector');
  const cpu = e.state.kvm.vcpus[vcpu];
  if (!cpu) raise('EINVAL', `vCPU ${vcpu} does not exist`, 'vcpu');
  const m = vmmDevice(e, device).msix;
  const entry = m.table[nr];
  // drivers/pci/msi/msi.c: pci_write_msg_msix masks an unmasked entry around the write, so QEMU sees a
  // mask (vector release), the new message, then an unmask (vector use with the new route)
  const unmasked = (entry.vector_ctrl & 1) === 0;
  if (unmasked) guestSetMask(e, device, nr, true);
  entry.addr_lo = compatAddress(cpu.apic_id);
  entry.addr_hi = 0;
  entry.data = vector;
  g.vectors[nr] = { vector, dest: cpu.apic_id, enabled: g.vectors[nr].enabled };
  e.guestIndex = null;
  if (unmasked) guestSetMask(e, device, nr, false);
}

export function guestSetMask(e: Engine, device: string, nr: number, masked: boolean): void {
  const g = driver(e, device);
  checkVector(e, device, nr);
  const m = vmmDevice(e, device).msix;
  const was = msixIsMasked(m, nr);
  m.table[nr].vector_ctrl = masked ? 1 : 0;
  g.vectors[nr].enabled = !masked;
  vmmMaskUpdate(e, device, nr, was);
}

export function guestFunctionMask(e: Engine, device: string, masked: boolean): void {
  driver(e, device);
  const m = vmmDevice(e, device).msix;
  const was = m.table.map((_, n) => msixIsMasked(m, n));
  m.function_mask = masked;
  was.forEach((w, n) => vmmMaskUpdate(e, device, n, w));
}

/** (APIC id, vector) -> the driver and MSI-X entry that own it; rebuilt after the guest reprograms. */
function guestOwner(e: Engine, apic: number, vector: number): GuestOwner | undefined {
  let index = e.guestIndex;
  if (!index) {
    // an array by apic * 256 + vector, not a Map: no hashing per interrupt (issue 14)
    index = [];
    for (const g of Object.values(e.state.guest))
      g.vectors.forEach((v, nr) => {
        const k = v.dest * 256 + v.vector;
        if (v.vector && index![k] === undefined)
          index![k] = {
            device: g.device,
            nr,
            detail: e.sid(`${g.device} MSI-X entry ${nr} handler (vector ${hex(v.vector)})`),
          };
      });
    e.guestIndex = index;
  }
  return index[apic * 256 + vector];
}

const H_HANDLER = HOP['guest.handler'];

/** The guest's interrupt handler for `vector` on vCPU `vcpuId`. */
export function guestHandle(e: Engine, irq: number, vcpuId: number, vector: number): void {
  const owner = guestOwner(e, e.state.kvm.vcpus[vcpuId].apic_id, vector);
  if (owner) {
    const g = e.state.guest[owner.device];
    g.completions++;
    if (g.outstanding > 0) g.outstanding--;
    e.hopf(H_HANDLER, irq, e.nodeId(N_LAPIC, vcpuId), e.ids.guest, OUT.done, 0, owner.detail, 0, 0);
    return;
  }
  // A vector no MSI-X driver owns: an INTx-routed device, serviced by acknowledging the device.
  for (const dev of Object.values(e.state.devices)) {
    if (dev.intx.asserted_irq && e.state.vfio[dev.name]?.irq_type === 'intx') {
      intxDeassert(e, dev);
      e.hop(
        'guest.handler',
        irq,
        `lapic:${vcpuId}`,
        'guest',
        'done',
        `${dev.name} INTx handler: device acknowledged, Interrupt Status cleared`,
      );
      return;
    }
  }
  e.hop(
    'guest.handler',
    irq,
    `lapic:${vcpuId}`,
    'guest',
    'done',
    `vector ${hex(vector)}: no driver claims it (spurious in the guest)`,
  );
}

/** A guest write to an emulated register of a virtual device: the intercepted path. Returns the irq. */
export function guestMmioWrite(e: Engine, device: string, offset: number, value: number): number {
  driver(e, device);
  const vdev = own(e.state.vdevs, device);
  if (!vdev)
    raise(
      'EINVAL',
      `${device} is not a virtual device: its registers are the hardware's (direct path)`,
      'device',
    );
  if (offset !== 0xa0)
    raise(
      'EINVAL',
      `offset ${hex(offset)} is not an emulated command register (IDXD_CMD_OFFSET 0xa0)`,
      'offset',
    );
  const irq = e.newIrq(`guest:${device}`, 'intercepted');
  e.hop(
    'guest.mmio',
    irq,
    'guest',
    'kvm',
    'forwarded',
    `write ${hex(value)} to ${device} BAR0+${hex(offset)}: EPT misconfig, VM exit`,
  );
  e.hop(
    'vmm.region_write',
    irq,
    'kvm',
    'vmm',
    'forwarded',
    'KVM_EXIT_MMIO to QEMU: pwrite on the VFIO device region',
  );
  e.schedule(e.cost.vm_exit + e.cost.qemu, EV['vdev.emulate'], irq, e.deviceOrdinal(device), value | 0);
  return irq;
}

// The guest's handler runs on the vCPU the LAPIC delivered to (datapath.ts: guest.handler).
on('guest.handler', (e, irq, vcpuId, vector) => {
  guestHandle(e, irq, vcpuId, vector);
  // iret: interrupts enabled again, the next IRR vector can be taken
  const v = e.state.kvm.vcpus[vcpuId];
  v.in_irq = false;
  scheduleAccept(e, v, 0);
});

on('guest.handler:fasteoi', (e, irq, vcpuId, vector) => {
  guestHandle(e, irq, vcpuId, vector);
  e.schedule(e.cost.eoi, EV['lapic.eoi:level'], irq, vcpuId, vector);
});
