// VT-d interrupt remapping (drivers/iommu/intel/irq_remapping.c programs it; the IOMMU hardware does
// the lookup): a remappable-format MSI selects an IRTE by handle; the IRTE says where the interrupt
// goes (a host vector and CPU, or a vCPU's posted-interrupt descriptor). An absent or invalid entry
// blocks the interrupt and records a fault (dmar_fault in drivers/iommu/intel/dmar.c).

import { on, type Engine, NK } from '../../../../engine.ts';
import { EV } from '../../../../datapath.ts';
import { raise } from '../../../../errno.ts';
import { printk } from '../../../kernel/printk/printk.ts';
import type { Irte } from '../../../../types.ts';
import {
  isMsiAddress,
  isRemappable,
  remappableIndex,
  compatDest,
  msiVector,
} from '../../../arch/x86/kernel/apic/msi.ts';
import { hex } from '../../../../hex.ts';
import { HOP } from '../../../../hops.ts';
import { defineDetail, OUT } from '../../../../sim/trace.ts';

// node kind codes of the nodes this file records (Engine.nodeId)
const N_PI = NK['pi'];

// Hops, detail formats and places this file records (hops.ts, sim/trace.ts).
const H_POST = HOP['ir.post'];
const H_REMAP = HOP['ir.remap'];
const F_POST = defineDetail(
  (index, vector, vcpu) => `IRTE ${index} posted: guest vector ${hex(vector)} to vCPU ${vcpu}`,
);
const F_REMAP = defineDetail(
  (index, vc, irq) => `IRTE ${index}: host vector ${hex(vc & 0xff)} CPU ${vc >>> 8}, IRQ ${irq}`,
);

/** Entries in the remapping table (IRTA_REG size field; Linux uses INTR_REMAP_TABLE_ENTRIES = 65536). */
export const INTR_REMAP_TABLE_ENTRIES = 65536;

// drivers/iommu/intel/dmar.c: irq_remap_fault_reasons, reasons 0x20.. in this order
export const IR_FAULT = {
  RESERVED_REQUEST: 0x20,
  INDEX_EXCEEDED: 0x21,
  NOT_PRESENT: 0x22,
  COMPAT_BLOCKED: 0x25,
  SID_VERIFY: 0x26,
} as const;
const IR_FAULT_TEXT: Record<number, string> = {
  0x20: 'Detected reserved fields in the decoded interrupt-remapped request',
  0x21: 'Interrupt index exceeded the interrupt-remapping table size',
  0x22: 'Present field in the IRTE entry is clear',
  0x25: 'Blocked a compatibility format interrupt request',
  0x26: 'Blocked an interrupt request due to source-id verification failure',
};
const MAX_FAULT_RECORDS = 64;

/** Entries this VM's devices may use: the topology's irte_entries, else the whole table. */
export function irteLimit(e: Engine): number {
  return e.state.iommu.irte_entries ?? INTR_REMAP_TABLE_ENTRIES;
}

/** Free entries below the limit (what alloc_irte's bitmap_find_free_region can still find). */
export function irteFreeCount(e: Engine): number {
  const table = e.state.iommu.irte;
  let used = 0;
  for (let i = 0; i < table.length && i < irteLimit(e); i++) if (table[i]) used++;
  return irteLimit(e) - used;
}

/**
 * What dmesg shows when no IRTE is free: alloc_irte's pr_warn, then intel_irq_remapping_alloc's, both
 * under the file's pr_fmt ("DMAR-IR: ").
 */
export function irteAllocFailed(e: Engine): void {
  printk(e, 'warn', 'alloc_irte@drivers/iommu/intel/irq_remapping.c', "DMAR-IR: IR0: can't allocate an IRTE");
  printk(
    e,
    'warn',
    'intel_irq_remapping_alloc@drivers/iommu/intel/irq_remapping.c',
    'DMAR-IR: Failed to allocate IRTE',
  );
}

/** alloc_irte: bitmap_find_free_region failing is -ENOSPC. */
function irteFull(e: Engine, count: number): never {
  irteAllocFailed(e);
  return raise(
    'ENOSPC',
    `the interrupt remapping table has no free ${count > 1 ? `aligned block of ${count} entries` : 'entry'} (alloc_irte: -ENOSPC)`,
  );
}

