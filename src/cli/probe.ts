// `irqflow probe`: runs a vfio-probe script (oracle/vfio-probe.c documents the format) against the engine
// and prints the same JSON lines the real kernel gives through the oracle, so the two can be diffed.
// Parsing follows the C probe to the letter (strtoul/strtol/atoi semantics, the 16 eventfds e0..e15).

import {
  createSystem,
  type Command,
  type KernelProfile,
  type PciDeviceTopology,
  type Topology,
} from '../engine/index.ts';

/** 0x hex with 2 digits per byte, as vfio-probe prints values. */
const hex = (v: number, bytes: number): string => `0x${(v >>> 0).toString(16).padStart(bytes * 2, '0')}`;

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
      topology: {
        name: 'dev0',
        bdf: '0000:00:02.0',
        vendor: 0x8086,
        device: 0x10d3,
        pcie: true,
        intx_pin: 1,
        // QEMU's e1000e: MSI-X capability at 0xa0 (table in BAR3 at 0, PBA at 0x2000), MSI at 0xd0
        // (64-bit, no per-vector mask); SeaBIOS leaves I/O and Memory Space on, the kernel SERR#
        msix: { table_size: 5, cap: 0xa0, table_bir: 3, table_offset: 0, pba_bir: 3, pba_offset: 0x2000 },
        msi: { vectors: 1, cap: 0xd0, addr64: true },
        command: 0x0103,
        model: 'e1000e',
      },
    };
  const m = /^virtio-net-pci,vectors=(\d+)$/.exec(spec);
  if (m) {
    const n = Number(m[1]);
    if (n < 1 || n > 2048) return `virtio-net-pci vectors=${n}: MSI-X needs 1..2048 vectors`;
    return {
      label: spec,
      topology: {
        name: 'dev0',
        bdf: '0000:00:02.0',
        vendor: 0x1af4,
        device: 0x1041,
        pcie: false,
        intx_pin: 1,
        msix: { table_size: n },
        msi: null,
      },
    };
  }
  return `unsupported device '${spec}': irqflow models e1000e and virtio-net-pci,vectors=N`;
}

// Word parsing, as oracle/vfio-probe.c does it (that file's header is the contract for both).

/** A whole word as a number that fits 32 bits, signed or unsigned (decimal, 0x hex, 0 octal); else null. */
export function parseInt32(word: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(word);
  if (!m) return null;
  const body = m[2];
  let n = /^0[xX]/.test(body)
    ? parseInt(body.slice(2), 16)
    : body.startsWith('0') && body.length > 1
      ? parseInt(body, 8)
      : parseInt(body, 10);
  if (m[1] === '-') n = -n;
  return n < -0x80000000 || n > 0xffffffff ? null : n;
}

function parseU32(word: string): number | null {
  const n = parseInt32(word);
  return n === null || n < 0 ? null : n;
}

const INDEX: Record<string, number> = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4 };
const FLAG: Record<string, number> = { NONE: 1, BOOL: 2, EVENTFD: 4, MASK: 8, UNMASK: 16, TRIGGER: 32 };

function parseIndex(word: string): number | null {
  return Object.hasOwn(INDEX, word) ? INDEX[word] : parseU32(word);
}

function parseFlags(word: string): number | null {
  if (word === '' || word.endsWith('|') || word.length >= 256) return null;
  let f = 0;
  for (const part of word.split('|').filter((x) => x !== '')) {
    const bit = Object.hasOwn(FLAG, part) ? FLAG[part] : parseU32(part);
    if (bit === null) return null;
    f |= bit;
  }
  return f >>> 0;
}

function parseEventfdRef(word: string): number | null {
  if (word[0] !== 'e') return null;
  const n = parseInt32(word.slice(1));
  return n === null || n < 0 || n >= 16 ? null : n;
}

