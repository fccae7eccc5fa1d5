// One registry of commands: each with its fields (checked before the handler runs), its label and group
// for the UI's command palette, and its engine handler. Bad input of any kind becomes an errno result
// naming the field; the handler never sees it.

import { z } from 'zod';
import type { Engine } from './engine.ts';
import { EV } from './datapath.ts';
import type { Command, Json, MsixState, PciDeviceState, Vcpu } from './types.ts';
import { raise, raiseTool } from './errno.ts';
import { own } from './own.ts';
import { vfioTarget } from './linux/drivers/vfio/device.ts';
import { vfioGetIrqInfo, vfioSetIrqs } from './linux/drivers/vfio/pci/vfio_pci_intrs.ts';
import {
  dataElementSize,
  parseFlags,
  parseIndex,
  VFIO_IRQ_SET_MINSZ,
} from './linux/drivers/vfio/vfio_main.ts';
import { eventfdCreate, eventfdCtxFdget, eventfdRead, eventfdSignal } from './linux/fs/eventfd.ts';
import { kvmIrqfdAssign, kvmIrqfdDeassign, kvmSetMsiRoute, kvmSignalMsi } from './linux/virt/kvm/eventfd.ts';
import { lapicSetRegs } from './linux/arch/x86/kvm/vcpu.ts';
import { kvmIoapicWrite } from './linux/arch/x86/kvm/ioapic.ts';
import { hwMsixSetEnable, msixUpdateMasks } from './hw/pci/device.ts';
import { imsSlotMask } from './hw/ims.ts';
import { qemuMsixVectorUnuse, qemuMsixVectorUse } from './qemu/hw/pci/msix.ts';
import { msixTableField, msixWriteField } from './hw/pci/msix.ts';
import {
  guestFunctionMask,
  guestMmioWrite,
  guestMsixEnable,
  guestProgram,
  guestSetMask,
} from './guest/driver.ts';
import {
  vdevImsHwirq,
  vdevImsSetCookie,
  vdevSendSignal,
  vdevSetEmulated,
  vdevSubmit,
} from './linux/drivers/dma/idxd/vdev.ts';
import { vmmRealize } from './qemu/hw/vfio/pci_intx.ts';
import { vmmCommandWrite, vmmDevice } from './qemu/hw/vfio/pci.ts';
import { vcpuSetState } from './linux/arch/x86/kvm/vcpu.ts';
import { hex } from './hex.ts';
import { intxDeassert } from './hw/pci/intx.ts';
import { vfioConfigRead, vfioConfigWrite } from './linux/drivers/vfio/pci/vfio_pci_config.ts';
import { vmmMsiDisable, vmmMsiEnable } from './qemu/hw/vfio/pci_msi.ts';
import { vfioPciCoreRequest } from './linux/drivers/vfio/pci/vfio_pci_core.ts';
import { vfioBarRead, vfioBarWrite } from './linux/drivers/vfio/pci/vfio_pci_rdwr.ts';

export type FieldType =
  'device' | 'int' | 'time' | 'bool' | 'flags' | 'index' | 'ints' | 'string' | 'vcpu-state' | 'msix-field';
export interface FieldSpec {
  type: FieldType;
  optional?: boolean;
  doc: string;
  /** Integer fields ('int', and each element of 'ints'): the range the real field holds. */
  min?: number;
  max?: number;
}
export interface CommandSpec {
  op: string;
  label: string;
  group: 'uAPI' | 'eventfd' | 'KVM' | 'device' | 'guest' | 'IOMMU';
  doc: string;
  fields: Record<string, FieldSpec>;
  /** Where the real system answers this command (function@file): named on the trace row of a refusal. */
  fn: string;
  /** The trace node the command acts on, for the row of a refusal. */
  node: (c: Command) => string;
  run: (e: Engine, c: Args) => Json | void;
}

/** A command's fields after checking, typed by what the spec says. */
export interface Args {
  [k: string]: Json | undefined;
}
const int = (c: Args, k: string, d = 0): number => (c[k] === undefined ? d : (c[k] as number));
const str = (c: Args, k: string): string => c[k] as string;

const U32 = 0xffffffff;
const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;
/** An integer field holding what the real one holds: a u32 of the uAPI, an fd (int), a table index. */
const u32 = (doc: string, optional = false): FieldSpec => ({ type: 'int', doc, optional, min: 0, max: U32 });
const fd = (doc: string): FieldSpec => ({ type: 'int', doc, min: S32_MIN, max: S32_MAX });
const range = (min: number, max: number, doc: string, optional = false): FieldSpec => ({
  type: 'int',
  doc,
  optional,
  min,
  max,
});

const F = {
  device: { type: 'device', doc: 'device name from the topology' } as FieldSpec,
  // An MSI-X table has at most 2048 entries (11-bit Table Size); MSI at most 32 vectors. A vector past
  // the device's table is the hardware's business (a clear drop); past any table, a malformed command.
  vector: range(0, 2047, 'MSI-X table entry'),
};

const at = (node: string) => (): string => node;
const name = (c: Command): string => (typeof c.device === 'string' ? c.device : '?');
const vfioNode = (c: Command): string => `vfio:${name(c)}`;
const devNode = (c: Command): string => `dev:${name(c)}`;
const msixNode = (c: Command): string => `msix:${name(c)}`;

