// What restore() accepts: a snapshot is checked whole (its shape against this schema, then against the
// system it is restored into) before the live state is touched, so a bad one changes nothing.

import { z } from 'zod';
import type { Engine } from './engine.ts';
import type { Snapshot, SystemState } from './types.ts';
import { eventCount } from './engine.ts';
import { PATHS } from './sim/trace.ts';

const int = z.number().int();
const u32 = int.min(0).max(0xffffffff);
const s32 = int.min(-0x80000000).max(0x7fffffff);
const irqId = int.min(0).max(0x7fffffff);
const time = z.number().min(0).finite();
const name = z.string().max(64);
const fd = s32;
const vectors = z.array(int.min(0).max(255));

const msixEntry = z.object({ addr_lo: u32, addr_hi: u32, data: u32, vector_ctrl: u32 }).strict();
const msix = z
  .object({
    table_size: int.min(1).max(2048),
    enable: z.boolean(),
    function_mask: z.boolean(),
    cap: int.min(0x40).max(0xfc),
    table_bir: int.min(0).max(5),
    table_offset: u32,
    pba_bir: int.min(0).max(5),
    pba_offset: u32,
    table: z.array(msixEntry),
    pba: z.array(z.boolean()),
    pba_irq: z.array(irqId),
  })
  .strict()
  .refine((m) => m.table.length === m.table_size && m.pba.length === m.table_size, {
    message: 'table and pba must hold table_size entries',
  });
const msi = z
  .object({
    cap: int.min(0x40).max(0xfc),
    mmc: int.min(1).max(32),
    mme: int.min(0).max(32),
    enable: z.boolean(),
    addr64: z.boolean(),
    per_vector_mask: z.boolean(),
    address: u32,
    address_hi: u32,
    data: u32,
    mask_bits: u32,
    pending_bits: u32,
    pending_irq: z.array(irqId),
  })
  .strict();
const imsEntry = z
  .object({
    address: u32,
    address_hi: u32,
    data: u32,
    masked: z.boolean(),
    pending: z.boolean(),
    pending_irq: irqId,
    cookie: u32.nullable(),
    owner: name.nullable(),
    host_irq: u32.nullable(),
  })
  .strict();
const pciDevice = z
  .object({
    name,
    bdf: z.string(),
    vendor: int.min(0).max(0xffff),
    device: int.min(0).max(0xffff),
    pcie: z.boolean(),
    passthrough: z.boolean(),
    command: int.min(0).max(0xffff),
    status: int.min(0).max(0xffff),
    msix: msix.nullable(),
    msi: msi.nullable(),
    intx: z
      .object({
        pin: int.min(0).max(4),
        not_connected: z.literal(true).optional(),
        asserted: z.boolean(),
        asserted_irq: irqId,
        pending_irq: irqId,
      })
      .strict(),
    ims: z
      .object({ size: int.min(1).max(32768), entries: z.array(imsEntry) })
      .strict()
      .nullable(),
    e1000e: z
      .object({ icr: u32, ims: u32, ivar: u32, msi_causes_pending: u32, msix_entry_used: z.array(u32) })
      .strict()
      .nullable(),
  })
  .strict();
const vdev = z
  .object({
    name,
    parent: name,
    kind: z.literal('idxd-wq'),
    wq: u32,
    cookie: u32,
    vectors: z.array(
      z.object({ backend: z.enum(['ims', 'emulated']), ims_index: u32.nullable(), icookie: u32 }).strict(),
    ),
    regs: z
      .object({
        cmd: u32,
        cmdsts: u32,
        wq_enabled: z.boolean(),
        dev_enabled: z.boolean(),
        intcause: u32,
        command: int.min(0).max(0xffff),
      })
      .strict(),
  })
  .strict();
const irte = z
  .object({
    index: u32,
    present: z.boolean(),
    mode: z.enum(['remapped', 'posted']),
    vector: int.min(0).max(255),
    dest: u32,
    pi_vcpu: u32.nullable(),
    sid: z.string(),
    host_irq: u32,
    block: u32.optional(),
  })
  .strict();
