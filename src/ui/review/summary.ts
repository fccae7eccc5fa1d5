// What a side-by-side pane says about a run: hops, the functions passed through (and which of them the
// other pane shares), VM exits, host interrupts and the virtual latency of each interrupt. Pure
// functions of trace rows, so a unit test checks them on the engine's own output.

import {
  DESIGNS,
  QEMU_VERSION,
  type DesignGeneration,
  type KernelProfile,
  type TraceEvent,
  type TracePath,
} from '../../engine/index.ts';

/**
 * Hops that are a VM exit in the engine's model: a guest write to an emulated register traps as an EPT
 * misconfiguration (arch/x86/kvm/vmx/vmx.c: handle_ept_misconfig) and leaves to QEMU as KVM_EXIT_MMIO.
 */
export const VM_EXIT_HOPS: ReadonlySet<string> = new Set(['guest.mmio']);
/** Hops that exit to user space (QEMU): KVM_EXIT_MMIO handled by vfio_region_write (hw/vfio/pci.c). */
export const USER_EXIT_HOPS: ReadonlySet<string> = new Set(['vmm.region_write']);
/**
 * Hops that run a host interrupt handler: the device's IRQ through genirq (the remapped path) or the
 * posted-interrupt wake-up vector (arch/x86/kvm/vmx/posted_intr.c: pi_wakeup_handler).
 */
export const HOST_IRQ_HOPS: ReadonlySet<string> = new Set([
  'host.irq',
  'host.intx',
  'host.no_handler',
  'pi.wakeup',
]);

export type PathFilter = 'all' | TracePath;

export interface FnUse {
  fn: string;
  file: string;
  count: number;
}

export interface Latency {
  irq: number;
  /** Virtual ns from the interrupt's first hop to its delivery to a guest vector. */
  ns: number;
  path: TracePath;
}

export interface PaneSummary {
  /** Interrupts (irq ids) the summary covers. */
  interrupts: number;
  /** Data-path hops (rows of an interrupt). */
  hops: number;
  /** Control-plane operations (irq 0: SET_IRQS, KVM_IRQFD, ...), counted when the filter is `all`. */
  control: number;
  functions: FnUse[];
  vmExits: number;
  userExits: number;
  hostIrqs: number;
  delivered: number;
  dropped: number;
  latencies: Latency[];
  /** Mean, min and max of `latencies` (null without a delivery). */
  latency: { mean: number; min: number; max: number } | null;
}

/** Interrupts that took `path` on any hop (a posted interrupt starts with a direct MSI-X write). */
export function irqsOnPath(events: readonly TraceEvent[], path: PathFilter): Set<number> {
  const out = new Set<number>();
  for (const e of events) if (e.irq !== 0 && (path === 'all' || e.path === path)) out.add(e.irq);
  return out;
}

export function summarize(events: readonly TraceEvent[], path: PathFilter = 'all'): PaneSummary {
  const irqs = irqsOnPath(events, path);
  const fns = new Map<string, FnUse>();
  const first = new Map<number, number>();
  const latencies: Latency[] = [];
  let hops = 0;
  let control = 0;
  let vmExits = 0;
  let userExits = 0;
  let hostIrqs = 0;
  let delivered = 0;
  let dropped = 0;
  for (const e of events) {
    if (e.irq === 0) {
      if (path !== 'all') continue;
      control++;
    } else {
      if (!irqs.has(e.irq)) continue;
      hops++;
      if (!first.has(e.irq)) first.set(e.irq, e.time);
      if (VM_EXIT_HOPS.has(e.hop)) vmExits++;
      if (USER_EXIT_HOPS.has(e.hop)) userExits++;
      if (HOST_IRQ_HOPS.has(e.hop)) hostIrqs++;
      if (e.outcome === 'delivered') {
        delivered++;
        latencies.push({ irq: e.irq, ns: e.time - first.get(e.irq)!, path: e.path });
      }
      if (e.outcome === 'dropped') dropped++;
    }
    const key = `${e.fn}@${e.file}`;
    const u = fns.get(key);
    if (u) u.count++;
    else fns.set(key, { fn: e.fn, file: e.file, count: 1 });
  }
  const ns = latencies.map((l) => l.ns);
  return {
    interrupts: irqs.size,
    hops,
    control,
    functions: [...fns.values()],
    vmExits,
    userExits,
    hostIrqs,
    delivered,
    dropped,
    latencies,
    latency:
      ns.length === 0
        ? null
        : {
            mean: Math.round(ns.reduce((a, b) => a + b, 0) / ns.length),
            min: Math.min(...ns),
            max: Math.max(...ns),
          },
  };
}

