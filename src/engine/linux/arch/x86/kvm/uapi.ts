// KVM's uAPI for interrupts as the real kernel answers it (the model `irqflow probe --kvm` runs): VMs with
// an in-kernel, split or no irqchip; vCPUs with KVM's LAPIC (arch/x86/kvm/lapic.c), NMI/SMI/INIT/SIPI
// and mp states (arch/x86/kvm/x86.c); GSI routing with MSI, PIC and IO-APIC entries
// (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c, i8259.c, ioapic.c); irqfds and eventfd counters
// (virt/kvm/eventfd.c, fs/eventfd.c); and the reference guest of oracle/kvm-probe.c, whose `run` verb
// executes on a vCPU. Every rule here is checked against KVM itself by test/kvm-conformance.test.ts
// (oracle/kvm-fixtures, Debian 6.1 and 6.12). Pure and deterministic: a run ends when the guest would
// sit in hlt (the probe's timeout), since nothing else runs while it does.

import type { Lapic } from '../../../../types.ts';
import { lapicHasInterrupt, lapicPpr, lapicSoftwareEnabled } from './lapic.ts';
import { vecClear, vecGet, vecHighest, vecSet } from './vecset.ts';
import {
  APIC_DM_EXTINT,
  APIC_DM_FIXED,
  APIC_DM_INIT,
  APIC_DM_LOWEST,
  APIC_DM_NMI,
  APIC_DM_REMRD,
  APIC_DM_SMI,
  APIC_DM_STARTUP,
  kvmIrqDestinations,
  kvmSetMsiIrq,
  type LapicIrq,
} from './irq_comm.ts';

export type KvmKernel = '6.1' | '6.12';
export const KVM_MAX_IRQ_ROUTES = 4096;
export const KVM_IOAPIC_NUM_PINS = 24;
const KVM_MAX_VCPU_IDS = 4096;
export const MP_STATES = [
  'runnable',
  'uninitialized',
  'init_received',
  'halted',
  'sipi_received',
  'stopped',
  'check_stop',
  'operating',
  'load',
  'ap_reset_hold',
  'suspended',
] as const;
const MP_RUNNABLE = 0;
const MP_UNINITIALIZED = 1;
const MP_INIT_RECEIVED = 2;
const MP_HALTED = 3;
const MP_SIPI_RECEIVED = 4;

const USERSPACE_SOURCE = 1; // KVM_USERSPACE_IRQ_SOURCE_ID as a bit
const RESAMPLE_SOURCE = 4; // KVM_IRQFD_RESAMPLE_IRQ_SOURCE_ID as a bit

/** An errno-carrying failure of one call (the probe prints ret -1 and the name). */
export class KvmErr extends Error {
  constructor(
    readonly errno: string,
    message: string,
  ) {
    super(message);
  }
}
const fail = (errno: string, message: string): never => {
  throw new KvmErr(errno, message);
};

/** Something the model does not cover: the probe prints an error line naming it, never a guess. */
export class KvmUnsupported extends Error {}

export interface KvmLapic extends Lapic {
  /** The APIC ID register (xAPIC ID in bits 31:24). */
  id: number;
  tmr: number[];
  lvt0: number;
  /** Every other register, as KVM_SET_LAPIC copied it. */
  raw: Record<number, number>;
}

/** Where the reference guest is: main's instructions (0x2000 out, sti, hlt, cli, jmp) or nowhere it models. */
type Pc = 'out' | 'sti' | 'hlt' | 'cli' | 'jmp' | 'reset' | 'elsewhere';
const PC_RIP: Record<Pc, number> = {
  out: 0x2000,
  sti: 0x2002,
  hlt: 0x2003,
  cli: 0x2004,
  jmp: 0x2005,
  reset: 0xfff0,
  elsewhere: 0,
};
interface Frame {
  vector: number;
  nmi: boolean;
  ret: Pc;
  retIf: boolean;
  /** report: at its `out 0x10`; eoi: about to write its EOIs; iret */
  at: 'report' | 'eoi' | 'iret';
}

export interface KvmVcpu {
  id: number;
  lapic: KvmLapic | null;
  mp: number;
  nmi_queued: number;
  nmi_pending: number;
  nmi_masked: boolean;
  smi_pending: boolean;
  pv_unhalted: boolean;
  /** vcpu->arch.interrupt.nr: the last maskable vector queued for injection */
  irq_nr: number;
  pending_init: boolean;
  pending_sipi: boolean;
  sipi_vector: number;
  pc: Pc;
  /** KVM_EXIT_IO taken at an `out`: KVM completes it at the next KVM_RUN */
  io_pending: boolean;
  if_flag: boolean;
  frames: Frame[];
  cs_base: number;
  /** the probe's in_handler: a vector was reported and main's check point not reached since */
  in_handler: boolean;
}