/** The PCI function named by `device` (a virtual device raises through its parent). */
function pciDevice(e: Engine, c: Args): PciDeviceState {
  const dev = e.state.devices[str(c, 'device')];
  if (!dev)
    raise(
      'ENODEV',
      `${str(c, 'device')} is not a PCI device (a virtual device's hardware is its parent's)`,
      'device',
    );
  return dev;
}

function msixDevice(e: Engine, c: Args): PciDeviceState & { msix: MsixState } {
  const dev = pciDevice(e, c);
  if (!dev.msix) raise('ENODEV', `${dev.name} has no MSI-X`, 'device');
  return dev as PciDeviceState & { msix: MsixState };
}

function target(e: Engine, c: Args) {
  const t = vfioTarget(e, str(c, 'device'));
  if (!t) raise('ENODEV', `${str(c, 'device')} is not bound to VFIO`, 'device');
  return t;
}

export const COMMANDS: CommandSpec[] = [
  {
    op: 'vfio.getIrqInfo',
    fn: 'vfio_pci_ioctl_get_irq_info@drivers/vfio/pci/vfio_pci_core.c',
    node: vfioNode,
    label: 'VFIO_DEVICE_GET_IRQ_INFO',
    group: 'uAPI',
    doc: 'struct vfio_irq_info { argsz, flags, index, count }',
    fields: {
      device: F.device,
      index: { type: 'index', doc: 'INTX MSI MSIX ERR REQ or a number' },
      argsz: u32('default 16', true),
    },
    run: (e, c) => vfioGetIrqInfo(e, target(e, c), c.index as number, int(c, 'argsz', 16)),
  },
  {
    op: 'vfio.setIrqs',
    fn: 'vfio_pci_ioctl_set_irqs@drivers/vfio/pci/vfio_pci_core.c',
    node: vfioNode,
    label: 'VFIO_DEVICE_SET_IRQS',
    group: 'uAPI',
    doc: 'struct vfio_irq_set { argsz, flags, index, start, count, data[] }',
    fields: {
      device: F.device,
      flags: { type: 'flags', doc: 'e.g. EVENTFD|TRIGGER, or a number' },
      index: { type: 'index', doc: 'INTX MSI MSIX ERR REQ or a number' },
      start: u32('first vector'),
      count: u32('number of vectors'),
      // __s32 fds for DATA_EVENTFD (include/uapi/linux/vfio.h), __u8 bools for DATA_BOOL: both fit an s32
      data: {
        type: 'ints',
        optional: true,
        doc: 'eventfd fds (-1 de-assigns) or bool bytes',
        min: S32_MIN,
        max: S32_MAX,
      },
      argsz: u32('default: header + the data given', true),
    },
    run: (e, c) => {
      const flags = c.flags as number;
      const data = (c.data as number[] | undefined) ?? [];
      // DATA_BOOL carries __u8s: a value a byte cannot hold is malformed, not "true"
      if (dataElementSize(flags) === 1 && data.some((x) => x < 0 || x > 255))
        raiseTool('EINVAL', 'DATA_BOOL data are bytes (u8): each 0..255', 'data');
      const size = Math.max(0, dataElementSize(flags));
      const argsz = int(c, 'argsz', VFIO_IRQ_SET_MINSZ + size * data.length);
      return vfioSetIrqs(
        e,
        target(e, c),
        { argsz, flags, index: c.index as number, start: int(c, 'start'), count: int(c, 'count') },
        data,
      );
    },
  },
  {
    op: 'vfio.configRead',
    fn: 'vfio_pci_config_rw@drivers/vfio/pci/vfio_pci_config.c',
    node: vfioNode,
    label: 'pread(VFIO config region)',
    group: 'uAPI',
    doc: 'reads config space as vfio-pci shows it (virtualized bits from vconfig)',
    fields: {
      device: F.device,
      offset: range(0, 4095, 'byte offset in config space'),
      size: range(1, 4, '1, 2 or 4 bytes'),
    },
    run: (e, c) => vfioConfigRead(target(e, c), int(c, 'offset'), int(c, 'size')),
  },
  {
    op: 'vfio.configWrite',
    fn: 'vfio_pci_config_rw@drivers/vfio/pci/vfio_pci_config.c',
    node: vfioNode,
    label: 'pwrite(VFIO config region)',
    group: 'uAPI',
    doc: 'writes config space through vfio-pci (e.g. offset 4, size 2: the command register)',
    fields: {
      device: F.device,
      offset: range(0, 4095, 'byte offset in config space'),
      size: range(1, 4, '1, 2 or 4 bytes'),
      value: u32('the value written'),
    },
    run: (e, c) => {
      const size = int(c, 'size');
      const value = int(c, 'value');
      if (size < 4 && value >= 2 ** (8 * size))
        raiseTool('EINVAL', `value ${hex(value)} does not fit ${size} bytes`, 'value');
      vfioConfigWrite(e, target(e, c), int(c, 'offset'), size, value);
    },
  },
  {
    op: 'vfio.barRead',
    fn: 'vfio_pci_bar_rw@drivers/vfio/pci/vfio_pci_rdwr.c',
    node: vfioNode,
    label: 'pread(VFIO BAR region)',
    group: 'uAPI',
    doc: 'a 32-bit read of a BAR through the device fd (the MSI-X table reads as all ones)',
    fields: { device: F.device, bar: range(0, 5, 'BAR 0..5'), offset: u32('byte offset in the BAR') },
    run: (e, c) => vfioBarRead(e, target(e, c), int(c, 'bar'), int(c, 'offset')),
  },
  {
    op: 'vfio.barWrite',
    fn: 'vfio_pci_bar_rw@drivers/vfio/pci/vfio_pci_rdwr.c',
    node: vfioNode,
    label: 'pwrite(VFIO BAR region)',
    group: 'uAPI',
    doc: "a 32-bit write of a BAR through the device fd (e.g. e1000e's ICS at BAR0 0xc8 raises a cause)",
    fields: {
      device: F.device,
      bar: range(0, 5, 'BAR 0..5'),
      offset: u32('byte offset in the BAR'),
      value: u32('dword value'),
    },
    run: (e, c) => vfioBarWrite(e, target(e, c), int(c, 'bar'), int(c, 'offset'), int(c, 'value')),
  },
  {
    op: 'eventfd.create',
    fn: 'eventfd_create@fs/eventfd.c',
    node: at('eventfd'),
    label: 'eventfd()',
    group: 'eventfd',
    doc: 'creates an eventfd; returns its fd',
    fields: {},
    run: (e) => eventfdCreate(e).fd,
  },
  {
    op: 'eventfd.read',
    fn: 'eventfd_read@fs/eventfd.c',
    node: at('eventfd'),
    label: 'read(eventfd)',
    group: 'eventfd',
    doc: 'reads and resets the counter',
    fields: { fd: fd('eventfd') },
    run: (e, c) => eventfdRead(e, int(c, 'fd')),
  },
  {
    op: 'eventfd.signal',
    fn: 'eventfd_write@fs/eventfd.c',
    node: at('eventfd'),
    label: 'write(eventfd, 1)',
    group: 'eventfd',
    doc: 'user space signals an eventfd (e.g. an unmask eventfd)',
    fields: { fd: fd('eventfd') },
    run: (e, c) => {
      const efd = eventfdCtxFdget(e, int(c, 'fd'));
      const irq = e.newIrq('user', 'emulated');
      eventfdSignal(e, irq, efd.fd, 'vmm');
      return irq;
    },
  },
  {
    op: 'kvm.irqfd',
    fn: 'kvm_irqfd@virt/kvm/eventfd.c',
    node: at('irqfd'),
    label: 'KVM_IRQFD',
    group: 'KVM',
    doc: 'binds (or with deassign, unbinds) an eventfd to a GSI',
    fields: {
      fd: fd('eventfd'),
      gsi: u32('GSI'),
      deassign: { type: 'bool', optional: true, doc: 'KVM_IRQFD_FLAG_DEASSIGN' },
      resample: { ...fd('KVM_IRQFD_FLAG_RESAMPLE: the resamplefd, signalled at the EOI'), optional: true },
    },
    run: (e, c) =>
      c.deassign
        ? kvmIrqfdDeassign(e, int(c, 'fd'), int(c, 'gsi'))
        : kvmIrqfdAssign(
            e,
            int(c, 'fd'),
            int(c, 'gsi'),
            c.resample === undefined ? undefined : int(c, 'resample'),
          ),
  },
  {
    op: 'kvm.ioapic',
    fn: 'ioapic_write_indirect@arch/x86/kvm/ioapic.c',
    node: at('kvm'),
    label: 'IO-APIC redirection entry (guest write)',
    group: 'KVM',
    doc: "the guest programs a pin of KVM's in-kernel IO-APIC (GSI 0-23 route to pin = GSI by default)",
    fields: {
      pin: range(0, 23, 'IO-APIC pin'),
      vector: range(16, 255, 'guest vector'),
      dest: range(0, 255, 'physical destination: APIC id'),
      level: { type: 'bool', optional: true, doc: 'level-triggered (default true: INTx)' },
      masked: { type: 'bool', optional: true, doc: 'default false' },
    },
    run: (e, c) =>
      kvmIoapicWrite(e, int(c, 'pin'), {
        vector: int(c, 'vector'),
        dest: int(c, 'dest'),
        level: c.level !== false,
        masked: c.masked === true,
      }),
  },
  {
    op: 'kvm.route',
    fn: 'kvm_set_irq_routing@virt/kvm/irqchip.c',
    node: at('kvm'),
    label: 'KVM_SET_GSI_ROUTING (one MSI entry)',
    group: 'KVM',
    doc: 'maps a GSI to an MSI address/data',
    fields: {
      gsi: u32('GSI'),
      address_lo: u32('e.g. 0xfee00000 | apic_id << 12'),
      address_hi: u32('default 0', true),
      data: u32('guest vector in bits 7:0'),
    },
    run: (e, c) =>
      kvmSetMsiRoute(e, {
        gsi: int(c, 'gsi'),
        address_lo: int(c, 'address_lo') >>> 0,
        address_hi: int(c, 'address_hi') >>> 0,
        data: int(c, 'data') >>> 0,
      }),
  },
  {
    op: 'kvm.vcpu',
    fn: 'kvm_arch_vcpu_ioctl_run@arch/x86/kvm/x86.c',
    node: at('kvm'),
    label: 'vCPU state',
    group: 'KVM',
    doc: 'running, halted (HLT: blocked) or preempted (descheduled by the host)',
    fields: {
      vcpu: u32('vCPU id'),
      state: { type: 'vcpu-state', doc: 'running | halted | preempted' },
    },
    run: (e, c) => {
      const v = e.state.kvm.vcpus[int(c, 'vcpu')];
      if (!v) raise('EINVAL', `vCPU ${int(c, 'vcpu')} does not exist`, 'vcpu');
      return vcpuSetState(e, v, c.state as Vcpu['state']);
    },
  },
  {
    op: 'kvm.setLapic',
    fn: 'kvm_apic_set_state@arch/x86/kvm/lapic.c',
    node: at('kvm'),
    label: 'KVM_SET_LAPIC',
    group: 'KVM',
    doc: "changes a vCPU's LAPIC registers: TPR, SVR (bit 8: software enable), LDR, DFR",
    fields: {
      vcpu: u32('vCPU id'),
      tpr: range(0, 255, 'Task Priority', true),
      svr: u32('Spurious Interrupt Vector (0x1ff: enabled, 0xff: software-disabled)', true),
      ldr: u32('Logical Destination: the logical id in bits 31:24', true),
      dfr: u32('Destination Format: 0xffffffff flat, 0x0fffffff cluster', true),
    },
    run: (e, c) => {
      const v = e.state.kvm.vcpus[int(c, 'vcpu')];
      if (!v) raise('EINVAL', `vCPU ${int(c, 'vcpu')} does not exist`, 'vcpu');
      const opt = (k: string): number | undefined => (c[k] === undefined ? undefined : int(c, k));
      lapicSetRegs(e, v, { tpr: opt('tpr'), svr: opt('svr'), ldr: opt('ldr'), dfr: opt('dfr') });
    },
  },
  {
    op: 'kvm.signalMsi',
    fn: 'kvm_send_userspace_msi@virt/kvm/irqchip.c',
    node: at('kvm'),
    label: 'KVM_SIGNAL_MSI',
    group: 'KVM',
    doc: 'injects one MSI from user space; returns the interrupt id (its copies, for several vCPUs, follow)',
    fields: {
      address_lo: u32('0xfee00000 | dest << 12 | rh << 3 | logical << 2'),
      address_hi: u32('ignored without the x2APIC API', true),
      data: u32('vector in bits 7:0, delivery mode in bits 10:8'),
    },
    run: (e, c) => {
      const irq = e.newIrq('user:KVM_SIGNAL_MSI', 'emulated');
      kvmSignalMsi(e, irq, int(c, 'address_lo') >>> 0, int(c, 'data') >>> 0);
      return irq;
    },
  },
  {
    op: 'device.raise',
    fn: 'hw: device event@PCIe function',
    node: devNode,
    label: 'device raises a vector',
    group: 'device',
    doc: 'the hardware fires MSI-X/MSI vector (or INTx), or an IMS entry with `ims`; `count` repeats it',
    fields: {
      device: F.device,
      vector: range(0, 2047, 'MSI-X/MSI vector (default 0)', true),
      ims: range(0, 32767, 'IMS entry index instead of a vector', true),
      count: range(1, 1_000_000, 'how many interrupts per vector (default 1)', true),
      vectors: range(1, 2048, 'a batch: this many consecutive vectors from `vector` (default 1)', true),
    },
    run: (e, c) => {
      const name = str(c, 'device');
      const dev = pciDevice(e, c);
      const per = int(c, 'count', 1);
      const nvec = int(c, 'vectors', 1);
      const first = int(c, 'vector');
      if (nvec > 1 && c.ims !== undefined)
        raiseTool('EINVAL', 'a batch of vectors is for MSI-X/MSI, not IMS', 'vectors');
      if (first + nvec > 2048)
        raiseTool('EINVAL', `vectors ${first}..${first + nvec - 1} pass 2047`, 'vectors');
      const n = per * nvec;
      e.reserveIrqs(n, nvec > 1 ? 'vectors' : 'count');
      const ims = c.ims as number | undefined;
      if (ims !== undefined && (!dev.ims || ims < 0 || ims >= dev.ims.size))
        raise(
          'EINVAL',
          dev.ims ? `IMS entry ${ims} is past ${name}'s ${dev.ims.size} entries` : `${name} has no IMS`,
          'ims',
        );
      // a QEMU-emulated device: msix_notify asserts vector < msix_entries_nr (hw/pci/msix.c, QEMU 7.2+)
      if (dev.e1000e && dev.msix?.enable && ims === undefined && first + nvec > dev.msix.table_size)
        raise(
          'EINVAL',
          `${name} is QEMU's e1000e: msix_notify asserts vector < msix_entries_nr (${dev.msix.table_size}); QEMU would abort`,
          'vector',
        );
      const di = e.deviceOrdinal(name);
      const source = e.sid(`dev:${name}`); // interned once for the batch, not per interrupt
      let firstIrq = 0;
      // round by round: every vector of the batch once, then again (a storm's interleaving)
      for (let r = 0; r < per; r++)
        for (let v = 0; v < nvec; v++) {
          const irq = e.newIrq(source, 'direct');
          if (!firstIrq) firstIrq = irq;
          if (ims !== undefined) e.schedule(0, EV['ims.send'], irq, di, ims);
          else e.schedule(0, EV['dev.raise'], irq, di, first + v);
        }
      return n === 1 ? firstIrq : { first: firstIrq, count: n };
    },
  },
  {
    op: 'device.msixWrite',
    fn: 'hw: MSI-X table write@PCIe Base Spec 6.1.4.2',
    node: msixNode,
    label: 'write the physical MSI-X table',
    group: 'device',
    doc: "a raw write into the function's table (what a buggy host driver or a backdoor reset does)",
    fields: {
      device: F.device,
      offset: u32('byte offset in the table (16 bytes per entry)'),
      value: u32('dword value'),
    },
    run: (e, c) => {
      const dev = msixDevice(e, c);
      const f = msixTableField(dev.msix, int(c, 'offset'));
      if (!f)
        raise(
          'EINVAL',
          `offset ${hex(int(c, 'offset'))} is not a dword inside the ${dev.msix.table_size * 16}-byte table`,
          'offset',
        );
      msixWriteField(dev.msix.table[f.vector], f.field, int(c, 'value'));
      if (f.field === 'vector_ctrl') msixUpdateMasks(e, dev);
      return `${f.field} of entry ${f.vector}`;
    },
  },
  {
    op: 'device.functionMask',
    fn: 'hw: Message Control write@PCIe Base Spec 7.7.2.2',
    node: msixNode,
    label: 'physical MSI-X Function Mask',
    group: 'device',
    doc: "sets or clears Function Mask in the function's own Message Control (a host-side write)",
    fields: { device: F.device, masked: { type: 'bool', doc: 'Function Mask' } },
    run: (e, c) => {
      const dev = msixDevice(e, c);
      dev.msix.function_mask = c.masked as boolean;
      msixUpdateMasks(e, dev);
    },
  },
  {
    op: 'device.msixEnable',
    fn: 'hw: Message Control write@PCIe Base Spec 7.7.2.2',
    node: msixNode,
    label: 'physical MSI-X Enable (outside VFIO)',
    group: 'device',
    doc: "sets or clears MSI-X Enable in the function's own Message Control from the host side, outside VFIO (setpci, a backdoor reset): vfio-pci is not told",
    fields: { device: F.device, enable: { type: 'bool', doc: 'MSI-X Enable' } },
    run: (e, c) => hwMsixSetEnable(e, msixDevice(e, c), c.enable as boolean),
  },
  {
    op: 'device.msixVectorUse',
    fn: 'msix_vector_use@hw/pci/msix.c',
    node: msixNode,
    label: 'QEMU device model: msix_vector_use',
    group: 'device',
    doc: "a QEMU-emulated device (model 'e1000e') declares a vector used: msix_entry_used[vector]++",
    fields: { device: F.device, vector: range(0, 2047, 'MSI-X vector') },
    run: (e, c) => qemuMsixVectorUse(e, msixDevice(e, c), int(c, 'vector')),
  },
  {
    op: 'device.msixVectorUnuse',
    fn: 'msix_vector_unuse@hw/pci/msix.c',
    node: msixNode,
    label: 'QEMU device model: msix_vector_unuse',
    group: 'device',
    doc: 'a QEMU-emulated device drops a use of a vector; at 0 its PBA bit is cleared and msix_notify ignores it',
    fields: { device: F.device, vector: range(0, 2047, 'MSI-X vector') },
    run: (e, c) => qemuMsixVectorUnuse(e, msixDevice(e, c), int(c, 'vector')),
  },
  {
    op: 'device.imsMask',
    fn: 'idxd_mask@drivers/irqchip/irq-pci-intel-idxd.c',
    node: (c: Command): string => `ims:${name(c)}`,
    label: "host: mask or unmask an IMS slot (IDXD's irq_chip)",
    group: 'device',
    doc: "the host's irq_mask / irq_unmask callback of the IDXD IMS chip writes the slot's control word (bit 0 masks); a raise while masked is held pending, the unmask sends it once",
    fields: {
      device: F.device,
      ims: range(0, 32767, 'IMS slot index'),
      masked: { type: 'bool', doc: 'CTRL_VECTOR_MASKBIT' },
    },
    run: (e, c) => imsSlotMask(e, pciDevice(e, c), int(c, 'ims'), c.masked as boolean),
  },
  {
    op: 'device.ack',
    fn: 'hw: Interrupt Status cleared@PCI Local Bus Spec 6.2.3',
    node: devNode,
    label: 'driver acknowledges INTx',
    group: 'device',
    doc: 'the device driver services the device: its INTx condition (Interrupt Status) clears and the pin deasserts',
    fields: { device: F.device },
    run: (e, c) => {
      const dev = pciDevice(e, c);
      intxDeassert(e, dev);
    },
  },
  // ---- the virtual device driver's calls into the RFC interrupt context (src/engine/linux/drivers/dma/idxd/vdev.ts)
  {
    op: 'vdev.setEmulated',
    fn: 'vfio_pci_set_emulated@drivers/vfio/pci/vfio_pci_intrs.c',
    node: vfioNode,
    label: 'driver: vfio_pci_set_emulated',
    group: 'device',
    doc: 'the virtual device driver marks vectors emulated (no host interrupt behind them); RFC designs only',
    fields: { device: F.device, start: range(0, 2047, 'first vector'), count: range(1, 2048, 'vectors') },
    run: (e, c) => vdevSetEmulated(e, str(c, 'device'), int(c, 'start'), int(c, 'count')),
  },
  {
    op: 'vdev.sendSignal',
    fn: 'vfio_pci_send_signal@drivers/vfio/pci/vfio_pci_intrs.c',
    node: vfioNode,
    label: 'driver: vfio_pci_send_signal',
    group: 'device',
    doc: 'the virtual device driver signals an emulated vector (WARN_ON_ONCE when it is not one)',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => vdevSendSignal(e, str(c, 'device'), int(c, 'vector')),
  },
  {
    op: 'vdev.imsHwirq',
    fn: 'vfio_pci_ims_hwirq@drivers/vfio/pci/vfio_pci_ims.c',
    node: vfioNode,
    label: 'driver: vfio_pci_ims_hwirq',
    group: 'device',
    doc: 'the IMS index behind a vector (what IDXD returns for REQUEST_INT_HANDLE)',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => vdevImsHwirq(e, str(c, 'device'), int(c, 'vector')),
  },
  {
    op: 'vdev.imsSetCookie',
    fn: 'vfio_pci_ims_set_cookie@drivers/vfio/pci/vfio_pci_ims.c',
    node: vfioNode,
    label: 'driver: vfio_pci_ims_set_cookie',
    group: 'device',
    doc: "a vector's IMS cookie (PASID) for its next allocation",
    fields: { device: F.device, vector: F.vector, cookie: u32('cookie (PASID)') },
    run: (e, c) => vdevImsSetCookie(e, str(c, 'device'), int(c, 'vector'), int(c, 'cookie')),
  },
  {
    op: 'guest.commandWrite',
    fn: 'vfio_pci_write_config@hw/vfio/pci.c',
    node: at('vmm'),
    label: 'guest: write the PCI command register',
    group: 'guest',
    doc: 'the guest writes its virtual command register (bit 10 Interrupt Disable, bit 2 Bus Master)',
    fields: { device: F.device, value: range(0, 0xffff, 'command register value') },
    run: (e, c) => vmmCommandWrite(e, str(c, 'device'), int(c, 'value')),
  },
  {
    op: 'vmm.realize',
    fn: 'vfio_realize@hw/vfio/pci.c',
    node: at('vmm'),
    label: 'QEMU: realize the assigned device',
    group: 'guest',
    doc: 'QEMU sets the device up (INTx on when it has a pin); the first guest access does it too',
    fields: { device: F.device },
    run: (e, c) => vmmRealize(e, vmmDevice(e, str(c, 'device'))),
  },
  {
    op: 'iommu.irtePresent',
    fn: 'modify_irte@drivers/iommu/intel/irq_remapping.c',
    node: at('iommu'),
    label: 'IRTE present bit',
    group: 'IOMMU',
    doc: 'clear or set the present bit of an interrupt remapping entry',
    fields: { index: u32('IRTE index'), present: { type: 'bool', doc: 'present' } },
    run: (e, c) => {
      const irte = e.state.iommu.irte[int(c, 'index')];
      if (!irte) raise('EINVAL', `IRTE ${int(c, 'index')} is not allocated`, 'index');
      if (irte.block !== undefined)
        raise(
          'EINVAL',
          `IRTE ${irte.index} is padding of the multi-MSI block at ${irte.block} (alloc_irte's power-of-two region): no vector was set up in it`,
          'index',
        );
      irte.present = c.present as boolean;
    },
  },
  {
    op: 'guest.msixEnable',
    fn: 'vfio_pci_write_config@hw/vfio/pci.c',
    node: at('vmm'),
    label: 'guest: MSI-X Enable',
    group: 'guest',
    doc: 'the guest sets or clears MSI-X Enable in the virtual config space',
    fields: { device: F.device, enable: { type: 'bool', optional: true, doc: 'default true' } },
    run: (e, c) => guestMsixEnable(e, str(c, 'device'), c.enable !== false),
  },
  {
    op: 'guest.msiEnable',
    fn: 'vfio_pci_write_config@hw/vfio/pci.c',
    node: at('vmm'),
    label: 'guest: MSI Enable',
    group: 'guest',
    doc: 'the guest programs its virtual MSI capability (vCPU, vector, Multiple Message Enable) and sets or clears Enable: QEMU vfio_msi_enable / vfio_msi_disable',
    fields: {
      device: F.device,
      vectors: range(1, 32, 'Multiple Message Enable as a count: 1, 2, 4 .. 32 (default 1)', true),
      guest_vector: range(0, 255, 'guest IDT vector of vector 0 (default 0x40)', true),
      vcpu: u32('destination vCPU (default 0)', true),
      enable: { type: 'bool', optional: true, doc: 'default true' },
    },
    run: (e, c) =>
      c.enable === false
        ? vmmMsiDisable(e, str(c, 'device'))
        : vmmMsiEnable(
            e,
            str(c, 'device'),
            int(c, 'vectors', 1),
            int(c, 'guest_vector', 0x40),
            int(c, 'vcpu'),
          ),
  },
  {
    op: 'host.request',
    fn: 'vfio_pci_core_request@drivers/vfio/pci/vfio_pci_core.c',
    node: vfioNode,
    label: 'host: ask for the device back (REQ)',
    group: 'device',
    doc: 'the host unbinds the device from vfio-pci: vfio_unregister_group_dev calls the request op with count 0, 1, 2 .. (one every 10 s)',
    fields: {
      device: F.device,
      count: u32('which request of the unbind (0 first; vfio_unregister_group_dev i++)', true),
    },
    run: (e, c) => vfioPciCoreRequest(e, target(e, c), int(c, 'count')),
  },
  {
    op: 'guest.program',
    fn: 'msix_table_mmio_write@hw/pci/msix.c',
    node: at('vmm'),
    label: 'guest: program an MSI-X entry',
    group: 'guest',
    doc: 'address = destination vCPU APIC id, data = guest vector',
    fields: {
      device: F.device,
      vector: F.vector,
      guest_vector: range(0, 255, 'guest IDT vector'),
      vcpu: u32('destination vCPU (default 0)', true),
    },
    run: (e, c) =>
      guestProgram(e, str(c, 'device'), int(c, 'vector'), int(c, 'guest_vector'), int(c, 'vcpu')),
  },
  {
    op: 'guest.unmask',
    fn: 'msix_table_mmio_write@hw/pci/msix.c',
    node: at('vmm'),
    label: 'guest: unmask an MSI-X entry',
    group: 'guest',
    doc: 'clears the mask bit of a virtual table entry',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => guestSetMask(e, str(c, 'device'), int(c, 'vector'), false),
  },
  {
    op: 'guest.mask',
    fn: 'msix_table_mmio_write@hw/pci/msix.c',
    node: at('vmm'),
    label: 'guest: mask an MSI-X entry',
    group: 'guest',
    doc: 'sets the mask bit of a virtual table entry',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => guestSetMask(e, str(c, 'device'), int(c, 'vector'), true),
  },
  {
    op: 'guest.functionMask',
    fn: 'vfio_pci_write_config@hw/vfio/pci.c',
    node: at('vmm'),
    label: 'guest: Function Mask',
    group: 'guest',
    doc: 'sets or clears MSI-X Function Mask in the virtual config space',
    fields: { device: F.device, masked: { type: 'bool', doc: 'Function Mask' } },
    run: (e, c) => guestFunctionMask(e, str(c, 'device'), c.masked as boolean),
  },
  {
    op: 'guest.submit',
    fn: 'hw: work queue portal write@Intel DSA spec 3.3',
    node: at('guest'),
    label: 'guest: submit work (direct path)',
    group: 'guest',
    doc: "a descriptor to a virtual device's work queue portal; the hardware completes it on its IMS entry",
    fields: { device: F.device },
    run: (e, c) => {
      const vdev = e.state.vdevs[str(c, 'device')];
      if (!vdev)
        raise(
          'EINVAL',
          `${str(c, 'device')} is not a virtual device with a work queue: use device.raise`,
          'device',
        );
      return vdevSubmit(e, vdev);
    },
  },
  {
    op: 'guest.mmioWrite',
    fn: 'vfio_region_write@hw/vfio/common.c',
    node: at('vmm'),
    label: 'guest: write an emulated register (intercepted path)',
    group: 'guest',
    doc: 'e.g. offset 0xa0 (IDXD_CMD_OFFSET), value 0x80100000 = ENABLE_DEVICE with INT_REQ',
    fields: {
      device: F.device,
      offset: u32('BAR0 offset'),
      value: u32('dword value'),
    },
    run: (e, c) => guestMmioWrite(e, str(c, 'device'), int(c, 'offset'), int(c, 'value') >>> 0),
  },
];

