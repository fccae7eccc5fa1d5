// One registry of commands: each with its fields (checked before the handler runs), its label and group
// for the UI's command palette, and its engine handler. Bad input of any kind becomes an errno result
// naming the field; the handler never sees it.

import type { Engine } from './engine.ts';
import type { Command, Json, MsixState, PciDeviceState, Vcpu } from './types.ts';
import { raise } from './errno.ts';
import { vfioTarget } from './vfio/device.ts';
import { vfioGetIrqInfo, vfioSetIrqs } from './vfio/intrs.ts';
import { dataElementSize, parseFlags, parseIndex, VFIO_IRQ_SET_MINSZ } from './vfio/uapi.ts';
import { eventfdCreate, eventfdCtxFdget, eventfdRead, eventfdSignal } from './kvm/eventfd.ts';
import { kvmIrqfdAssign, kvmIrqfdDeassign, kvmSetMsiRoute } from './kvm/irqfd.ts';
import { EV_DEV_RAISE, msixUpdateMasks } from './pci/device.ts';
import { EV_IMS_RAISE } from './ims/ims.ts';
import { msixTableField, msixWriteField } from './pci/msix.ts';
import {
  guestFunctionMask,
  guestMmioWrite,
  guestMsixEnable,
  guestProgram,
  guestSetMask,
} from './guest/driver.ts';
import { vdevSubmit } from './vfio/idxd_vdev.ts';
import { vcpuSetState } from './kvm/vcpu.ts';
import { hex } from './iommu/msg.ts';
import { intxDeassert } from './pci/intx.ts';

export type FieldType =
  'device' | 'int' | 'bool' | 'flags' | 'index' | 'ints' | 'string' | 'vcpu-state' | 'msix-field';
export interface FieldSpec {
  type: FieldType;
  optional?: boolean;
  doc: string;
}
export interface CommandSpec {
  op: string;
  label: string;
  group: 'uAPI' | 'eventfd' | 'KVM' | 'device' | 'guest' | 'IOMMU';
  doc: string;
  fields: Record<string, FieldSpec>;
  run: (e: Engine, c: Args) => Json | void;
}

/** A command's fields after checking, typed by what the spec says. */
export interface Args {
  [k: string]: Json | undefined;
}
const int = (c: Args, k: string, d = 0): number => (c[k] === undefined ? d : (c[k] as number));
const str = (c: Args, k: string): string => c[k] as string;