type RouteEntry =
  | { type: 'msi'; address_lo: number; address_hi: number; data: number }
  | { type: 'irqchip'; chip: 0 | 1 | 2; pin: number };

interface Pic {
  irr: number;
  imr: number;
  isr: number;
  last_irr: number;
  elcr: number;
  irq_base: number;
}

interface Irqfd {
  fd: number;
  gsi: number;
  resamplefd: number | null;
}

export interface KvmVm {
  kind: 'irqchip' | 'split' | 'none';
  vcpus: KvmVcpu[];
  routes: Map<number, RouteEntry[]>;
  irqfds: Irqfd[];
  pic: [Pic, Pic];
  pic_line: number[];
  ioapic_irr: number;
  ioapic_line: number[];
}

export interface RouteSpec {
  gsi: number;
  entry: RouteEntry;
}

const U64_MAX = (1n << 64n) - 1n;

/** The process the probe is: its fds (0-2 console, 3 /dev/kvm, 4-19 the eventfds e0..e15), one VM. */
export class KvmProcess {
  readonly eventfd: bigint[] = Array.from({ length: 16 }, () => 0n);
  private open = new Set<number>([0, 1, 2, 3, ...Array.from({ length: 16 }, (_, i) => i + 4)]);
  vm: KvmVm | null = null;
  private vmFd = -1;
  private vcpuFds: number[] = [];

  constructor(
    readonly kernel: KvmKernel,
    readonly vectorHashing: boolean,
  ) {}

  private allocFd(): number {
    let fd = 0;
    while (this.open.has(fd)) fd++;
    this.open.add(fd);
    return fd;
  }

  /** The eventfd index behind fd, or the errno eventfd_ctx_fdget gives. */
  private eventfdOf(fd: number): number {
    if (fd >= 4 && fd < 20) return fd - 4;
    if (this.open.has(fd)) fail('EINVAL', `fd ${fd} is not an eventfd`);
    return fail('EBADF', `fd ${fd} is not open`);
  }

  closeVm(): void {
    const vm = this.vm;
    if (!vm) return;
    // kvm_irqfd_release -> irqfd_shutdown: eventfd_ctx_remove_wait_queue reads the count
    for (const f of vm.irqfds) this.eventfd[f.fd - 4] = 0n;
    for (const fd of this.vcpuFds) this.open.delete(fd);
    this.open.delete(this.vmFd);
    this.vcpuFds = [];
    this.vm = null;
  }

  /** KVM_CREATE_VM, then KVM_CREATE_IRQCHIP / KVM_CAP_SPLIT_IRQCHIP (24 pins) / nothing. */
  createVm(kind: KvmVm['kind']): void {
    this.closeVm();
    this.vmFd = this.allocFd();
    const pic = (): Pic => ({ irr: 0, imr: 0, isr: 0, last_irr: 0, elcr: 0, irq_base: 0 });
    const routes = new Map<number, RouteEntry[]>();
    if (kind === 'irqchip') {
      // kvm_setup_default_irq_routing: GSI 0-15 to the PIC and the IO-APIC, 16-23 to the IO-APIC
      for (let gsi = 0; gsi < KVM_IOAPIC_NUM_PINS; gsi++) {
        const e: RouteEntry[] = [];
        if (gsi < 16) e.push({ type: 'irqchip', chip: gsi < 8 ? 0 : 1, pin: gsi & 7 });
        e.push({ type: 'irqchip', chip: 2, pin: gsi });
        routes.set(gsi, e);
      }
    }
    this.vm = {
      kind,
      vcpus: [],
      routes,
      irqfds: [],
      pic: [pic(), pic()],
      pic_line: Array.from({ length: 16 }, () => 0),
      ioapic_irr: 0,
      ioapic_line: Array.from({ length: KVM_IOAPIC_NUM_PINS }, () => 0),
    };
  }

  private requireVm(): KvmVm {
    return this.vm ?? fail('EBADF', 'no VM');
  }

  /** KVM_CREATE_VCPU, then the reference guest's registers. Returns the vCPU fd. */
  createVcpu(id: number): number {
    const vm = this.requireVm();
    if (id >= KVM_MAX_VCPU_IDS) fail('EINVAL', `vCPU id ${id} >= KVM_MAX_VCPU_IDS`);
    if (vm.vcpus.some((v) => v.id === id)) fail('EEXIST', `vCPU ${id} exists`);
    const bsp = id === 0;
    const v: KvmVcpu = {
      id,
      lapic: vm.kind === 'none' ? null : resetLapic(null, id, bsp),
      // kvm_arch_vcpu_create: runnable without an in-kernel irqchip or for the BSP, else uninitialized
      mp: vm.kind === 'none' || bsp ? MP_RUNNABLE : MP_UNINITIALIZED,
      nmi_queued: 0,
      nmi_pending: 0,
      nmi_masked: false,
      smi_pending: false,
      pv_unhalted: false,
      irq_nr: 0,
      pending_init: false,
      pending_sipi: false,
      sipi_vector: 0,
      pc: 'out',
      io_pending: false,
      if_flag: false,
      frames: [],
      cs_base: 0,
      in_handler: false,
    };
    vm.vcpus.push(v);
    const fd = this.allocFd();
    this.vcpuFds.push(fd);
    return fd;
  }