const pi = z
  .object({
    pir: vectors,
    pir_irq: z.array(irqId),
    on: z.boolean(),
    sn: z.boolean(),
    nv: int.min(0).max(255),
    ndst: u32,
  })
  .strict();
const hostIrq = z
  .object({
    irq: u32,
    chip: z.enum(['PCI-MSIX', 'PCI-MSI', 'IO-APIC', 'IR-PCI-MSIX', 'IR-PCI-MSI', 'IMS']),
    chip_name: z.string(),
    reserved: z.boolean(),
    can_reserve: z.boolean(),
    device: name,
    hwirq: u32,
    action: z.string().nullable(),
    vector: int.min(0).max(255),
    cpu: u32,
    irte: u32.nullable(),
    started: z.boolean(),
    owner: name.nullable(),
    owner_vector: int,
    msg_addr: u32,
    msg_data: u32,
    count: int.min(0),
  })
  .strict();
const irqCtx = z
  .object({
    trigger: fd.nullable(),
    name: z.string().nullable(),
    backend: z.enum(['intx', 'msi', 'msix', 'ims', 'emulated']),
    host_irq: u32.nullable(),
    producer: z.boolean(),
    masked: z.boolean(),
  })
  .strict();
const vfioDevice = z
  .object({
    device: name,
    driver: z.enum(['vfio-pci', 'idxd-vdev']),
    irq_type: z.enum(['none', 'intx', 'msi', 'msix']),
    ctx: z.record(z.string().regex(/^\d+$/), irqCtx),
    num_ctx: u32,
    emulated: z.array(u32),
    intx: z
      .object({
        masked: z.boolean(),
        unmask_fd: fd.nullable(),
        trigger: fd.nullable(),
        enabled: z.boolean(),
      })
      .strict(),
    err_trigger: fd.nullable(),
    req_trigger: fd.nullable(),
    vconfig: z
      .object({
        virq_disabled: z.boolean(),
        msi_flags: int.min(0).max(0xffff),
        msi_addr_lo: u32,
        msi_addr_hi: u32,
        msi_data: int.min(0).max(0xffff),
        msi_qmax: int.min(0).max(5),
      })
      .strict(),
  })
  .strict();
const eventfd = z
  .object({
    fd,
    count: int.min(0),
    count_irqs: z.array(irqId),
    reader_irq: irqId,
    label: z.string(),
  })
  .strict();
const vcpu = z
  .object({
    id: u32,
    apic_id: u32,
    state: z.enum(['running', 'halted', 'preempted']),
    lapic: z
      .object({
        tpr: int.min(0).max(255),
        svr: u32,
        ldr: u32,
        dfr: u32,
        arb_prio: u32,
        irr: vectors,
        isr: vectors,
        irr_irq: z.array(irqId),
        isr_irq: z.array(irqId),
      })
      .strict(),
    pi,
    handled: z.record(z.string(), int.min(0)),
    accept_scheduled: z.boolean(),
    in_irq: z.boolean(),
  })
  .strict();
const vmmDevice = z
  .object({
    device: name,
    msix,
    nr_vectors: u32,
    vectors: z.array(
      z
        .object({
          virq: u32.nullable(),
          kvm_interrupt: fd.nullable(),
          interrupt: fd.nullable(),
          vfio_fd: fd.nullable(),
          in_use: z.boolean(),
        })
        .strict(),
    ),
    realized: z.boolean(),
    interrupt: z.enum(['none', 'intx', 'msix']),
    intx_interrupt: fd.nullable(),
    intx_route: int.min(0).max(23).nullable(),
    intx_unmask: fd.nullable(),
    intx_kvm_accel: z.boolean(),
    defer_kvm_irq_routing: z.boolean(),
  })
  .strict();
const vmmMsi = z
  .object({
    device: name,
    enable: z.boolean(),
    mme: int.min(1).max(32),
    address: u32,
    data: u32,
    nr_vectors: int.min(0).max(32),
    vectors: z
      .array(
        z.object({ virq: u32.nullable(), interrupt: fd.nullable(), kvm_interrupt: fd.nullable() }).strict(),
      )
      .max(32),
  })
  .strict();