const F = {
  device: { type: 'device', doc: 'device name from the topology' } as FieldSpec,
  vector: { type: 'int', doc: 'MSI-X table entry' } as FieldSpec,
};

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
    label: 'VFIO_DEVICE_GET_IRQ_INFO',
    group: 'uAPI',
    doc: 'struct vfio_irq_info { argsz, flags, index, count }',
    fields: {
      device: F.device,
      index: { type: 'index', doc: 'INTX MSI MSIX ERR REQ or a number' },
      argsz: { type: 'int', optional: true, doc: 'default 16' },
    },
    run: (e, c) => vfioGetIrqInfo(e, target(e, c), c.index as number, int(c, 'argsz', 16)),
  },
  {
    op: 'vfio.setIrqs',
    label: 'VFIO_DEVICE_SET_IRQS',
    group: 'uAPI',
    doc: 'struct vfio_irq_set { argsz, flags, index, start, count, data[] }',
    fields: {
      device: F.device,
      flags: { type: 'flags', doc: 'e.g. EVENTFD|TRIGGER, or a number' },
      index: { type: 'index', doc: 'INTX MSI MSIX ERR REQ or a number' },
      start: { type: 'int', doc: 'first vector' },
      count: { type: 'int', doc: 'number of vectors' },
      data: { type: 'ints', optional: true, doc: 'eventfd fds (-1 de-assigns) or bool bytes' },
      argsz: { type: 'int', optional: true, doc: 'default: header + the data given' },
    },
    run: (e, c) => {
      const flags = c.flags as number;
      const data = (c.data as number[] | undefined) ?? [];
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
    op: 'eventfd.create',
    label: 'eventfd()',
    group: 'eventfd',
    doc: 'creates an eventfd; returns its fd',
    fields: {},
    run: (e) => eventfdCreate(e).fd,
  },
  {
    op: 'eventfd.read',
    label: 'read(eventfd)',
    group: 'eventfd',
    doc: 'reads and resets the counter',
    fields: { fd: { type: 'int', doc: 'eventfd' } },
    run: (e, c) => eventfdRead(e, int(c, 'fd')),
  },
  {
    op: 'eventfd.signal',
    label: 'write(eventfd, 1)',
    group: 'eventfd',
    doc: 'user space signals an eventfd (e.g. an unmask eventfd)',
    fields: { fd: { type: 'int', doc: 'eventfd' } },
    run: (e, c) => {
      const efd = eventfdCtxFdget(e, int(c, 'fd'));
      const irq = e.newIrq('user', 'emulated');
      eventfdSignal(e, irq, efd.fd, 'vmm');
      return irq;
    },
  },
  {
    op: 'kvm.irqfd',
    label: 'KVM_IRQFD',
    group: 'KVM',
    doc: 'binds (or with deassign, unbinds) an eventfd to a GSI',
    fields: {
      fd: { type: 'int', doc: 'eventfd' },
      gsi: { type: 'int', doc: 'GSI' },
      deassign: { type: 'bool', optional: true, doc: 'KVM_IRQFD_FLAG_DEASSIGN' },
    },
    run: (e, c) =>
      c.deassign
        ? kvmIrqfdDeassign(e, int(c, 'fd'), int(c, 'gsi'))
        : kvmIrqfdAssign(e, int(c, 'fd'), int(c, 'gsi')),
  },
  {
    op: 'kvm.route',
    label: 'KVM_SET_GSI_ROUTING (one MSI entry)',
    group: 'KVM',
    doc: 'maps a GSI to an MSI address/data',
    fields: {
      gsi: { type: 'int', doc: 'GSI' },
      address_lo: { type: 'int', doc: 'e.g. 0xfee00000 | apic_id << 12' },
      address_hi: { type: 'int', optional: true, doc: 'default 0' },
      data: { type: 'int', doc: 'guest vector in bits 7:0' },
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
    label: 'vCPU state',
    group: 'KVM',
    doc: 'running, halted (HLT: blocked) or preempted (descheduled by the host)',
    fields: {
      vcpu: { type: 'int', doc: 'vCPU id' },
      state: { type: 'vcpu-state', doc: 'running | halted | preempted' },
    },
    run: (e, c) => {
      const v = e.state.kvm.vcpus[int(c, 'vcpu')];
      if (!v) raise('EINVAL', `vCPU ${int(c, 'vcpu')} does not exist`, 'vcpu');
      return vcpuSetState(e, v, c.state as Vcpu['state']);
    },
  },
  {
    op: 'device.raise',
    label: 'device raises a vector',
    group: 'device',
    doc: 'the hardware fires MSI-X/MSI vector (or INTx), or an IMS entry with `ims`; `count` repeats it',
    fields: {
      device: F.device,
      vector: { type: 'int', optional: true, doc: 'MSI-X/MSI vector (default 0)' },
      ims: { type: 'int', optional: true, doc: 'IMS entry index instead of a vector' },
      count: { type: 'int', optional: true, doc: 'how many interrupts (default 1)' },
    },
    run: (e, c) => {
      const name = str(c, 'device');
      const dev = pciDevice(e, c);
      const n = int(c, 'count', 1);
      if (n < 1 || n > 1_000_000) raise('EINVAL', `count ${n} is outside 1..1000000`, 'count');
      const ims = c.ims as number | undefined;
      if (ims !== undefined && (!dev.ims || ims < 0 || ims >= dev.ims.size))
        raise(
          'EINVAL',
          dev.ims ? `IMS entry ${ims} is past ${name}'s ${dev.ims.size} entries` : `${name} has no IMS`,
          'ims',
        );
      const di = e.deviceOrdinal(name);
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        const irq = e.newIrq(`dev:${name}`, 'direct');
        ids.push(irq);
        if (ims !== undefined) e.schedule(0, EV_IMS_RAISE, irq, di, ims);
        else e.schedule(0, EV_DEV_RAISE, irq, di, int(c, 'vector'));
      }
      return n === 1 ? ids[0] : { first: ids[0], count: n };
    },
  },
  {
    op: 'device.msixWrite',
    label: 'write the physical MSI-X table',
    group: 'device',
    doc: "a raw write into the function's table (what a buggy host driver or a backdoor reset does)",
    fields: {
      device: F.device,
      offset: { type: 'int', doc: 'byte offset in the table (16 bytes per entry)' },
      value: { type: 'int', doc: 'dword value' },
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
    op: 'device.ack',
    label: 'driver acknowledges INTx',
    group: 'device',
    doc: 'the device driver services the device: its INTx condition (Interrupt Status) clears and the pin deasserts',
    fields: { device: F.device },
    run: (e, c) => {
      const dev = pciDevice(e, c);
      intxDeassert(e, dev);
    },
  },
  {
    op: 'iommu.irtePresent',
    label: 'IRTE present bit',
    group: 'IOMMU',
    doc: 'clear or set the present bit of an interrupt remapping entry',
    fields: { index: { type: 'int', doc: 'IRTE index' }, present: { type: 'bool', doc: 'present' } },
    run: (e, c) => {
      const irte = e.state.iommu.irte[int(c, 'index')];
      if (!irte) raise('EINVAL', `IRTE ${int(c, 'index')} is not allocated`, 'index');
      irte.present = c.present as boolean;
    },
  },
  {
    op: 'guest.msixEnable',
    label: 'guest: MSI-X Enable',
    group: 'guest',
    doc: 'the guest sets or clears MSI-X Enable in the virtual config space',
    fields: { device: F.device, enable: { type: 'bool', optional: true, doc: 'default true' } },
    run: (e, c) => guestMsixEnable(e, str(c, 'device'), c.enable !== false),
  },
  {
    op: 'guest.program',
    label: 'guest: program an MSI-X entry',
    group: 'guest',
    doc: 'address = destination vCPU APIC id, data = guest vector',
    fields: {
      device: F.device,
      vector: F.vector,
      guest_vector: { type: 'int', doc: 'guest IDT vector' },
      vcpu: { type: 'int', optional: true, doc: 'destination vCPU (default 0)' },
    },
    run: (e, c) =>
      guestProgram(e, str(c, 'device'), int(c, 'vector'), int(c, 'guest_vector'), int(c, 'vcpu')),
  },
  {
    op: 'guest.unmask',
    label: 'guest: unmask an MSI-X entry',
    group: 'guest',
    doc: 'clears the mask bit of a virtual table entry',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => guestSetMask(e, str(c, 'device'), int(c, 'vector'), false),
  },
  {
    op: 'guest.mask',
    label: 'guest: mask an MSI-X entry',
    group: 'guest',
    doc: 'sets the mask bit of a virtual table entry',
    fields: { device: F.device, vector: F.vector },
    run: (e, c) => guestSetMask(e, str(c, 'device'), int(c, 'vector'), true),
  },
  {
    op: 'guest.functionMask',
    label: 'guest: Function Mask',
    group: 'guest',
    doc: 'sets or clears MSI-X Function Mask in the virtual config space',
    fields: { device: F.device, masked: { type: 'bool', doc: 'Function Mask' } },
    run: (e, c) => guestFunctionMask(e, str(c, 'device'), c.masked as boolean),
  },
  {
    op: 'guest.submit',
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
    label: 'guest: write an emulated register (intercepted path)',
    group: 'guest',
    doc: 'e.g. offset 0xa0 (IDXD_CMD_OFFSET), value 0x80100000 = ENABLE_DEVICE with INT_REQ',
    fields: {
      device: F.device,
      offset: { type: 'int', doc: 'BAR0 offset' },
      value: { type: 'int', doc: 'dword value' },
    },
    run: (e, c) => guestMmioWrite(e, str(c, 'device'), int(c, 'offset'), int(c, 'value') >>> 0),
  },
];

export const COMMAND_BY_OP: Record<string, CommandSpec> = Object.fromEntries(COMMANDS.map((s) => [s.op, s]));

/** Checks a command's fields against its spec; returns normalized args or raises EINVAL naming the field. */
const FIELD_LISTS = new WeakMap<CommandSpec, [string, FieldSpec][]>();

export function checkArgs(e: Engine, spec: CommandSpec, cmd: Command): Args {
  const out: Args = {};
  for (const key in cmd) {
    if (key !== 'op' && !Object.hasOwn(spec.fields, key))
      raise('EINVAL', `${spec.op} has no field '${key}'`, key);
  }
  let fields = FIELD_LISTS.get(spec);
  if (!fields) FIELD_LISTS.set(spec, (fields = Object.entries(spec.fields)));
  for (const [key, f] of fields) {
    const v = cmd[key];
    if (v === undefined || v === null) {
      if (!f.optional) raise('EINVAL', `${spec.op} needs '${key}' (${f.doc})`, key);
      continue;
    }
    out[key] = checkField(e, key, f, v);
  }
  return out;
}

const U32 = 0xffffffff;
function bad(key: string, what: string): never {
  return raise('EINVAL', `'${key}' must be ${what}`, key);
}

function checkField(e: Engine, key: string, f: FieldSpec, v: Json): Json {
  switch (f.type) {
    case 'device':
      if (typeof v !== 'string') return bad(key, 'a device name');
      if (!(v in e.state.devices) && !(v in e.state.vdevs)) raise('ENODEV', `no device named '${v}'`, key);
      return v;
    case 'int': {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -0x80000000 || n > U32) bad(key, 'an integer');
      return n;
    }
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
      if (n === null || n < 0 || n > U32) bad(key, 'INTX, MSI, MSIX, ERR, REQ or a number');
      return n;
    }
    case 'ints':
      if (
        !Array.isArray(v) ||
        v.length > 4096 ||
        !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= -0x80000000 && x <= U32)
      )
        bad(key, 'an array of at most 4096 integers');
      return v;
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