// As oracle/vfio-probe.c's print_label: quote and backslash escaped, control characters as \u00XX, so a
// label is always valid JSON.
function jsonLabel(label: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return label.replace(/["\\\x00-\x1f\x7f]/g, (c) =>
    c === '"' || c === '\\' ? '\\' + c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// oracle/vfio-probe.c: errno_names; any other errno prints EUNKNOWN.
const KNOWN_ERRNO = new Set([
  'EPERM',
  'ENOENT',
  'EINTR',
  'EIO',
  'ENXIO',
  'E2BIG',
  'EBADF',
  'EAGAIN',
  'ENOMEM',
  'EACCES',
  'EFAULT',
  'EBUSY',
  'EEXIST',
  'ENODEV',
  'EINVAL',
  'ENOTTY',
  'ENOSPC',
  'ERANGE',
  'ENOSYS',
  'EOPNOTSUPP',
]);
const DATA_MAX = 8192;
const MAX_WORDS = 300;

export interface ProbeOptions {
  kernel: KernelProfile;
  device: string;
}

/** Runs a whole script; returns the JSON lines (the first names the modelled kernel and device). */
export function probeScript(script: string, opts: ProbeOptions): string[] {
  const dev = probeDevice(opts.device);
  if (typeof dev === 'string') throw new Error(dev);
  const topology: Topology = {
    profile: opts.kernel,
    iommu: { interrupt_remapping: true },
    devices: [dev.topology],
  };
  const sys = createSystem(topology);
  const efd: number[] = [];
  for (let i = 0; i < 16; i++) {
    const r = sys.apply({ op: 'eventfd.create' });
    efd.push(r.ok ? (r.value as number) : -1);
  }
  const out = [
    `{"op":"kernel","release":"irqflow model of Linux ${opts.kernel}","device":"${dev.label}","bdf":"${dev.topology.bdf}"}`,
  ];
  const errname = (r: { ok: boolean; errno?: string }): string =>
    r.ok ? 'OK' : KNOWN_ERRNO.has(r.errno!) ? r.errno! : 'EUNKNOWN';
  const result = (ret: number, r: { ok: boolean; errno?: string } | undefined): string =>
    `"ret":${ret},"errno":"${r && !r.ok ? errname(r) : 'OK'}"`;
  // vfio-probe waits 20 ms after an access that makes the device fire: here, run the engine to idle
  const settle = (): void => {
    sys.apply({ op: 'run' });
  };
  const notModelled = (label: string, message: string): true => {
    out.push(
      `{"op":"error","label":"${jsonLabel(label)}","message":"irqflow does not model this: ${jsonLabel(message)}"}`,
    );
    return true;
  };
  const run = (w: string[]): boolean => {
    const [op, label] = w;
    if (op === 'info') {
      if (w.length < 3 || w.length > 4) return false;
      const index = parseIndex(w[2]);
      const argsz = w.length === 4 ? parseU32(w[3]) : 16;
      if (index === null || argsz === null) return false;
      const r = sys.apply({ op: 'vfio.getIrqInfo', device: 'dev0', index, argsz });
      const v = r.ok ? (r.value as { flags: number; count: number }) : { flags: 0, count: 0 };
      out.push(
        `{"op":"info","label":"${jsonLabel(label)}","ret":${r.ok ? 0 : -1},"errno":"${errname(r)}","flags":${v.flags},"count":${v.count}}`,
      );
      return true;
    }
    if (op === 'set') {
      if (w.length < 6) return false;
      const flags = parseFlags(w[2]);
      const index = parseIndex(w[3]);
      const start = parseU32(w[4]);
      const count = parseU32(w[5]);
      if (flags === null || index === null || start === null || count === null) return false;
      const bytes: number[] = [];
      let delta = 0;
      let exact = -1;
      for (const a of w.slice(6)) {
        if (a.startsWith('argsz=')) {
          const v = parseInt32(a.slice(6));
          if (v === null) return false;
          if (a[6] === '+' || a[6] === '-') delta = v;
          else exact = v;
        } else if (a[0] === 'b') {
          const v = parseInt32(a.slice(1));
          if (v === null || v < 0 || v > 255 || bytes.length + 1 > DATA_MAX) return false;
          bytes.push(v);
        } else {
          const e = parseEventfdRef(a);
          const v = e !== null ? efd[e] : parseInt32(a);
          if (v === null || bytes.length + 4 > DATA_MAX) return false;
          bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
        }
      }
      const argsz = (exact >= 0 ? exact : 20 + bytes.length + delta) >>> 0;
      // The kernel copies count elements of the data type; past the data given, the buffer is zero.
      const n = Math.min(count, 2048); // no index has more than 2048 vectors: validation rejects larger counts
      const data: number[] = [];
      const byte = (i: number): number => bytes[i] ?? 0;
      if (flags & 4)
        for (let i = 0; i < n; i++)
          data.push(
            byte(4 * i) | (byte(4 * i + 1) << 8) | (byte(4 * i + 2) << 16) | (byte(4 * i + 3) << 24) | 0,
          );
      else if (flags & 2) for (let i = 0; i < n; i++) data.push(byte(i));
      const r = sys.apply({ op: 'vfio.setIrqs', device: 'dev0', flags, index, start, count, data, argsz });
      settle();
      const ret = r.ok ? ((r.value as number | undefined) ?? 0) : -1;
      out.push(`{"op":"set","label":"${jsonLabel(label)}","ret":${ret},"errno":"${errname(r)}"}`);
      return true;
    }
    if (op === 'setup') {
      if (w.length !== 2) return false;
      const before = sys.apply({ op: 'vfio.configRead', device: 'dev0', offset: 4, size: 2 });
      const v = before.ok ? (before.value as number) : 0;
      const wr = sys.apply({ op: 'vfio.configWrite', device: 'dev0', offset: 4, size: 2, value: v | 6 });
      const after = sys.apply({ op: 'vfio.configRead', device: 'dev0', offset: 4, size: 2 });
      const bad = [before, wr, after].find((r) => !r.ok);
      if (bad && !bad.ok && bad.tool) return notModelled(label, bad.message);
      out.push(
        `{"op":"setup","label":"${jsonLabel(label)}",${result(bad ? -1 : 0, bad)},"command_before":"${hex(v, 2)}","command_after":"${hex(after.ok ? (after.value as number) : 0, 2)}"}`,
      );
      return true;
    }
    if (op === 'raise' || op === 'ack') {
      const cause = op === 'raise' && w.length === 3 ? parseU32(w[2]) : null;
      if (op === 'raise' ? w.length !== 3 || cause === null || cause > 4 : w.length !== 2) return false;
      // oracle/vfio-probe.c run_raise / run_ack: e1000e's registers through BAR0, stopping at a failure
      const bit = (1 << (20 + (cause ?? 0))) >>> 0;
      const seq: Command[] =
        op === 'raise'
          ? [
              { op: 'vfio.barWrite', device: 'dev0', bar: 0, offset: 0xe4, value: 0x000cba98 },
              { op: 'vfio.barWrite', device: 'dev0', bar: 0, offset: 0xd8, value: 0xffffffff },
              { op: 'vfio.barRead', device: 'dev0', bar: 0, offset: 0xc0 },
              { op: 'vfio.barWrite', device: 'dev0', bar: 0, offset: 0xd0, value: bit },
              { op: 'vfio.barWrite', device: 'dev0', bar: 0, offset: 0xc8, value: bit },
            ]
          : [
              { op: 'vfio.barRead', device: 'dev0', bar: 0, offset: 0xc0 },
              { op: 'vfio.barWrite', device: 'dev0', bar: 0, offset: 0xc0, value: 0xffffffff },
            ];
      let bad: ReturnType<typeof sys.apply> | undefined;
      for (const c of seq) {
        const r = sys.apply(c);
        if (!r.ok) {
          if (r.tool) return notModelled(label, r.message);
          bad = r;
          break;
        }
      }
      settle();
      const tail = op === 'raise' ? `,"vector":${cause}` : '';
      out.push(`{"op":"${op}","label":"${jsonLabel(label)}",${result(bad ? -1 : 0, bad)}${tail}}`);
      return true;
    }
    if (op === 'signal') {
      const e = w.length === 3 ? parseEventfdRef(w[2]) : null;
      if (e === null) return false;
      sys.apply({ op: 'eventfd.signal', fd: efd[e] });
      settle();
      out.push(`{"op":"signal","label":"${jsonLabel(label)}"}`);
      return true;
    }
    if (op === 'sleep') {
      if (w.length !== 3 || parseU32(w[2]) === null) return false;
      settle();
      out.push(`{"op":"sleep","label":"${jsonLabel(label)}"}`);
      return true;
    }
    if (op === 'cfgr' || op === 'cfgw') {
      const write = op === 'cfgw';
      if (w.length !== (write ? 5 : 4)) return false;
      const off = parseU32(w[2]);
      const size = parseU32(w[3]);
      const val = write ? parseU32(w[4]) : 0;
      if (off === null || size === null || val === null || ![1, 2, 4].includes(size)) return false;
      if (write && size < 4 && val >= 2 ** (8 * size)) return false;
      const r = write
        ? sys.apply({ op: 'vfio.configWrite', device: 'dev0', offset: off, size, value: val })
        : sys.apply({ op: 'vfio.configRead', device: 'dev0', offset: off, size });
      if (!r.ok && r.tool) return notModelled(label, r.message);
      settle();
      const shown = write ? val : r.ok ? (r.value as number) : 0;
      out.push(
        `{"op":"${op}","label":"${jsonLabel(label)}",${result(r.ok ? size : -1, r)},"offset":"0x${off.toString(16)}","value":"${hex(shown, size)}"}`,
      );
      return true;
    }
    if (op === 'barr' || op === 'barw') {
      const write = op === 'barw';
      if (w.length !== (write ? 5 : 4)) return false;
      const bar = parseU32(w[2]);
      const off = parseU32(w[3]);
      const val = write ? parseU32(w[4]) : 0;
      if (bar === null || bar > 5 || off === null || val === null) return false;
      const r = write
        ? sys.apply({ op: 'vfio.barWrite', device: 'dev0', bar, offset: off, value: val })
        : sys.apply({ op: 'vfio.barRead', device: 'dev0', bar, offset: off });
      if (!r.ok && r.tool) return notModelled(label, r.message);
      settle();
      const shown = write ? val : r.ok ? (r.value as number) : 0;
      out.push(
        `{"op":"${op}","label":"${jsonLabel(label)}",${result(r.ok ? 4 : -1, r)},"bar":${bar},"offset":"0x${off.toString(16)}","value":"${hex(shown, 4)}"}`,
      );
      return true;
    }
    // What the hardware holds behind VFIO's back: the engine's device and host state.
    if (op === 'msix') {
      const dev = sys.engine.state.devices.dev0;
      const vec = w.length === 3 ? parseU32(w[2]) : null;
      if (vec === null || !dev.msix || vec >= dev.msix.table_size) return false;
      const m = dev.msix;
      const x = m.table[vec];
      out.push(
        `{"op":"msix","label":"${jsonLabel(label)}","vector":${vec},"masked":${(x.vector_ctrl & 1) === 1},"pending":${m.pba[vec]},"msg_zero":${!x.addr_lo && !x.addr_hi && !x.data},"enabled":${m.enable},"fmask":${m.function_mask}}`,
      );
      return true;
    }
    if (op === 'intx') {
      if (w.length !== 2) return false;
      const dev = sys.engine.state.devices.dev0;
      out.push(
        `{"op":"intx","label":"${jsonLabel(label)}","disintx":${(dev.command & 0x400) !== 0},"status_intx":${(dev.status & 8) !== 0}}`,
      );
      return true;
    }
    if (op === 'hostirq') {
      if (w.length !== 2) return false;
      // /proc/interrupts lists a descriptor by its action's name: vfio-msix[3](0000:00:02.0)
      const irqs = Object.values(sys.engine.state.host.irqs)
        .filter((h) => h.action?.startsWith('vfio-'))
        .map((h) => {
          const name = h.action!.replace(/\(.*$/, '');
          const br = /\[(\d+)\]/.exec(name);
          return { name, index: br ? Number(br[1]) : -1, count: h.count };
        })
        .sort((a, b) => a.index - b.index || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      out.push(
        `{"op":"hostirq","label":"${jsonLabel(label)}","irqs":{${irqs.map((h) => `"${h.name}":${h.count}`).join(',')}}}`,
      );
      return true;
    }
    if (op === 'read') {
      const e = w.length === 3 ? parseEventfdRef(w[2]) : null;
      if (e === null) return false;
      const r = sys.apply({ op: 'eventfd.read', fd: efd[e] });
      out.push(`{"op":"read","label":"${jsonLabel(label)}","signals":${r.ok ? (r.value as number) : 0}}`);
      return true;
    }
    return false;
  };
  for (const raw of script.split('\n')) {
    const line = raw.includes('#') ? raw.slice(0, raw.indexOf('#')) : raw;
    const w = line.split(/[ \t\r\n]+/).filter((x) => x !== '');
    if (w.length === 0) continue;
    const done = w.length <= MAX_WORDS && run(w);
    if (!done)
      out.push(`{"op":"error","label":"${jsonLabel(w[1] ?? '')}","message":"cannot parse this line"}`);
  }
  return out;
}