const fnKey = (f: { fn: string; file: string }) => `${f.fn}@${f.file}`;

/**
 * Functions in `mine` that the other pane also passed through (shared) and those only this pane did
 * (specific). When the other pane has no run (its design refused the topology), the functions its design
 * table names stand in for it, and so does every function outside the VFIO front end (drivers/vfio/pci,
 * the variant driver), which no design changes.
 */
export function classify(
  mine: readonly FnUse[],
  other: readonly FnUse[] | null,
  otherDesign: DesignGeneration,
): Map<string, 'shared' | 'specific'> {
  const theirs = other
    ? new Set(other.map(fnKey))
    : new Set(designFunctions(otherDesign).map((f) => `${f.fn}@${f.file}`));
  const out = new Map<string, 'shared' | 'specific'>();
  for (const f of mine) {
    const frontEnd = /^drivers\/(vfio\/pci|dma\/idxd)\//.test(f.file);
    const shared = theirs.has(fnKey(f)) || (!other && !frontEnd);
    out.set(fnKey(f), shared ? 'shared' : 'specific');
  }
  return out;
}

/** Every function a design's table names (front end and INTx), as `fn` and `file`. */
export function designFunctions(design: DesignGeneration): { fn: string; file: string }[] {
  const d = DESIGNS[design];
  const names = new Set<string>();
  for (const row of Object.values(d.table)) for (const f of Object.values(row)) names.add(f);
  // a virtual device's SET_IRQS enters through its variant driver's ioctl: the design's too
  const entry = d.rules.vdevEntry;
  if (entry) for (const f of [entry.ioctl, entry.calls]) names.add(f);
  const out: { fn: string; file: string }[] = [];
  for (const n of names) {
    if (n.startsWith('(')) continue;
    const at = n.lastIndexOf('@');
    out.push({ fn: at < 0 ? n : n.slice(0, at), file: at < 0 ? '' : n.slice(at + 1) });
  }
  return out;
}

/**
 * Where a function name links: a front-end name the design changed goes to the design's series on
 * lore.kernel.org; a name of the merged kernel to its file at the profile's tag on elixir.bootlin.com;
 * QEMU's to its tree; the hardware's and irqflow's own to nothing.
 */
export function fnLink(
  f: { fn: string; file: string },
  design: DesignGeneration,
  profile: KernelProfile,
): string | null {
  if (!f.file || f.fn.startsWith('hw:') || f.file.startsWith('src/') || /spec|PCIe|PCI /i.test(f.file))
    return null;
  if (f.file.startsWith('hw/'))
    return `https://gitlab.com/qemu-project/qemu/-/blob/v${QEMU_VERSION}.0/${f.file}`;
  const merged = designFunctions('merged').some((m) => m.fn === f.fn && m.file === f.file);
  const frontEnd = /^drivers\/(vfio\/pci|dma\/idxd)\//.test(f.file);
  // only a name the design's own table gives (not the host driver's merged code beside it, like idxd's submit.c)
  const ofDesign = designFunctions(design).some((m) => m.fn === f.fn);
  if (frontEnd && ofDesign && !merged && !DESIGNS[design].merged) {
    const src = DESIGNS[design].sources[0];
    if (src?.ref.startsWith('https://')) return src.ref;
  }
  const tag = profile === '6.1' ? 'v6.1' : 'v6.12';
  return `https://elixir.bootlin.com/linux/${tag}/source/${f.file}`;
}

/** A design source's reference as a link: a lore URL as is, a commit on git.kernel.org, a file at a tag on elixir. */
export function sourceLink(ref: string): string | null {
  if (ref.startsWith('https://')) return ref;
  const commit = ref.match(/^commit ([0-9a-f]{7,40})$/);
  if (commit)
    return `https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=${commit[1]}`;
  const file = ref.match(/^([\w./-]+)@(v[\d.]+)$/);
  if (file) return `https://elixir.bootlin.com/linux/${file[2]}/source/${file[1]}`;
  return null;
}