  /** The probe closes a vCPU fd it does not keep; the vCPU lives on in the VM. */
  closeFd(fd: number): void {
    this.open.delete(fd);
    this.vcpuFds = this.vcpuFds.filter((f) => f !== fd);
  }

  vcpu(id: number): KvmVcpu {
    return this.requireVm().vcpus.find((v) => v.id === id)!;
  }

  // --- LAPIC state -------------------------------------------------------------------------------------

  /** KVM_GET_LAPIC: EINVAL without an in-kernel LAPIC. */
  getLapic(id: number): KvmLapic {
    const v = this.vcpu(id);
    return v.lapic ?? fail('EINVAL', 'no in-kernel LAPIC');
  }

  /**
   * KVM_SET_LAPIC (kvm_apic_set_state): a register copy; PPR is recomputed, an EOI register write does
   * nothing, apic_arb_prio goes back to 0 (oracle kvm-lowest-nohash:lp-tpr2).
   */
  setLapic(id: number, writes: [number, number][]): void {
    const l = this.getLapic(id);
    for (const [off, val] of writes) writeReg(l, off, val >>> 0);
    l.arb_prio = 0;
  }

  // --- routing -----------------------------------------------------------------------------------------

  /** KVM_SET_GSI_ROUTING: the whole table is replaced, or nothing changes (kvm_set_irq_routing). */
  setGsiRouting(entries: RouteSpec[]): void {
    const vm = this.requireVm();
    if (vm.kind === 'none') fail('EINVAL', 'no in-kernel irqchip (kvm_arch_can_set_irq_routing)');
    if (entries.length > KVM_MAX_IRQ_ROUTES) fail('EINVAL', 'more than KVM_MAX_IRQ_ROUTES entries');
    for (const e of entries)
      if (e.gsi >= KVM_MAX_IRQ_ROUTES) fail('EINVAL', `GSI ${e.gsi} >= KVM_MAX_IRQ_ROUTES`);
    const table = new Map<number, RouteEntry[]>();
    for (const { gsi, entry } of entries) {
      const list = table.get(gsi) ?? [];
      // setup_routing_entry: one irqchip entry per chip per GSI, and a non-irqchip entry only alone
      for (const ei of list)
        if (ei.type !== 'irqchip' || entry.type !== 'irqchip' || ei.chip === entry.chip)
          fail('EINVAL', `GSI ${gsi} has an entry that conflicts`);
      if (entry.type === 'irqchip') {
        // kvm_set_routing_entry: no irqchip routes with the split irqchip; IO-APIC pins < 24
        if (vm.kind === 'split') fail('EINVAL', 'irqchip routes need the in-kernel PIC and IO-APIC');
        if (entry.chip === 2 && entry.pin >= KVM_IOAPIC_NUM_PINS) fail('EINVAL', `IO-APIC pin ${entry.pin}`);
        if (entry.chip !== 2 && entry.pin >= 8) fail('EINVAL', `PIC pin ${entry.pin}`);
      }
      list.push(entry);
      table.set(gsi, list);
    }
    vm.routes = table;
  }

  /** kvm_set_irq: every entry of the GSI; the sum of the non-negative answers, -1 when none. */
  private setIrq(gsi: number, source: number, level: number): number {
    const vm = this.requireVm();
    let ret = -1;
    const entries = vm.routes.get(gsi) ?? [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      const r =
        e.type === 'msi'
          ? this.setMsi(e.address_lo, e.data, level)
          : e.chip === 2
            ? this.ioapicSetIrq(e.pin, source, level)
            : this.picSetIrq(e.chip * 8 + e.pin, source, level);
      if (r < 0) continue;
      ret = r + (ret < 0 ? 0 : ret);
    }
    return ret;
  }

  /** kvm_set_msi: nothing on level 0, else kvm_irq_delivery_to_apic's count. */
  private setMsi(address_lo: number, data: number, level: number): number {
    if (!level) return -1;
    return this.deliverToApic(kvmSetMsiIrq(address_lo, data));
  }