// A Map, not an object: `op: "toString"` must not find Object.prototype.toString.
export const COMMAND_BY_OP: Map<string, CommandSpec> = new Map(COMMANDS.map((s) => [s.op, s]));

/** `run`: handled by the System (it drives the queue), checked here like every other command. */
export const RUN_SPEC: CommandSpec = {
  op: 'run',
  label: 'run',
  group: 'device',
  doc: 'runs queued events until idle, a virtual time or a number of events',
  fields: {
    until: { type: 'time', optional: true, doc: 'stop before the first event later than this (ns)' },
    maxEvents: range(0, Number.MAX_SAFE_INTEGER, 'at most this many events', true),
  },
  fn: 'irqflow: run@src/engine/system.ts',
  node: at('kvm'),
  run: () => raiseTool('EINVAL', 'run is handled by the system'),
};

/** Checks a command's fields against its spec; returns normalized args or raises EINVAL naming the field. */
const FIELD_LISTS = new WeakMap<CommandSpec, [string, FieldSpec][]>();

export function checkArgs(e: Engine, spec: CommandSpec, cmd: Command): Args {
  const out: Args = {};
  for (const key in cmd) {
    if (key !== 'op' && !Object.hasOwn(spec.fields, key))
      raiseTool(
        'EINVAL',
        `${spec.op} has no field '${key}' (it takes: ${Object.keys(spec.fields).join(', ') || 'none'})`,
        key,
      );
  }
  let fields = FIELD_LISTS.get(spec);
  if (!fields) FIELD_LISTS.set(spec, (fields = Object.entries(spec.fields)));
  for (const [key, f] of fields) {
    const v = Object.hasOwn(cmd, key) ? cmd[key] : undefined;
    if (v === undefined || v === null) {
      if (!f.optional) raiseTool('EINVAL', `${spec.op} needs '${key}' (${f.doc})`, key);
      continue;
    }
    out[key] = checkField(e, key, f, v);
  }
  return out;
}