const guestDriver = z
  .object({
    device: name,
    vectors: z
      .array(z.object({ vector: int.min(0).max(255), dest: u32, enabled: z.boolean() }).strict())
      .max(2048),
    outstanding: int.min(0),
    completions: int.min(0),
  })
  .strict();

export const systemStateSchema = z
  .object({
    profile: z.enum(['6.1', '6.12']),
    design: z.enum(['merged', 'rfc-v1', 'rfc-v2', 'rfc-v3', 'cleanup-2024']),
    time,
    iommu: z
      .object({
        interrupt_remapping: z.boolean(),
        posted_interrupts: z.boolean(),
        irte: z.array(irte.nullable()),
        faults: z.array(z.object({ time, irq: irqId, index: u32, reason: u32, text: z.string() }).strict()),
        irte_entries: int.min(1).max(65536).optional(),
      })
      .strict(),
    devices: z.record(name, pciDevice),
    vdevs: z.record(name, vdev),
    host: z
      .object({
        cpus: int.min(1).max(256),
        irqs: z.record(z.string(), hostIrq),
        next_irq: u32,
        log: z
          .array(
            z
              .object({
                time,
                level: z.enum(['emerg', 'err', 'warn', 'notice', 'info']),
                fn: z.string(),
                text: z.string(),
              })
              .strict(),
          )
          .max(256),
        msix_alloc_dyn: z.literal(false).optional(),
        intx_handler: z.literal('per-trigger').optional(),
      })
      .strict(),
    vfio: z.record(name, vfioDevice),
    eventfds: z.record(z.string().regex(/^\d+$/), eventfd),
    next_fd: fd,
    kvm: z
      .object({
        gsi_routes: z.record(
          z.string(),
          z.object({ gsi: u32, address_lo: u32, address_hi: u32, data: u32 }).strict(),
        ),
        irqfds: z.record(z.string(), z.object({ fd, gsi: u32, resamplefd: fd.optional() }).strict()),
        vcpus: z.array(vcpu).min(1).max(64),
        next_gsi: u32,
        apicv: z.boolean(),
        ioapic: z
          .array(
            z
              .object({
                vector: u32,
                dest: u32,
                level: z.boolean(),
                masked: z.boolean(),
                remote_irr: z.boolean(),
                line: u32,
                irq: u32,
              })
              .strict(),
          )
          .length(24),
      })
      .strict(),
    vmm: z.record(name, vmmDevice),
    vmm_msi: z.record(name, vmmMsi).optional(),
    guest: z.record(name, guestDriver),
    counters: z
      .object({
        raised: int.min(0),
        delivered: int.min(0),
        coalesced: int.min(0),
        dropped: int.min(0),
        drop_reasons: z.record(z.string(), int.min(0)),
      })
      .strict(),
  })
  .strict();

// The schema and the engine's type must describe the same state: a change to one without the other
// fails to compile here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const STATE_SCHEMA_MATCHES: Same<z.infer<typeof systemStateSchema>, SystemState> = true;

const queued = z.object({ time, seq: int.min(0), kind: int.min(0), irq: irqId, a: s32, b: s32 }).strict();
const interrupt = z
  .object({
    id: int.min(1),
    source: z.string(),
    path: z.enum(PATHS as [string, ...string[]]),
    fate: z.enum(['in-flight', 'pending', 'delivered', 'coalesced', 'dropped']),
    where: z.string(),
    into: irqId,
  })
  .strict();
export const snapshotSchema = z
  .object({
    version: z.literal(1),
    state: systemStateSchema,
    queue: z.array(queued),
    next_seq: int.min(0),
    next_irq: int.min(1).max(0x7fffffff),
    interrupts: z.array(interrupt),
    rng: u32,
    trace_length: int.min(0),
    trace_strings: int.min(1),
  })
  .strict();