  /** kvm_irq_delivery_to_apic: -1 when the slow path found nobody, else how many LAPICs accepted. */
  deliverToApic(input: LapicIrq): number {
    const vm = this.requireVm();
    const apics = vm.vcpus.filter((v) => v.lapic);
    const view = apics.map((v) => ({ apic_id: v.lapic!.id >>> 24, lapic: v.lapic! }));
    const { dest, slow, irq } = kvmIrqDestinations(view, input, this.vectorHashing);
    if (dest.length === 0) return slow ? -1 : 0;
    let r = 0;
    for (const i of dest) r += acceptIrq(apics[i], irq);
    return r;
  }

  /** KVM_SIGNAL_MSI. */
  signalMsi(address_lo: number, data: number): number {
    const vm = this.requireVm();
    if (vm.kind === 'none') fail('EINVAL', 'no in-kernel irqchip');
    const r = this.setMsi(address_lo, data, 1);
    // the ioctl returns the count as is: -1 from the slow path reaches user space as EPERM
    if (r < 0) fail('EPERM', 'no LAPIC matched (kvm_irq_delivery_to_apic returned -1)');
    return r;
  }

  /** KVM_IRQ_LINE_STATUS: the status kvm_set_irq gives. */
  irqLine(gsi: number, level: number): number {
    const vm = this.requireVm();
    if (vm.kind === 'none') fail('ENXIO', 'no in-kernel irqchip');
    return this.setIrq(gsi, USERSPACE_SOURCE, level);
  }

  /** i8259.c kvm_pic_set_irq -> pic_set_irq1 (edge unless ELCR), then pic_update_irq. */
  private picSetIrq(irq: number, source: number, level: number): number {
    const vm = this.requireVm();
    const line = (vm.pic_line[irq] = level ? vm.pic_line[irq] | source : vm.pic_line[irq] & ~source);
    const s = vm.pic[irq >> 3];
    const mask = 1 << (irq & 7);
    let ret = 1;
    if (s.elcr & mask) {
      if (line) {
        ret = s.irr & mask ? 0 : 1;
        s.irr |= mask;
        s.last_irr |= mask;
      } else {
        s.irr &= ~mask;
        s.last_irr &= ~mask;
      }
    } else if (line) {
      if ((s.last_irr & mask) === 0) {
        ret = s.irr & mask ? 0 : 1;
        s.irr |= mask;
      }
      s.last_irr |= mask;
    } else s.last_irr &= ~mask;
    return s.imr & mask ? -1 : ret;
  }

  /**
   * ioapic.c ioapic_set_irq: the redirection entries are masked and edge-triggered at reset and nothing
   * here unmasks them (there is no verb to program the IO-APIC): a rising edge is -1 (ioapic_service on a
   * masked entry), an unchanged IRR 0, a falling one 1.
   */
  private ioapicSetIrq(pin: number, source: number, level: number): number {
    const vm = this.requireVm();
    const line = (vm.ioapic_line[pin] = level ? vm.ioapic_line[pin] | source : vm.ioapic_line[pin] & ~source);
    const mask = 1 << pin;
    if (!line) {
      vm.ioapic_irr &= ~mask;
      return 1;
    }
    const old = vm.ioapic_irr;
    vm.ioapic_irr |= mask;
    if (old === vm.ioapic_irr) return 0;
    return -1;
  }

  /** pic_get_irq: the highest-priority request above the one in service (priority_add 0), or -1. */
  private picGetIrq(s: Pic): number {
    const req = s.irr & ~s.imr;
    if (!req) return -1;
    const p = ctz(req);
    return p < (s.isr ? ctz(s.isr) : 8) ? p : -1;
  }

  /** The PIC's INTR output to the BSP (pic_update_irq, the slave cascaded on master pin 2). */
  private picOutput(): boolean {
    const vm = this.vm!;
    if (vm.kind !== 'irqchip') return false;
    if (this.picGetIrq(vm.pic[1]) >= 0) {
      vm.pic[0].irr |= 4;
    }
    return this.picGetIrq(vm.pic[0]) >= 0;
  }

  /** kvm_pic_read_irq: INTA, the vector (irq_base + pin); the request leaves IRR, ISR set. */
  private picReadIrq(): number {
    const vm = this.vm!;
    const [m, sl] = vm.pic;
    const irq = this.picGetIrq(m);
    if (irq < 0) return m.irq_base + 7;
    m.isr |= 1 << irq;
    if (!(m.elcr & (1 << irq))) m.irr &= ~(1 << irq);
    if (irq !== 2) return m.irq_base + irq;
    const irq2 = this.picGetIrq(sl);
    if (irq2 < 0) return sl.irq_base + 7;
    sl.isr |= 1 << irq2;
    if (!(sl.elcr & (1 << irq2))) sl.irr &= ~(1 << irq2);
    return sl.irq_base + irq2;
  }

  // --- irqfd and eventfds ------------------------------------------------------------------------------

