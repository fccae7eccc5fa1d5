// `irqflow probe --kvm SCRIPT`: runs a kvm-probe script (oracle/kvm-probe.c's header is the format)
// against the engine's model of KVM (src/engine/linux/arch/x86/kvm/uapi.ts) and prints the JSON lines the real KVM
// gives through the oracle, so the two can be diffed from line 2. Parsing follows the C probe to the
// letter (strtoll/strtoull with base 0, the 16 eventfds e0..e15 at fds 4..19, vCPUs 0-15 kept).

import { PROFILES } from '../engine/index.ts';
import {
  KvmErr,
  KvmProcess,
  KvmUnsupported,
  lapicRegs,
  MP_STATES,
  type RouteSpec,
} from '../engine/linux/arch/x86/kvm/uapi.ts';

export interface KvmProbeOptions {
  kernel: '6.1' | '6.12';
  /** MODULE.NAME=VALUE, as `--param` gives them (kvm.vector_hashing is the one modelled). */
  params?: string[];
}

const INT32_MIN = -0x80000000;
const UINT32_MAX = 0xffffffff;
const MAX_VCPUS = 16;
const MAX_WORDS = 300;

/** strtoll(word, &end, 0) over the whole word, within INT32_MIN..UINT32_MAX (parse_int). */
function parseInt32(word: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(word);
  if (!m) return null;
  const body = m[2];
  const v = /^0[xX]/.test(body)
    ? BigInt(body)
    : body.length > 1 && body[0] === '0'
      ? BigInt(`0o${body.slice(1)}`)
      : BigInt(body);
  const s = m[1] === '-' ? -v : v;
  if (s < BigInt(INT32_MIN) || s > BigInt(UINT32_MAX)) return null;
  return Number(s);
}
const parseU32 = (w: string): number | null => {
  const v = parseInt32(w);
  return v === null || v < 0 ? null : v;
};
/** strtoull over the whole word; no leading '-' (parse_u64). */
function parseU64(w: string): bigint | null {
  if (!w || w[0] === '-') return null;
  const m = /^[ \t\n\v\f\r]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(w);
  if (!m) return null;
  const b = m[1];
  const v = /^0[xX]/.test(b)
    ? BigInt(b)
    : b.length > 1 && b[0] === '0'
      ? BigInt(`0o${b.slice(1)}`)
      : BigInt(b);
  return v > (1n << 64n) - 1n ? null : v;
}
function parseEventfdRef(w: string): number | null {
  if (w[0] !== 'e') return null;
  const n = parseInt32(w.slice(1));
  return n === null || n < 0 || n >= 16 ? null : n;
}
function parseFd(w: string): number | null {
  const e = parseEventfdRef(w);
  if (e !== null) return e + 4;
  const v = parseInt32(w);
  return v !== null && v <= 0x7fffffff ? v : null;
}

const LAPIC_REGS: Record<string, number> = {
  id: 0x20,
  tpr: 0x80,
  ldr: 0xd0,
  dfr: 0xe0,
  svr: 0xf0,
  esr: 0x280,
  icr: 0x300,
  icr2: 0x310,
  lvtt: 0x320,
  lvt0: 0x350,
  lvt1: 0x360,
  lvterr: 0x370,
};
const DLV: Record<string, number> = { fixed: 0, lowest: 1, smi: 2, nmi: 4, init: 5, startup: 6, extint: 7 };
/** KVM_CHECK_EXTENSION answers of the modelled KVM (x86, kvm_vm_ioctl_check_extension). */
const CAPS: Record<string, [number, number]> = {
  // name: [number, answer]
  irqchip: [0, 1],
  hlt: [1, 1],
  user_memory: [3, 1],
  set_tss_addr: [4, 1],
  irq_routing: [25, 4096],
  irqfd: [32, 1],
  ioeventfd: [36, 1],
  vcpu_events: [41, 1],
  pit2: [33, 1],
  signal_msi: [77, 1],
  irqfd_resample: [82, 1],
  readonly_mem: [81, 1],
  split_irqchip: [121, 1],
  x2apic_api: [129, 3],
  msi_devid: [131, 0],
  immediate_exit: [136, 1],
  irq_inject_status: [26, 1],
};
/** Caps whose answer depends on the host (CPUs, limits): refused with a clear error. */
const HOST_CAPS: Record<string, number> = { nr_vcpus: 9, max_vcpus: 66, max_vcpu_id: 128 };