// irq_remapping.c: alloc_irte: the first free index, or the given one (an entry of a block)
export function irteAlloc(
  e: Engine,
  host_irq: number,
  sid: string,
  vector: number,
  dest: number,
  at?: number,
): Irte {
  const table = e.state.iommu.irte;
  let index = at ?? table.indexOf(null);
  if (index < 0) index = table.length;
  if (at === undefined && index >= irteLimit(e)) irteFull(e, 1);
  while (table.length < index) table.push(null);
  const irte: Irte = { index, present: true, mode: 'remapped', vector, dest, pi_vcpu: null, sid, host_irq };
  table[index] = irte;
  return irte;
}

/**
 * alloc_irte for a multi-vector MSI (drivers/iommu/intel/irq_remapping.c): "count =
 * __roundup_pow_of_two(count); mask = ilog2(count); index = bitmap_find_free_region(table->bitmap,
 * INTR_REMAP_TABLE_ENTRIES, mask)": the whole aligned power-of-two region must be free, and all of it is
 * reserved. Entries past the last vector are padding (`block`), not present: a message for one faults.
 * Returns the region's first index.
 */
export function irteReserveBlock(e: Engine, count: number, sid: string): number {
  const table = e.state.iommu.irte;
  const size = blockSize(count);
  for (let base = 0; ; base += size) {
    if (!regionFree(table, base, size)) continue;
    if (base + size > irteLimit(e)) irteFull(e, count);
    while (table.length < base + size) table.push(null);
    for (let i = base + count; i < base + size; i++)
      table[i] = {
        index: i,
        present: false,
        mode: 'remapped',
        vector: 0,
        dest: 0,
        pi_vcpu: null,
        sid,
        host_irq: 0,
        block: base,
      };
    return base;
  }
}

const blockSize = (count: number): number => 1 << Math.ceil(Math.log2(Math.max(1, count)));

function regionFree(table: readonly (Irte | null)[], base: number, size: number): boolean {
  for (let i = base; i < base + size; i++) if (table[i]) return false;
  return true;
}

/** Whether irteReserveBlock(count) would find a block (no state changes, no log line). */
export function irteBlockFree(e: Engine, count: number): boolean {
  const table = e.state.iommu.irte;
  const size = blockSize(count);
  for (let base = 0; base + size <= irteLimit(e); base += size)
    if (regionFree(table, base, size)) return true;
  return false;
}

// irq_remapping.c: free_irte clears the entry (present bit off); a block's region is released with its
// vectors (bitmap_release_region), so its padding goes once no vector of the block is left.
export function irteFree(e: Engine, index: number): void {
  const table = e.state.iommu.irte;
  table[index] = null;
  for (let j = 0; j < table.length; j++) {
    const b = table[j]?.block;
    if (b === undefined) continue;
    let live = false;
    for (let k = b; k < j; k++) if (table[k] && table[k]!.block === undefined) live = true;
    if (!live) table[j] = null;
  }
  while (table.length > 0 && table[table.length - 1] === null) table.pop();
}

function fault(e: Engine, irq: number, index: number, reason: number): void {
  const text = IR_FAULT_TEXT[reason];
  const faults = e.state.iommu.faults;
  faults.push({ time: e.now, irq, index, reason, text });
  if (faults.length > MAX_FAULT_RECORDS) faults.shift();
  e.hop(
    'ir.fault',
    irq,
    'iommu',
    'iommu',
    'dropped',
    `[INTR-REMAP] fault index ${hex(index)} [fault reason ${hex(reason)}] ${text}`,
  );
  e.dropped(irq, `remapping fault: ${text}`);
}

/**
 * intel_ir_reconfigure_irte (modify_irte): a remapped IRTE takes the host vector and CPU the vector domain
 * chose. A posted IRTE keeps KVM's (arch/x86/kvm/vmx/posted_intr.ts: vmxPiUpdateIrte writes those).
 */
export function intelIrReconfigureIrte(e: Engine, index: number, vector: number, cpu: number): void {
  const irte = e.state.iommu.irte[index];
  if (irte && irte.mode === 'remapped') {
    irte.vector = vector;
    irte.dest = cpu;
  }
}