  /** KVM_IRQFD (kvm_irqfd, kvm_irqfd_assign, kvm_irqfd_deassign). */
  irqfd(fd: number, gsi: number, flags: number, resamplefd: number): void {
    const vm = this.requireVm();
    if (flags & ~3) fail('EINVAL', `unknown KVM_IRQFD flags ${flags}`);
    if (flags & 1) {
      const e = this.eventfdOf(fd);
      // irqfd_deactivate for the irqfd on this eventfd and GSI, if any; 0 either way
      const i = vm.irqfds.findIndex((f) => f.fd === e + 4 && f.gsi === gsi);
      if (i >= 0) {
        vm.irqfds.splice(i, 1);
        this.eventfd[e] = 0n; // irqfd_shutdown reads the count
      }
      return;
    }
    const resample = (flags & 2) !== 0;
    // kvm_arch_irqfd_allowed: resample needs the full in-kernel irqchip, others any in-kernel LAPIC
    if (resample ? vm.kind !== 'irqchip' : vm.kind === 'none')
      fail('EINVAL', resample ? 'resample needs the in-kernel IO-APIC' : 'no in-kernel irqchip');
    const e = this.eventfdOf(fd);
    const r = resample ? this.eventfdOf(resamplefd) : null;
    if (vm.irqfds.some((f) => f.fd === e + 4)) fail('EBUSY', `eventfd e${e} already has an irqfd`);
    vm.irqfds.push({ fd: e + 4, gsi, resamplefd: r === null ? null : r + 4 });
    // vfs_poll finds the eventfd readable: irqfd_inject once, the count stays
    if (this.eventfd[e] > 0n) this.irqfdInject(vm.irqfds[vm.irqfds.length - 1]);
  }

  /** irqfd_inject: a pulse on the GSI, or for a resample irqfd its own source held high. */
  private irqfdInject(f: Irqfd): void {
    if (f.resamplefd === null) {
      this.setIrq(f.gsi, USERSPACE_SOURCE, 1);
      this.setIrq(f.gsi, USERSPACE_SOURCE, 0);
    } else this.setIrq(f.gsi, RESAMPLE_SOURCE, 1);
  }

  /** write(2) of 8 bytes to eventfd e (non-blocking); 8, or the errno. */
  signal(e: number, value: bigint): number {
    if (value === U64_MAX) fail('EINVAL', 'eventfd_write of ULLONG_MAX');
    if (U64_MAX - this.eventfd[e] <= value) fail('EAGAIN', 'the count would overflow');
    this.eventfd[e] += value;
    // wake_up_locked_poll whatever was added, 0 included: irqfd_wakeup reads the count and injects
    const f = this.vm?.irqfds.find((x) => x.fd === e + 4);
    if (f) {
      this.eventfd[e] = 0n;
      this.irqfdInject(f);
    }
    return 8;
  }

  /** read(2) of eventfd e: the count (reset), or EAGAIN at 0. */
  read(e: number): bigint {
    const v = this.eventfd[e];
    if (v === 0n) fail('EAGAIN', 'count 0');
    this.eventfd[e] = 0n;
    return v;
  }

  // --- vCPU events, mp state, registers ----------------------------------------------------------------

  /** process_nmi: the queue drains into pending, at most 2, or 1 while an NMI is in service. */
  private processNmi(v: KvmVcpu): void {
    const limit = v.nmi_masked ? 1 : 2;
    v.nmi_pending = Math.min(v.nmi_pending + v.nmi_queued, limit);
    v.nmi_queued = 0;
  }

  /** KVM_GET_VCPU_EVENTS (after process_nmi): nmi.pending is a flag on 6.1, a count on 6.12. */
  events(id: number): Record<string, number> {
    const v = this.vcpu(id);
    this.processNmi(v);
    return {
      nmi_pending: this.kernel === '6.1' ? Number(v.nmi_pending !== 0) : v.nmi_pending,
      nmi_injected: 0,
      nmi_masked: Number(v.nmi_masked),
      irq_injected: 0,
      irq_nr: v.irq_nr,
      exc_injected: 0,
      exc_nr: 0,
      smi_pending: Number(v.smi_pending),
      smm: 0,
      sipi_vector: 0, // "never valid when reporting to user space"
    };
  }

  /** kvm_apic_accept_events: a pending INIT resets the vCPU, a SIPI starts an AP waiting for it. */
  private acceptEvents(v: KvmVcpu): void {
    if (!v.lapic || (!v.pending_init && !v.pending_sipi)) return;
    if (v.pending_init) {
      v.pending_init = false;
      initReset(v);
      v.mp = v.id === 0 ? MP_RUNNABLE : MP_INIT_RECEIVED;
    }
    if (v.pending_sipi) {
      v.pending_sipi = false;
      if (v.mp === MP_INIT_RECEIVED) {
        // svm_vcpu_deliver_sipi_vector: CS = vector << 8, base vector << 12, rip 0
        v.cs_base = v.sipi_vector << 12;
        v.pc = v.cs_base === PC_RIP.out ? 'out' : 'elsewhere';
        v.mp = MP_RUNNABLE;
      }
    }
  }