const hex = (v: number, digits: number): string => `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;
const vecs = (l: number[]): string[] => l.map((v) => hex(v, 2));

/** parse_msg: ADDR:DATA[:ADDR_HI] raw, or dest=,vec=,mode=,dlv=,trig=,assert=,rh= fields. */
function parseMsg(word: string): { lo: number; hi: number; data: number } | null {
  if (word.length >= 256) return null;
  if (!word.includes('=')) {
    const parts = word.split(':').filter((p) => p !== '');
    if (parts.length < 2 || parts.length > 3) return null;
    const lo = parseU32(parts[0]);
    const data = parseU32(parts[1]);
    const hi = parts.length === 3 ? parseU32(parts[2]) : 0;
    return lo === null || data === null || hi === null ? null : { lo, hi, data };
  }
  let dest = 0;
  let vec = 0;
  let logical = 0;
  let dlv = 0;
  let level = 0;
  let assert = 0;
  let rh = 0;
  for (const f of word.split(',').filter((p) => p !== '')) {
    const eq = f.indexOf('=');
    if (eq < 0) return null;
    const k = f.slice(0, eq);
    const val = f.slice(eq + 1);
    let x: number | null;
    if (k === 'dest') {
      if ((x = parseU32(val)) === null) return null;
      dest = x;
    } else if (k === 'vec') {
      if ((x = parseU32(val)) === null || x > 255) return null;
      vec = x;
    } else if (k === 'mode') {
      if (val === 'phys') logical = 0;
      else if (val === 'log') logical = 1;
      else return null;
    } else if (k === 'dlv') {
      if (val in DLV) dlv = DLV[val];
      else if ((x = parseU32(val)) === null || x > 7) return null;
      else dlv = x;
    } else if (k === 'trig') {
      if (val === 'edge') level = 0;
      else if (val === 'level') level = 1;
      else return null;
    } else if (k === 'assert') {
      if ((x = parseU32(val)) === null || x > 1) return null;
      assert = x;
    } else if (k === 'rh') {
      if ((x = parseU32(val)) === null || x > 1) return null;
      rh = x;
    } else return null;
  }
  return {
    lo: (0xfee00000 | ((dest & 0xff) << 12) | (rh << 3) | (logical << 2)) >>> 0,
    hi: (dest & 0xffffff00) >>> 0,
    data: (vec | (dlv << 8) | (assert << 14) | (level << 15)) >>> 0,
  };
}

function label(op: string, l: string): string {
  let s = '';
  for (const ch of l) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') s += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) s += `\\u${c.toString(16).padStart(4, '0')}`;
    else s += ch;
  }
  return `{"op":"${op}","label":"${s}"`;
}
const result = (ret: number, errno: string): string => `,"ret":${ret},"errno":"${ret < 0 ? errno : 'OK'}"`;

/** Runs one KVM script; returns the output lines (line 1 names the modelled kernel). */
export function probeKvmScript(text: string, opts: KvmProbeOptions): string[] {
  const params = [...(opts.params ?? [])];
  for (const line of text.split('\n').slice(0, 5)) {
    const m = /^# *params: *(.*)$/.exec(line);
    if (m) params.push(...m[1].split(/\s+/).filter(Boolean));
  }
  let hashing = true;
  for (const p of params) {
    const m = /^kvm\.vector_hashing=(.*)$/.exec(p);
    if (m) hashing = /^(1|y|Y)/.test(m[1]);
    else throw new Error(`module parameter ${p} is not modelled (only kvm.vector_hashing)`);
  }
  const proc = new KvmProcess(opts.kernel, hashing);
  const held = new Set<number>();
  const out: string[] = [
    `{"op":"kernel","release":"${PROFILES[opts.kernel].release}","cpu":"irqflow model","params":{"kvm":{"vector_hashing":"${hashing ? 'Y' : 'N'}"},"kvm_amd":{"avic":"N"}}}`,
  ];
  const parseVcpu = (w: string): number | null => {
    const id = parseU32(w);
    return id !== null && id < MAX_VCPUS && held.has(id) ? id : null;
  };
  const errOf = (err: unknown): string => {
    if (err instanceof KvmErr) return err.errno;
    throw err;
  };
  /** Runs a call; ret -1 and the errno on a KvmErr. */
  function call<T>(f: () => T): { ok: true; v: T } | { ok: false; errno: string } {
    try {
      return { ok: true, v: f() };
    } catch (err) {
      return { ok: false, errno: errOf(err) };
    }
  }
  const lapicLine = (op: string, lab: string, id: number, ret: number, errno: string): string => {
    const l = ret >= 0 ? proc.getLapic(id) : null;
    const r = l ? lapicRegs(l) : { id: 0, ldr: 0, dfr: 0, svr: 0, tpr: 0, apr: 0, ppr: 0 };
    return (
      `${label(op, lab)}${result(ret, errno)},"vcpu":${id},"id":"${hex(r.id, 8)}","ldr":"${hex(r.ldr, 8)}",` +
      `"dfr":"${hex(r.dfr, 8)}","svr":"${hex(r.svr, 8)}","tpr":"${hex(r.tpr, 2)}","apr":"${hex(r.apr, 2)}",` +
      `"ppr":"${hex(r.ppr, 2)}","irr":${JSON.stringify(l ? vecs(l.irr) : [])},"isr":${JSON.stringify(
        l ? vecs(l.isr) : [],
      )},"tmr":${JSON.stringify(l ? vecs(l.tmr) : [])}}`
    );
  };

  const ops: Record<string, (w: string[]) => string | null> = {
    vm(w) {
      const kind = w.length === 3 ? w[2] : 'irqchip';
      if (w.length < 2 || w.length > 3 || !['irqchip', 'split', 'none'].includes(kind)) return null;
      held.clear();
      proc.createVm(kind as 'irqchip' | 'split' | 'none');
      return `${label('vm', w[1])}${result(0, 'OK')}}`;
    },
    vcpu(w) {
      const id = w.length === 3 ? parseU32(w[2]) : null;
      if (id === null) return null;
      if (!proc.vm) return `${label('vcpu', w[1])}${result(-1, 'EBADF')}}`;
      const r = call(() => proc.createVcpu(id));
      if (r.ok) {
        if (id >= MAX_VCPUS || held.has(id)) proc.closeFd(r.v);
        else held.add(id);
      }
      return `${label('vcpu', w[1])}${r.ok ? result(0, 'OK') : result(-1, r.errno)}}`;
    },
    lapic(w) {
      const id = w.length === 3 ? parseVcpu(w[2]) : null;
      if (id === null) return null;
      const r = call(() => proc.getLapic(id));
      return lapicLine('lapic', w[1], id, r.ok ? 0 : -1, r.ok ? 'OK' : r.errno);
    },
    setlapic(w) {
      const id = w.length >= 4 ? parseVcpu(w[2]) : null;
      if (id === null) return null;
      const writes: [number, number][] = [];
      for (const word of w.slice(3)) {
        if (word.length >= 128) return null;
        const eq = word.indexOf('=');
        if (eq < 0) return null;
        const name = word.slice(0, eq);
        let off: number | null;
        if (name in LAPIC_REGS) off = LAPIC_REGS[name];
        else if (name.startsWith('0x') && (off = parseU32(name)) !== null && off < 0x400 && !(off & 3)) {
          /* an offset */
        } else return null;
        const val = parseU32(word.slice(eq + 1));
        if (val === null) return null;
        writes.push([off, val]);
      }
      const r = call(() => proc.setLapic(id, writes));
      return lapicLine('setlapic', w[1], id, r.ok ? 0 : -1, r.ok ? 'OK' : r.errno);
    },
    route(w) {
      if (w.length < 2) return null;
      const specs: RouteSpec[] = [];
      for (const word of w.slice(2)) {
        if (word.length >= 256) return null;
        const colon = word.indexOf(':');
        if (colon < 0) return null;
        const gsi = parseU32(word.slice(0, colon));
        const rest = word.slice(colon + 1);
        if (gsi === null) return null;
        if (rest.startsWith('ioapic:')) {
          const pin = parseU32(rest.slice(7));
          if (pin === null) return null;
          specs.push({ gsi, entry: { type: 'irqchip', chip: 2, pin } });
        } else if (rest.startsWith('pic:')) {
          const pin = parseU32(rest.slice(4));
          if (pin === null || pin > 15) return null;
          specs.push({ gsi, entry: { type: 'irqchip', chip: pin < 8 ? 0 : 1, pin: pin % 8 } });
        } else {
          const m = parseMsg(rest);
          if (!m) return null;
          specs.push({ gsi, entry: { type: 'msi', address_lo: m.lo, address_hi: m.hi, data: m.data } });
        }
      }
      const r = proc.vm ? call(() => proc.setGsiRouting(specs)) : { ok: false as const, errno: 'EBADF' };
      return `${label('route', w[1])}${r.ok ? result(0, 'OK') : result(-1, r.errno)},"entries":${specs.length}}`;
    },
    irqfd(w) {
      if (w.length < 4) return null;
      const fd = parseFd(w[2]);
      const gsi = parseU32(w[3]);
      if (fd === null || gsi === null) return null;
      let flags = 0;
      let resamplefd = 0;
      for (const word of w.slice(4)) {
        if (word === 'deassign') flags |= 1;
        else if (word.startsWith('resample=')) {
          const r = parseFd(word.slice(9));
          if (r === null) return null;
          resamplefd = r;
          flags |= 2;
        } else if (word.startsWith('flags=')) {
          const x = parseU32(word.slice(6));
          if (x === null) return null;
          flags = (flags | x) >>> 0;
        } else return null;
      }
      const r = proc.vm
        ? call(() => proc.irqfd(fd, gsi, flags, resamplefd))
        : { ok: false as const, errno: 'EBADF' };
      return `${label('irqfd', w[1])}${r.ok ? result(0, 'OK') : result(-1, r.errno)}}`;
    },
    signal(w) {
      if (w.length < 3 || w.length > 4) return null;
      const e = parseEventfdRef(w[2]);
      const v = w.length === 4 ? parseU64(w[3]) : 1n;
      if (e === null || v === null) return null;
      const r = call(() => proc.signal(e, v));
      return `${label('signal', w[1])}${r.ok ? result(r.v, 'OK') : result(-1, r.errno)}}`;
    },
    read(w) {
      const e = w.length === 3 ? parseEventfdRef(w[2]) : null;
      if (e === null) return null;
      const r = call(() => proc.read(e));
      return `${label('read', w[1])}${r.ok ? result(8, 'OK') : result(-1, r.errno)},"value":${r.ok ? r.v.toString() : 0}}`;
    },
    msi(w) {
      const m = w.length === 3 ? parseMsg(w[2]) : null;
      if (!m) return null;
      const r = proc.vm ? call(() => proc.signalMsi(m.lo, m.data)) : { ok: false as const, errno: 'EBADF' };
      return `${label('msi', w[1])}${r.ok ? result(r.v, 'OK') : result(-1, r.errno)}}`;
    },
    irq(w) {
      if (w.length !== 4) return null;
      const gsi = parseU32(w[2]);
      const level = parseU32(w[3]);
      if (gsi === null || level === null) return null;
      const r = proc.vm ? call(() => proc.irqLine(gsi, level)) : { ok: false as const, errno: 'EBADF' };
      return `${label('irq', w[1])}${r.ok ? result(0, 'OK') : result(-1, r.errno)},"status":${r.ok ? r.v : 0}}`;
    },
    events(w) {
      const id = w.length === 3 ? parseVcpu(w[2]) : null;
      if (id === null) return null;
      const ev = proc.events(id);
      const fields = Object.entries(ev)
        .map(([k, v]) => `"${k}":${v}`)
        .join(',');
      return `${label('events', w[1])}${result(0, 'OK')},${fields}}`;
    },
    mpstate(w) {
      if (w.length < 3 || w.length > 4) return null;
      const id = parseVcpu(w[2]);
      if (id === null) return null;
      let state = 0;
      if (w.length === 4) {
        const i = (MP_STATES as readonly string[]).lastIndexOf(w[3]);
        const n = i >= 0 ? i : parseU32(w[3]);
        if (n === null) return null;
        state = n;
      }
      const set =
        w.length === 4 ? call(() => proc.setMpState(id, state)) : { ok: true as const, v: undefined };
      const got = proc.getMpState(id);
      const name = got < MP_STATES.length ? MP_STATES[got] : String(got);
      return `${label('mpstate', w[1])}${set.ok ? result(0, 'OK') : result(-1, set.errno)},"state":"${name}"}`;
    },
    regs(w) {
      const id = w.length === 3 ? parseVcpu(w[2]) : null;
      if (id === null) return null;
      const r = proc.regs(id);
      return `${label('regs', w[1])}${result(0, 'OK')},"rip":"0x${r.rip.toString(16)}","rflags":"0x${r.rflags.toString(16)}"}`;
    },
    cap(w) {
      if (w.length !== 3) return null;
      let answer: number | undefined;
      if (w[2] in HOST_CAPS) throw new KvmUnsupported(`cap ${w[2]}: the answer depends on the host`);
      if (w[2] in CAPS) answer = CAPS[w[2]][1];
      else {
        const c = parseU32(w[2]);
        if (c === null) return null;
        const known = Object.values(CAPS).find(([n]) => n === c);
        if (Object.values(HOST_CAPS).includes(c))
          throw new KvmUnsupported(`cap ${c}: the answer depends on the host`);
        // an extension the model does not list: 0 only for numbers KVM does not define
        if (!known && c < 256) throw new KvmUnsupported(`cap ${c}: not in the model's table`);
        answer = known ? known[1] : 0;
      }
      return `${label('cap', w[1])}${result(answer, 'OK')}}`;
    },
    sleep(w) {
      if (w.length !== 3 || parseU32(w[2]) === null) return null;
      return `${label('sleep', w[1])}}`;
    },
    run(w) {
      if (w.length < 3) return null;
      const id = parseVcpu(w[2]);
      if (id === null) return null;
      let eoi = 1;
      let stop = 0;
      let idle = 1;
      for (const word of w.slice(3)) {
        let x: number | null;
        if (word.startsWith('eoi=')) {
          if ((x = parseU32(word.slice(4))) === null || x > 0xffff) return null;
          eoi = x;
        } else if (word.startsWith('stop=')) {
          if ((x = parseU32(word.slice(5))) === null) return null;
          stop = x;
        } else if (word.startsWith('idle=')) {
          if ((x = parseU32(word.slice(5))) === null || x > 1) return null;
          idle = x;
        } else if (word.startsWith('ms=')) {
          if ((x = parseU32(word.slice(3))) === null || x === 0) return null;
        } else return null;
      }
      const r = proc.run(id, { eoi, stop, idle: idle === 1 });
      const ret = r.errno ? result(-1, r.errno) : result(0, 'OK');
      return `${label('run', w[1])}${ret},"end":"${r.end}","delivered":${JSON.stringify(vecs(r.delivered))},"eois":${r.eois}}`;
    },
  };

  for (const raw of text.split('\n')) {
    const line = raw.includes('#') ? raw.slice(0, raw.indexOf('#')) : raw;
    const w = line.split(/[ \t\r\n]+/).filter(Boolean);
    if (w.length === 0) continue;
    let printed: string | null = null;
    try {
      if (w.length <= MAX_WORDS && Object.hasOwn(ops, w[0])) printed = ops[w[0]](w);
    } catch (err) {
      if (!(err instanceof KvmUnsupported)) throw err;
      out.push(
        `${label('error', w.length > 1 ? w[1] : '')},"message":${JSON.stringify(`not modelled: ${err.message}`)}}`,
      );
      continue;
    }
    out.push(printed ?? `${label('error', w.length > 1 ? w[1] : '')},"message":"cannot parse this line"}`);
  }
  return out;
}