/** Every reason `s` cannot be restored into the system `e` runs; empty when it can. */
export function snapshotErrors(s: unknown, e: Engine): string[] {
  const r = snapshotSchema.safeParse(s);
  if (!r.success)
    return r.error.issues.slice(0, 20).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  const snap = r.data as Snapshot;
  const errs: string[] = [];
  // Events carry device ordinals: the snapshot must be of this topology.
  const names = [...Object.keys(snap.state.devices), ...Object.keys(snap.state.vdevs)];
  if (names.join(',') !== e.deviceNames.join(','))
    errs.push(
      `state.devices: the snapshot is of devices ${names.join(', ')}, this system has ${e.deviceNames.join(', ')}`,
    );
  if (snap.state.kvm.vcpus.length !== e.state.kvm.vcpus.length)
    errs.push(
      `state.kvm.vcpus: ${snap.state.kvm.vcpus.length} vCPUs, this system has ${e.state.kvm.vcpus.length}`,
    );
  const kinds = eventCount();
  snap.queue.forEach((q, i) => {
    if (q.kind >= kinds) errs.push(`queue.${i}.kind: ${q.kind} is not an event of this engine`);
    if (q.irq >= snap.next_irq) errs.push(`queue.${i}.irq: #${q.irq} is not below next_irq ${snap.next_irq}`);
    if (q.seq >= snap.next_seq) errs.push(`queue.${i}.seq: ${q.seq} is not below next_seq ${snap.next_seq}`);
    if (q.time < snap.state.time)
      errs.push(`queue.${i}.time: ${q.time} is before the clock ${snap.state.time}`);
  });
  // references between fields, as the engine follows them
  const st = snap.state;
  for (const [k, f] of Object.entries(st.kvm.irqfds)) {
    if (String(f.fd) !== k) errs.push(`state.kvm.irqfds.${k}: keyed ${k} but names fd ${f.fd}`);
    if (!Object.hasOwn(st.eventfds, k)) errs.push(`state.kvm.irqfds.${k}: no eventfd ${k}`);
  }
  for (const [k, f] of Object.entries(st.eventfds))
    if (String(f.fd) !== k) errs.push(`state.eventfds.${k}: keyed ${k} but names fd ${f.fd}`);
  for (const [k, h] of Object.entries(st.host.irqs)) {
    if (String(h.irq) !== k) errs.push(`state.host.irqs.${k}: keyed ${k} but names IRQ ${h.irq}`);
    if (!Object.hasOwn(st.devices, h.device)) errs.push(`state.host.irqs.${k}.device: no device ${h.device}`);
    if (h.irte !== null && !st.iommu.irte[h.irte]) errs.push(`state.host.irqs.${k}.irte: no IRTE ${h.irte}`);
  }
  for (const [d, v] of Object.entries(st.vfio))
    for (const [n, c] of Object.entries(v.ctx))
      if (c.host_irq !== null && !Object.hasOwn(st.host.irqs, String(c.host_irq)))
        errs.push(`state.vfio.${d}.ctx.${n}.host_irq: no host IRQ ${c.host_irq}`);
  st.kvm.vcpus.forEach((v, i) => {
    const l = v.lapic;
    if (v.id !== i) errs.push(`state.kvm.vcpus.${i}.id: ${v.id}`);
    if (l.irr.length !== l.irr_irq.length || l.isr.length !== l.isr_irq.length)
      errs.push(`state.kvm.vcpus.${i}.lapic: IRR/ISR and their interrupt lists differ in length`);
    if (v.pi.pir.length !== v.pi.pir_irq.length)
      errs.push(`state.kvm.vcpus.${i}.pi: PIR and its interrupts differ`);
  });
  for (const [d, dev] of Object.entries(st.devices)) {
    const m = dev.msix;
    if (m && m.pba_irq.length !== m.table_size)
      errs.push(`state.devices.${d}.msix.pba_irq: not table_size long`);
    if (dev.ims && dev.ims.entries.length !== dev.ims.size)
      errs.push(`state.devices.${d}.ims: not size entries`);
  }
  const seen = new Set<number>();
  snap.interrupts.forEach((x, i) => {
    if (x.id >= snap.next_irq)
      errs.push(`interrupts.${i}.id: #${x.id} is not below next_irq ${snap.next_irq}`);
    if (seen.has(x.id)) errs.push(`interrupts.${i}.id: #${x.id} appears twice`);
    seen.add(x.id);
  });
  return errs.slice(0, 20);
}