function bad(key: string, what: string): never {
  return raiseTool('EINVAL', `'${key}' must be ${what}`, key);
}

// Decimal or 0x hex, optionally negative; no blanks, no '', no '1e3': Number('') would be 0.
const INT_TEXT = /^-?(?:0x[0-9a-f]+|[0-9]+)$/i;

function checkInt(key: string, f: FieldSpec, v: Json): number {
  const min = f.min ?? S32_MIN;
  const max = f.max ?? U32;
  const n = typeof v === 'string' && INT_TEXT.test(v) ? parseIntText(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max)
    bad(key, `an integer in ${min}..${max} (got ${describeValue(v)})`);
  return n;
}

function parseIntText(t: string): number {
  const neg = t.startsWith('-');
  const n = Number(neg ? t.slice(1) : t);
  return neg ? -n : n;
}

/** A bad value, quoted for a message: short, and control characters escaped. */
export function describeValue(v: unknown): string {
  let text: string;
  if (typeof v === 'number') text = String(v);
  else if (Array.isArray(v)) text = `an array of ${v.length}`;
  else if (typeof v === 'object' && v !== null) text = 'an object';
  else text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function checkField(e: Engine, key: string, f: FieldSpec, v: Json): Json {
  switch (f.type) {
    case 'device':
      if (typeof v !== 'string') return bad(key, 'a device name');
      if (own(e.state.devices, v) === undefined && own(e.state.vdevs, v) === undefined)
        raiseTool(
          'ENODEV',
          `no device named ${describeValue(v)} in the topology (devices: ${e.deviceNames.join(', ')})`,
          key,
        );
      return v;
    case 'int':
      return checkInt(key, f, v);
    case 'time':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        bad(key, `a virtual time in ns, finite and >= 0 (got ${describeValue(v)})`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') bad(key, 'true or false');
      return v;
    case 'flags': {
      const n = typeof v === 'string' || typeof v === 'number' ? parseFlags(v) : null;
      if (n === null) bad(key, 'flag names joined by | (NONE BOOL EVENTFD MASK UNMASK TRIGGER) or a number');
      return n;
    }
    case 'index': {
      const n = typeof v === 'string' || typeof v === 'number' ? parseIndex(v) : null;
      if (n === null || !Number.isSafeInteger(n) || n < 0 || n > U32)
        bad(key, 'INTX, MSI, MSIX, ERR, REQ or a number');
      return n;
    }
    case 'ints': {
      if (!Array.isArray(v) || v.length > 4096) bad(key, 'an array of at most 4096 integers');
      const min = f.min ?? S32_MIN;
      const max = f.max ?? U32;
      const i = v.findIndex((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max);
      if (i >= 0) bad(key, `an array of integers in ${min}..${max} (element ${i} is ${describeValue(v[i])})`);
      return v;
    }
    case 'string':
      if (typeof v !== 'string') bad(key, 'a string');
      return v;
    case 'vcpu-state':
      if (v !== 'running' && v !== 'halted' && v !== 'preempted') bad(key, 'running, halted or preempted');
      return v;
    case 'msix-field':
      if (v !== 'addr_lo' && v !== 'addr_hi' && v !== 'data' && v !== 'vector_ctrl')
        bad(key, 'addr_lo, addr_hi, data or vector_ctrl');
      return v;
  }
}

/**
 * The same field specs as a zod schema per command: what a scenario file's steps are checked against
 * when it is parsed (an unknown op, an unknown field or a value of the wrong shape is invalid input),
 * and what the published JSON Schema says of every command. checkArgs applies them at run time, with
 * the engine's state (device names, ranges against the topology).
 */
function fieldZod(f: FieldSpec): z.ZodType {
  const min = f.min ?? S32_MIN;
  const max = f.max ?? U32;
  const intText = z
    .string()
    .regex(INT_TEXT, 'decimal or 0x hex')
    .refine((t) => {
      const n = parseIntText(t);
      return Number.isSafeInteger(n) && n >= min && n <= max;
    }, `an integer in ${min}..${max}`);
  let t: z.ZodType;
  switch (f.type) {
    case 'device':
      t = z.string().min(1).max(64).describe(f.doc);
      break;
    case 'int':
      t = z.union([z.number().int().min(min).max(max), intText]).describe(f.doc);
      break;
    case 'time':
      t = z.number().min(0).describe(f.doc);
      break;
    case 'bool':
      t = z.boolean().describe(f.doc);
      break;
    case 'flags':
      t = z
        .union([z.string(), z.number().int().min(0).max(U32)])
        .refine(
          (v) => parseFlags(v) !== null,
          'flag names joined by | (NONE BOOL EVENTFD MASK UNMASK TRIGGER) or a number',
        )
        .describe(f.doc);
      break;
    case 'index':
      t = z
        .union([z.string(), z.number().int().min(0).max(U32)])
        .refine((v) => {
          const n = parseIndex(v);
          return n !== null && n >= 0 && n <= U32;
        }, 'INTX, MSI, MSIX, ERR, REQ or a number')
        .describe(f.doc);
      break;
    case 'ints':
      t = z.array(z.number().int().min(min).max(max)).max(4096).describe(f.doc);
      break;
    case 'string':
      t = z.string().describe(f.doc);
      break;
    case 'vcpu-state':
      t = z.enum(['running', 'halted', 'preempted']).describe(f.doc);
      break;
    case 'msix-field':
      t = z.enum(['addr_lo', 'addr_hi', 'data', 'vector_ctrl']).describe(f.doc);
      break;
  }
  return f.optional ? t.nullable().optional() : t;
}

export function commandSchema(spec: CommandSpec) {
  const shape: Record<string, z.ZodType> = { op: z.literal(spec.op) };
  for (const [k, f] of Object.entries(spec.fields)) shape[k] = fieldZod(f);
  return z.object(shape).strict().describe(`${spec.label}: ${spec.doc}`);
}

/** Every command a scenario step may hold, discriminated by op. */
export const commandUnion: z.ZodType<Command> = z.discriminatedUnion(
  'op',
  // a tuple of at least one schema, as z.discriminatedUnion types its options
  [...COMMANDS, RUN_SPEC].map(commandSchema) as unknown as [
    ReturnType<typeof commandSchema>,
    ...ReturnType<typeof commandSchema>[],
  ],
) as unknown as z.ZodType<Command>;

/** The fields of `cmd` that name a device (checked against the topology when a scenario is parsed). */
export function deviceFields(cmd: { op: string }): string[] {
  const spec = COMMAND_BY_OP.get(cmd.op);
  return spec ? Object.entries(spec.fields).flatMap(([k, f]) => (f.type === 'device' ? [k] : [])) : [];
}
