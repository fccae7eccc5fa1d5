// `irqflow probe`: runs a vfio-probe script (oracle/vfio-probe.c documents the format) against the engine
// and prints the same JSON lines the real kernel gives through the oracle, so the two can be diffed.
// Parsing follows the C probe to the letter (strtoul/strtol/atoi semantics, the 16 eventfds e0..e15).

import { createSystem, type KernelProfile, type PciDeviceTopology, type Topology } from '../engine/index.ts';

export interface ProbeDevice {
  /** The name the oracle prints: `e1000e` or `virtio-net-pci,vectors=N`. */
  label: string;
  topology: PciDeviceTopology;
}

/** The QEMU devices the oracle boots, as the real kernel sees them. */
export function probeDevice(spec: string): ProbeDevice | string {
  if (spec === 'e1000e')
    return {
      label: 'e1000e',
      topology: { name: 'dev0', bdf: '0000:00:02.0', vendor: 0x8086, device: 0x10d3, pcie: true, intx_pin: 1, msix: { table_size: 5 }, msi: { vectors: 1 } },
    };
  const m = /^virtio-net-pci,vectors=(\d+)$/.exec(spec);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > 2048) return `virtio-net-pci vectors=${n}: MSI-X needs 1..2048 vectors`;
    return {
      label: spec,
      topology: { name: 'dev0', bdf: '0000:00:02.0', vendor: 0x1af4, device: 0x1041, pcie: false, intx_pin: 1, msix: { table_size: n }, msi: null },
    };
  }
  return `unsupported device '${spec}': irqflow models e1000e and virtio-net-pci,vectors=N`;
}

/** strtoul(s, NULL, 0) truncated to 32 bits: the longest numeric prefix, 0 when there is none. */
export function strtoul(s: string): number {
  return strtol(s) >>> 0;
}

export function strtol(s: string): number {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (!m) return 0;
  const body = m[2];
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (body.startsWith('0')) n = body.length > 1 ? parseInt(body, 8) : 0;
  else n = parseInt(body, 10);
  // strtol saturates at LONG_MAX; values this large only ever reach a uint32 field, so wrap like C.
  n = m[1] === '-' ? -n : n;
  return n;
}

function atoi(s: string): number {
  const m = /^\s*[+-]?\d+/.exec(s);
  return m ? parseInt(m[0], 10) : 0;
}

const INDEX: Record<string, number> = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 };
const FLAG: Record<string, number> = { NONE: 1, BOOL: 2, EVENTFD: 4, MASK: 8, UNMASK: 16, TRIGGER: 32 };

function parseIndex(s: string): number {
  return s in INDEX ? INDEX[s] : strtoul(s);
}
function parseFlags(s: string): number {
  let f = 0;
  for (const t of s.split('|').filter((x) => x !== '')) f |= t in FLAG ? FLAG[t] : strtoul(t);
  return f >>> 0;
}

// The errnos oracle/vfio-probe.c's errname knows; any other prints EUNKNOWN.
const KNOWN_ERRNO = new Set(['EINVAL', 'ENOTTY', 'EBADF', 'ENODEV', 'EBUSY', 'ENOMEM', 'ENOSPC', 'EFAULT', 'EPERM', 'EOPNOTSUPP', 'ERANGE']);

export interface ProbeOptions {
  kernel: KernelProfile;
  device: string;
}

/** Runs a whole script; returns the JSON lines (the first names the modelled kernel and device). */
export function probeScript(script: string, opts: ProbeOptions): string[] {
  const dev = probeDevice(opts.device);
  if (typeof dev === 'string') throw new Error(dev);
  const topology: Topology = { profile: opts.kernel, iommu: { interrupt_remapping: true }, devices: [dev.topology] };
  const sys = createSystem(topology);
  const efd: number[] = [];
  for (let i = 0; i < 16; i++) {
    const r = sys.apply({ op: 'eventfd.create' });
    efd.push(r.ok ? (r.value as number) : -1);
  }
  const out = [`{"op":"kernel","release":"irqflow model of Linux ${opts.kernel}","device":"${dev.label}","bdf":"${dev.topology.bdf}"}`];
  const errname = (r: { ok: boolean; errno?: string }): string => (r.ok ? 'OK' : KNOWN_ERRNO.has(r.errno!) ? r.errno! : 'EUNKNOWN');
  for (const raw of script.split('\n')) {
    const line = raw.includes('#') ? raw.slice(0, raw.indexOf('#')) : raw;
    const w = line.split(/[ \t\r\n]+/).filter((x) => x !== '').slice(0, 80);
    if (w.length < 2) continue;
    const [op, label] = w;
    const a = w.slice(2);
    if (op === 'info' && w.length >= 3) {
      const argsz = a.length > 1 ? strtoul(a[1]) : 16;
      const r = sys.apply({ op: 'vfio.getIrqInfo', device: 'dev0', index: parseIndex(a[0]), argsz });
      const v = r.ok ? (r.value as { flags: number; count: number }) : { flags: 0, count: 0 };
      out.push(`{"op":"info","label":"${label}","ret":${r.ok ? 0 : -1},"errno":"${errname(r)}","flags":${v.flags},"count":${v.count}}`);
    } else if (op === 'set' && w.length >= 6) {
      const bytes: number[] = [];
      let adj = 0;
      let exact = -1;
      for (const t of a.slice(4)) {
        if (t.startsWith('argsz=')) {
          if (t[6] === '+' || t[6] === '-') adj = strtol(t.slice(6));
          else exact = strtol(t.slice(6)) | 0;
        } else if (t[0] === 'b') bytes.push(strtoul(t.slice(1)) & 0xff);
        else {
          const v = t[0] === 'e' ? efd[atoi(t.slice(1)) & 15] : strtol(t) | 0;
          bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
        }
      }
      const flags = parseFlags(a[0]);
      const count = strtoul(a[3]);
      const argsz = (exact >= 0 ? exact : 20 + bytes.length + adj) >>> 0;
      // The kernel copies count elements of the data type; past what the script gave, the probe's buffer is zero.
      const n = Math.min(count, 4096);
      const data: number[] = [];
      if (flags & 4) for (let i = 0; i < n; i++) data.push(((bytes[4 * i] ?? 0) | ((bytes[4 * i + 1] ?? 0) << 8) | ((bytes[4 * i + 2] ?? 0) << 16) | ((bytes[4 * i + 3] ?? 0) << 24)) | 0);
      else if (flags & 2) for (let i = 0; i < n; i++) data.push(bytes[i] ?? 0);
      const r = sys.apply({ op: 'vfio.setIrqs', device: 'dev0', flags, index: parseIndex(a[1]), start: strtoul(a[2]), count, data, argsz });
      const ret = r.ok ? ((r.value as number | undefined) ?? 0) : -1;
      out.push(`{"op":"set","label":"${label}","ret":${ret},"errno":"${errname(r)}"}`);
    } else if (op === 'read' && w.length >= 3) {
      const r = sys.apply({ op: 'eventfd.read', fd: efd[atoi(a[0].slice(1)) & 15] });
      out.push(`{"op":"read","label":"${label}","signals":${r.ok ? (r.value as number) : 0}}`);
    } else {
      out.push(`{"op":"error","label":"${label}","message":"cannot parse this line"}`);
    }
  }
  return out;
}