  /** KVM_GET_MP_STATE (after kvm_apic_accept_events; a PV-unhalted halted vCPU reads as runnable). */
  getMpState(id: number): number {
    const v = this.vcpu(id);
    this.acceptEvents(v);
    if (v.mp === MP_HALTED && v.pv_unhalted) return MP_RUNNABLE;
    return v.mp;
  }

  /** KVM_SET_MP_STATE. */
  setMpState(id: number, state: number): void {
    const v = this.vcpu(id);
    if (!v.lapic && state !== MP_RUNNABLE) fail('EINVAL', 'only runnable without an in-kernel LAPIC');
    if (state > MP_SIPI_RECEIVED && state !== 9)
      throw new KvmUnsupported(`KVM_SET_MP_STATE ${MP_STATES[state] ?? state} is not modelled`);
    if (state === MP_SIPI_RECEIVED) {
      v.mp = MP_INIT_RECEIVED;
      v.pending_sipi = true;
    } else v.mp = state;
  }

  /** KVM_GET_REGS: rip (CS-relative) and rflags (IF). */
  regs(id: number): { rip: number; rflags: number } {
    const v = this.vcpu(id);
    let rip = PC_RIP[v.pc] - (v.pc === 'reset' || v.pc === 'elsewhere' ? 0 : v.cs_base);
    const top = v.frames[v.frames.length - 1];
    if (top) rip = top.at === 'report' ? 0x1800 : 0x1802;
    return { rip, rflags: 0x2 | (v.if_flag ? 0x200 : 0) };
  }

  // --- the reference guest -----------------------------------------------------------------------------

  /**
   * KVM_RUN the built-in guest (oracle/kvm-probe.c) until idle, stop or timeout, as the probe's loop does:
   * interrupts are injected at instruction boundaries (SMI, NMI, then ExtINT and the LAPIC, as
   * inject_pending_event orders them), a maskable one only with IF set and no STI shadow.
   */
  run(
    id: number,
    opt: { eoi: number; stop: number; idle: boolean },
  ): { end: string; delivered: number[]; eois: number; errno?: string } {
    const vm = this.requireVm();
    const v = this.vcpu(id);
    const delivered: number[] = [];
    let eois = 0;
    const out = (end: string) => ({ end, delivered, eois });
    if (v.mp === MP_UNINITIALIZED) {
      if (v.pending_init || v.pending_sipi) {
        this.acceptEvents(v);
        return { end: 'error', delivered, eois, errno: 'EAGAIN' };
      }
      return out('timeout'); // kvm_vcpu_block until INIT/SIPI
    }
    if (v.smi_pending) throw new KvmUnsupported('running a vCPU with an SMI pending (SMM) is not modelled');
    // complete_userspace_io: the `out` that exited is finished first
    if (v.io_pending) {
      v.io_pending = false;
      const top = v.frames[v.frames.length - 1];
      if (top) top.at = 'eoi';
      else v.pc = 'sti';
    }
    this.acceptEvents(v);
    if (v.mp === MP_INIT_RECEIVED) return out('timeout');
    if (v.pc === 'reset' || v.pc === 'elsewhere')
      throw new KvmUnsupported(
        `vCPU ${v.id} would run outside the reference guest (rip ${PC_RIP[v.pc].toString(16)} after INIT/SIPI)`,
      );
    let shadow = false;
    for (let steps = 0; steps < 1_000_000; steps++) {
      if (v.mp === MP_HALTED) {
        if (!this.hasEvents(v)) return out('timeout');
        v.mp = MP_RUNNABLE;
        v.pv_unhalted = false;
      }
      // an instruction boundary
      this.processNmi(v);
      if (!shadow && v.nmi_pending > 0 && !v.nmi_masked) {
        v.nmi_pending--;
        v.nmi_masked = true;
        this.enter(v, 2, true);
      } else if (!shadow && v.if_flag && v.lapic) {
        const vector = this.takeMaskable(v);
        if (vector >= 0) this.enter(v, vector, false);
      }
      shadow = false;
      const top = v.frames[v.frames.length - 1];
      if (top) {
        if (top.at === 'report') {
          delivered.push(top.vector);
          v.in_handler = true;
          if (opt.stop && delivered.length >= opt.stop) {
            v.io_pending = true;
            return out('stop');
          }
          top.at = 'eoi';
        } else if (top.at === 'eoi') {
          if (top.vector >= 16)
            for (let k = 0; k < opt.eoi; k++) {
              if (v.lapic) lapicEoi(v.lapic);
              eois++;
            }
          top.at = 'iret';
        } else {
          v.frames.pop();
          // a return onto main's sti or hlt goes back to the check point instead
          v.pc = top.ret === 'sti' || top.ret === 'hlt' ? 'out' : top.ret;
          v.if_flag = top.retIf;
          if (top.nmi) v.nmi_masked = false;
        }
        continue;
      }
      switch (v.pc) {
        case 'out': {
          const returned = delivered.length > 0 || v.in_handler;
          v.in_handler = false;
          if (opt.idle && returned) {
            v.io_pending = true;
            return out('idle');
          }
          v.pc = 'sti';
          break;
        }
        case 'sti':
          v.if_flag = true;
          shadow = true;
          v.pc = 'hlt';
          break;
        case 'hlt':
          v.pc = 'cli';
          if (!v.lapic || vm.kind === 'none') return out('hlt'); // KVM_EXIT_HLT
          // kvm_emulate_halt: blocks unless something can be injected now (kvm_vcpu_has_events)
          if (v.pv_unhalted) v.pv_unhalted = false;
          else if (!this.hasEvents(v)) {
            v.mp = MP_HALTED;
            return out('timeout');
          }
          break;
        case 'cli':
          v.if_flag = false;
          v.pc = 'jmp';
          break;
        case 'jmp':
          v.pc = 'out';
          break;
        default:
          throw new KvmUnsupported('the guest left the reference code');
      }
    }
    throw new KvmUnsupported('the run did not settle');
  }

