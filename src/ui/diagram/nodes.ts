// What each diagram node says: its title and state lines, in the kernel's words, from the snapshot.
// One function per node kind; the layout decides where they go.

import type { SystemState } from '../../engine/index.ts';
import { hex, idtVectors, splitNode, vectors } from '../format.ts';

export interface NodeText {
  title: string;
  lines: string[];
  /** Per-entry cells for tables (MSI-X table + PBA, IMS entries): 0 masked, 1 unmasked, 2 pending. */
  cells?: number[];
  /** The node holds something pending (PBA bit, IRR bit, PIR bit): drawn with a pending badge. */
  pending?: boolean;
}

export const MAX_CELLS = 32;

const count = (o: Record<string, unknown>) => Object.keys(o).length;

export function nodeText(s: SystemState, id: string): NodeText {
  const { kind, name, sub } = splitNode(id);
  switch (kind) {
    case 'dev': {
      const d = s.devices[name];
      return { title: name, lines: d ? [`${d.bdf}  ${d.passthrough ? 'vfio-pci' : 'host driver'}`] : [] };
    }
    case 'msix': {
      const m = s.devices[name]?.msix;
      if (!m) return { title: 'MSI-X', lines: ['absent'] };
      const pend = m.pba.flatMap((p, i) => (p ? [i] : []));
      const cells = m.table.slice(0, MAX_CELLS).map((e, i) => (m.pba[i] ? 2 : e.vector_ctrl & 1 ? 0 : 1));
      const ctl = m.enable ? (m.function_mask ? 'Enable FuncMask' : 'Enable') : 'disabled';
      return {
        title: `MSI-X table [${m.table_size}]`,
        lines: [ctl, `PBA ${vectors(pend)}`],
        cells,
        pending: pend.length > 0,
      };
    }
    case 'msi': {
      const m = s.devices[name]?.msi;
      if (!m) return { title: 'MSI', lines: ['absent'] };
      return { title: 'MSI', lines: [`${m.enable ? 'enabled' : 'disabled'} mme ${m.mme}/${m.mmc}`] };
    }
    case 'intx': {
      const d = s.devices[name];
      const pin = d?.intx.pin ?? 0;
      const dis = d && d.command & 0x400 ? ' DisINTx' : '';
      return {
        title: `INTx ${pin ? 'INT' + 'ABCD'[pin - 1] : ''}`,
        lines: [`${d?.intx.asserted ? 'asserted' : 'deasserted'}${dis}`],
        pending: !!d?.intx.asserted,
      };
    }
    case 'ims': {
      const ims = s.devices[name]?.ims;
      if (!ims) return { title: 'IMS', lines: ['absent'] };
      const used = ims.entries.filter((e) => e.owner !== null).length;
      const pend = ims.entries.filter((e) => e.pending).length;
      const cells = ims.entries
        .slice(0, MAX_CELLS)
        .map((e) => (e.pending ? 2 : e.owner && !e.masked ? 1 : 0));
      return {
        title: `IMS storage [${ims.size}]`,
        lines: [`${used} in use, ${pend} pending`],
        cells,
        pending: pend > 0,
      };
    }
    case 'vdev': {
      const v = s.vdevs[name];
      if (!v) return { title: name, lines: [] };
      return {
        title: `${name}  (vdev)`,
        lines: [
          `idxd wq${v.wq} of ${v.parent}`,
          `cmd ${hex(v.regs.cmd)} ${v.regs.dev_enabled ? 'enabled' : 'disabled'}`,
        ],
      };
    }
    case 'iommu': {
      const ir = s.iommu;
      if (!ir.interrupt_remapping)
        return { title: 'IOMMU', lines: ['remapping off', 'compatibility format'] };
      const present = ir.irte.filter((e) => e?.present);
      const posted = present.filter((e) => e?.mode === 'posted').length;
      return {
        title: 'IOMMU  IRTE',
        lines: [`${present.length} present, ${posted} posted`, `faults ${ir.faults.length}`],
      };
    }
    case 'pi': {
      const pi = s.kvm.vcpus[Number(name)]?.pi;
      if (!pi) return { title: `PI desc ${name}`, lines: [] };
      return {
        title: `PI desc vCPU${name}`,
        lines: [`PIR ${idtVectors(pi.pir)}`, `ON ${+pi.on} SN ${+pi.sn} NV ${hex(pi.nv)}`],
        pending: pi.pir.length > 0,
      };
    }
    case 'hostirq': {
      const irqs = Object.values(s.host.irqs);
      const req = irqs.filter((i) => i.action !== null).length;
      return { title: 'host IRQ  irq_desc', lines: [`${irqs.length} allocated, ${req} requested`] };
    }
    case 'vmm': {
      const devs = Object.values(s.vmm);
      return {
        title: 'QEMU  vfio-pci',
        lines: devs.map((d) => `${d.device}: ${d.nr_vectors} vectors`).slice(0, 2),
      };
    }
    case 'vfio': {
      const v = s.vfio[name];
      if (!v) return { title: `vfio ${name}`, lines: [] };
      if (!sub) return { title: `${v.driver}  ${name}`, lines: [`irq_type ${v.irq_type}`] };
      const ctxs = Object.entries(v.ctx).filter(([, c]) => c.backend === sub);
      const trig = ctxs.filter(([, c]) => c.trigger !== null).map(([i]) => i);
      const label =
        sub === 'intx'
          ? v.intx.enabled
            ? `enabled${v.intx.masked ? ' masked' : ''}`
            : 'off'
          : `${ctxs.length} ctx, trigger ${vectors(trig.map(Number))}`;
      return { title: sub, lines: [label] };
    }
    case 'eventfd': {
      const fds = Object.values(s.eventfds);
      const counting = fds.filter((f) => f.count > 0).map((f) => f.fd);
      return {
        title: 'eventfd',
        lines: [`${fds.length} fds`, `count>0: ${vectors(counting)}`],
        pending: counting.length > 0,
      };
    }
    case 'irqfd':
      return { title: 'KVM irqfd', lines: [`${count(s.kvm.irqfds)} irqfds`] };
    case 'kvm':
      return { title: 'KVM routing', lines: [`${count(s.kvm.gsi_routes)} GSI routes`] };
    case 'lapic': {
      const v = s.kvm.vcpus[Number(name)];
      if (!v) return { title: `LAPIC ${name}`, lines: [] };
      return {
        title: `LAPIC vCPU${name}`,
        lines: [`IRR ${idtVectors(v.lapic.irr)}`, `ISR ${idtVectors(v.lapic.isr)}`, v.state],
        pending: v.lapic.irr.length > 0,
      };
    }
    case 'guest': {
      let handled = 0;
      for (const v of s.kvm.vcpus) for (const n of Object.values(v.handled)) handled += n;
      const g = Object.values(s.guest);
      const done = g.reduce((a, d) => a + d.completions, 0);
      return { title: 'guest', lines: [`handled ${handled}`, `completed ${done}`] };
    }
    default:
      return { title: id, lines: [] };
  }
}