/** intel_irq_remapping_activate / _deactivate: the IRTE present (request_irq) or not (free_irq). */
export function intelIrqRemappingActivate(e: Engine, index: number, present: boolean): void {
  const irte = e.state.iommu.irte[index];
  if (irte) irte.present = present;
}

/** An MSI write reaches the IOMMU: a = address low, b = data. */
on('ir.remap', (e, irq, a, b) => {
  const addr = a >>> 0;
  const data = b >>> 0;
  const ir = e.state.iommu;
  if (!isMsiAddress(addr, 0)) {
    e.hop(
      'ir.fault',
      irq,
      'iommu',
      'iommu',
      'dropped',
      `write to ${hex(addr)} is outside the interrupt range 0xfee00000-0xfeefffff: DMA, not an interrupt`,
    );
    e.dropped(irq, 'message address outside the interrupt range');
    return;
  }
  if (!ir.interrupt_remapping) {
    if (isRemappable(addr)) {
      e.hop(
        'ir.fault',
        irq,
        'iommu',
        'iommu',
        'dropped',
        'remappable-format message while interrupt remapping is off',
      );
      e.dropped(irq, 'remappable-format message without interrupt remapping');
      return;
    }
    // Compatibility format goes straight to the host LAPIC named in the address.
    const vector = msiVector(data);
    const dest = compatDest(addr);
    const host = Object.values(e.state.host.irqs).find((h) => h.vector === vector && h.cpu === dest);
    if (!host) {
      e.hop(
        'ir.compat',
        irq,
        'iommu',
        'hostirq',
        'dropped',
        `no host IRQ at vector ${hex(vector)} on CPU ${dest}: spurious`,
      );
      e.dropped(irq, 'spurious host vector');
      return;
    }
    e.hop(
      'ir.compat',
      irq,
      'iommu',
      'hostirq',
      'forwarded',
      `compatibility format: vector ${hex(vector)} CPU ${dest}`,
    );
    e.schedule(e.cost.iommu, EV['host.irq'], irq, host.irq);
    return;
  }
  if (!isRemappable(addr)) {
    // Linux blocks compatibility-format MSIs once remapping is on (intel_enable_irq_remapping clears CFI).
    fault(e, irq, 0, IR_FAULT.COMPAT_BLOCKED);
    return;
  }
  const index = remappableIndex(addr, data);
  if (index >= INTR_REMAP_TABLE_ENTRIES) return fault(e, irq, index, IR_FAULT.INDEX_EXCEEDED);
  const irte = ir.irte[index];
  if (!irte || !irte.present) return fault(e, irq, index, IR_FAULT.NOT_PRESENT);
  // Source-id verification: the requester must be the device the entry was set up for.
  const requester = requesterOf(e, irq);
  if (requester !== null && requester !== irte.sid) return fault(e, irq, index, IR_FAULT.SID_VERIFY);
  if (irte.mode === 'posted' && irte.pi_vcpu !== null) {
    e.setPath(irq, 'posted');
    e.hopf(
      H_POST,
      irq,
      e.ids.iommu,
      e.nodeId(N_PI, irte.pi_vcpu),
      OUT.forwarded,
      F_POST,
      index,
      irte.vector,
      irte.pi_vcpu,
    );
    e.schedule(e.cost.posted, EV['pi.post'], irq, irte.pi_vcpu, irte.vector);
    return;
  }
  e.hopf(
    H_REMAP,
    irq,
    e.ids.iommu,
    e.ids.hostirq,
    OUT.forwarded,
    F_REMAP,
    index,
    vectorCpu(irte.vector, irte.dest),
    irte.host_irq,
  );
  e.schedule(e.cost.iommu, EV['host.irq'], irq, irte.host_irq);
});

/** The requester id of a device-raised interrupt (its bus/device/function), from the interrupt's source. */
function requesterOf(e: Engine, irq: number): string | null {
  const src = e.source[irq];
  let bdf = e.bdfBySource.get(src);
  if (bdf === undefined) {
    const name = e.trace.strings.list[src];
    bdf = name.startsWith('dev:') ? (e.state.devices[name.slice(4)]?.bdf ?? null) : null;
    e.bdfBySource.set(src, bdf);
  }
  return bdf;
}

// A detail formatter takes three integers: the host vector and CPU share one (vector < 256).
const vectorCpu = (vector: number, cpu: number): number => vector | (cpu << 8);