  /** kvm_vcpu_has_events: an NMI it can take, or an interrupt with IF set, or INIT/SIPI pending. */
  private hasEvents(v: KvmVcpu): boolean {
    this.processNmi(v);
    if (v.nmi_pending > 0 && !v.nmi_masked) return true;
    if (v.pending_init || v.pending_sipi || v.pv_unhalted) return true;
    if (!v.if_flag || !v.lapic) return false;
    return (v.id === 0 && extintAccepted(v.lapic) && this.picOutput()) || lapicHasInterrupt(v.lapic) >= 0;
  }

  /** kvm_cpu_get_interrupt: the PIC's ExtINT first (BSP, LVT0 ExtINT), then the LAPIC (IRR -> ISR). */
  private takeMaskable(v: KvmVcpu): number {
    const l = v.lapic!;
    if (v.id === 0 && extintAccepted(l) && this.picOutput()) {
      v.irq_nr = this.picReadIrq();
      return v.irq_nr;
    }
    const vector = lapicHasInterrupt(l);
    if (vector < 0) return -1;
    vecClear(l.irr, l.irr_irq, vector);
    vecSet(l.isr, l.isr_irq, vector, 0);
    v.irq_nr = vector;
    return vector;
  }

  /** Real-mode delivery: flags and return address pushed, IF cleared; the stub reports the vector. */
  private enter(v: KvmVcpu, vector: number, nmi: boolean): void {
    const top = v.frames[v.frames.length - 1];
    v.frames.push({ vector, nmi, ret: top ? 'elsewhere' : v.pc, retIf: v.if_flag, at: 'report' });
    v.if_flag = false;
  }
}

/** kvm_apic_accept_pic_intr: LVT0 unmasked in ExtINT mode. */
function extintAccepted(l: KvmLapic): boolean {
  return (l.lvt0 & 0x10000) === 0 && ((l.lvt0 >>> 8) & 7) === APIC_DM_EXTINT;
}

/** __apic_accept_irq for one LAPIC: 1 when it took the interrupt. */
function acceptIrq(v: KvmVcpu, irq: LapicIrq): number {
  const l = v.lapic!;
  switch (irq.delivery_mode) {
    case APIC_DM_LOWEST:
    case APIC_DM_FIXED: {
      if (irq.delivery_mode === APIC_DM_LOWEST) l.arb_prio++;
      if (irq.trig_level && !irq.level) return 0;
      if (!lapicSoftwareEnabled(l)) return 0;
      // TMR follows the trigger mode of each accepted interrupt; a set IRR bit still counts
      if (irq.trig_level) sortedAdd(l.tmr, irq.vector);
      else sortedDel(l.tmr, irq.vector);
      if (!vecGet(l.irr, l.irr_irq, irq.vector) && !l.irr.includes(irq.vector))
        vecSet(l.irr, l.irr_irq, irq.vector, 0);
      return 1;
    }
    case APIC_DM_REMRD:
      v.pv_unhalted = true;
      return 1;
    case APIC_DM_SMI:
      v.smi_pending = true;
      return 1;
    case APIC_DM_NMI:
      v.nmi_queued++;
      return 1;
    case APIC_DM_INIT:
      if (irq.trig_level && !irq.level) return 0;
      v.pending_init = true;
      v.pending_sipi = false; // apic->pending_events = 1 << KVM_APIC_INIT
      return 1;
    case APIC_DM_STARTUP:
      v.sipi_vector = irq.vector;
      v.pending_sipi = true;
      return 1;
    default:
      return 0; // APIC_DM_EXTINT and the reserved mode 6... none accepted here
  }
}

/** A sorted vector list without interrupt ids (the TMR). */
function sortedAdd(list: number[], vector: number): void {
  if (list.includes(vector)) return;
  list.push(vector);
  list.sort((a, b) => a - b);
}
function sortedDel(list: number[], vector: number): void {
  const i = list.indexOf(vector);
  if (i >= 0) list.splice(i, 1);
}

/** apic_set_eoi: the highest ISR bit is cleared (none: nothing happens). */
function lapicEoi(l: KvmLapic): void {
  const top = vecHighest(l.isr);
  if (top >= 0) vecClear(l.isr, l.isr_irq, top);
}

/** kvm_lapic_reset: SVR 0xff (software-disabled), DFR all ones, LDR/TPR 0, LVTs masked, the BSP's LVT0 ExtINT. */
function resetLapic(prev: KvmLapic | null, id: number, bsp: boolean): KvmLapic {
  return {
    id: prev ? prev.id : (id << 24) >>> 0, // INIT keeps the APIC ID
    tpr: 0,
    svr: 0xff,
    ldr: 0,
    dfr: 0xffffffff,
    arb_prio: 0,
    irr: [],
    isr: [],
    irr_irq: [],
    isr_irq: [],
    tmr: [],
    lvt0: bsp ? 0x700 : 0x10000,
    raw: {},
  };
}

/** kvm_vcpu_reset(init_event): the LAPIC, NMIs, SMIs and the registers (CS:IP f000:fff0). */
function initReset(v: KvmVcpu): void {
  v.lapic = resetLapic(v.lapic, v.id, v.id === 0);
  v.nmi_pending = 0;
  v.nmi_queued = 0;
  v.nmi_masked = false;
  v.smi_pending = false;
  v.frames = [];
  v.pc = 'reset';
  v.io_pending = false;
  v.if_flag = false;
  v.cs_base = 0xffff0000;
}

const REG_ISR = 0x100;
const REG_TMR = 0x180;
const REG_IRR = 0x200;

/** One 32-bit register of KVM_SET_LAPIC's copy. */
function writeReg(l: KvmLapic, off: number, val: number): void {
  if (off === 0x20) l.id = val;
  else if (off === 0x80) l.tpr = val;
  else if (off === 0xd0) l.ldr = val;
  else if (off === 0xe0) l.dfr = val;
  else if (off === 0xf0) l.svr = val;
  else if (off === 0x350) l.lvt0 = val;
  else if (off === 0xa0 || off === 0xb0)
    return; // PPR is recomputed; EOI is not a register to copy
  else if (off >= REG_ISR && off < REG_IRR + 0x80) {
    const base = off >= REG_IRR ? REG_IRR : off >= REG_TMR ? REG_TMR : REG_ISR;
    const word = (off - base) >> 4;
    if ((off - base) & 0xf) return;
    const [list, irqs] =
      base === REG_IRR ? [l.irr, l.irr_irq] : base === REG_ISR ? [l.isr, l.isr_irq] : [l.tmr, null];
    for (let b = 0; b < 32; b++) {
      const vec = word * 32 + b;
      const on = ((val >>> b) & 1) === 1;
      const i = list.indexOf(vec);
      if (on && i < 0) {
        if (irqs) vecSet(list, irqs, vec, 0);
        else sortedAdd(list, vec);
      } else if (!on && i >= 0) {
        list.splice(i, 1);
        irqs?.splice(i, 1);
      }
    }
  } else l.raw[off] = val;
}

/** The registers KVM_GET_LAPIC shows, for the probe: PPR recomputed (apic_update_ppr), APR as copied. */
export function lapicRegs(l: KvmLapic): {
  id: number;
  ldr: number;
  dfr: number;
  svr: number;
  tpr: number;
  apr: number;
  ppr: number;
} {
  return {
    id: l.id >>> 0,
    ldr: l.ldr >>> 0,
    dfr: l.dfr >>> 0,
    svr: l.svr >>> 0,
    tpr: l.tpr & 0xff,
    apr: (l.raw[0x90] ?? 0) & 0xff,
    ppr: lapicPpr(l) & 0xff,
  };
}

function ctz(x: number): number {
  let n = 0;
  while (n < 32 && !(x & (1 << n))) n++;
  return n;
}
