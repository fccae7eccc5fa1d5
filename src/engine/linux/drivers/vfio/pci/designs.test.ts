// Every function name the design tables show is one the design's code has, checked against lists read
// from the patches (lore message ids below) and the merged file; and the rules in which the designs
// behave differently do so in the engine.
import { describe, expect, it } from 'vitest';
import { createSystem } from '../../../../system.ts';
import { HOPS } from '../../../../hops.ts';
import type { DesignGeneration, Topology } from '../../../../types.ts';
import { DESIGN_IDS, DESIGNS } from './designs.ts';
import { imsLibrarySetIrqs } from './vfio_pci_intrs.ts';
import { vfioTarget } from '../device.ts';
import { EngineError } from '../../../../errno.ts';
import {
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_PCI_MSI_IRQ_INDEX,
} from '../vfio_main.ts';
import { defaultDesign } from '../../../../topology.ts';

// The IDXD variant driver of the RFC era ("yet to be published"; read from a stored copy of its vfio
// driver, which calls vfio_pci_ims_init / vfio_pci_set_ims_trigger): its own SET_IRQS ioctl.
const IDXD = ['idxd_vdcm_ioctl_device_set_irqs', 'idxd_vdcm_set_irqs'];
// kernel/irq/manage.c and the VFIO core (drivers/vfio/virqfd.c), shared by every design.
const CORE = ['request_irq', 'free_irq', 'vfio_virqfd_enable', 'vfio_virqfd_disable'];
// INTx in vfio_pci_intrs.c before v6.9 (the tree every RFC applies to; RFC v3 full file).
const INTX_PRE_6_9 = [
  'vfio_pci_set_intx_trigger',
  'vfio_pci_set_intx_mask',
  'vfio_pci_set_intx_unmask',
  'vfio_intx_enable',
  'vfio_intx_set_signal',
  'vfio_intx_disable',
  'vfio_pci_intx_mask',
  'vfio_pci_intx_unmask_handler',
];

interface PatchList {
  /** Where the list is read from. */
  cite: string;
  functions: string[];
  /** Members of the ops structure the design's names use (ops->X, table.X). */
  members: string[];
  /** Members of vfio_pci_ims_intr_ops (a name through that table must be one of them). */
  imsOps: string[];
}

const PATCHES: Record<DesignGeneration, PatchList> = {
  merged: {
    cite: 'drivers/vfio/pci/vfio_pci_intrs.c v6.12 (docs/kernel-notes.md B); 810cd4bb5345 (__vfio_pci_intx_mask, v6.9)',
    functions: [
      ...CORE,
      'vfio_pci_set_msi_trigger',
      'vfio_msi_set_block',
      'vfio_msi_set_vector_signal',
      'vfio_msi_enable',
      'vfio_msi_disable',
      'vfio_msihandler',
      'vfio_pci_set_intx_trigger',
      'vfio_pci_set_intx_mask',
      'vfio_pci_set_intx_unmask',
      'vfio_intx_enable',
      'vfio_intx_set_signal',
      'vfio_intx_disable',
      '__vfio_pci_intx_mask',
      'vfio_pci_intx_unmask_handler',
    ],
    members: [],
    imsOps: [],
  },
  'rfc-v1': {
    cite:
      'https://lore.kernel.org/lkml/cover.1692892275.git.reinette.chatre@intel.com/ (1/3 ' +
      'cc9967616ad6b5d014ccf150c9984339c5eb2543, 2/3 7a08c41e1825095814f8c35854d3938c084b2368): vfio_pci_ims.c; PCI untouched',
    functions: [
      ...CORE,
      ...IDXD,
      ...INTX_PRE_6_9,
      'vfio_pci_set_msi_trigger',
      'vfio_msi_set_vector_signal',
      'vfio_msi_enable',
      'vfio_msi_disable',
      'vfio_msihandler',
      'vfio_pci_set_ims_trigger',
      'vfio_pci_ims_set_block',
      'vfio_pci_ims_set_vector_signal',
      'vfio_pci_ims_irq_handler',
      'vfio_pci_ims_irq_alloc',
      'vfio_pci_ims_irq_free',
      'vfio_pci_ims_send_signal',
      'vfio_pci_ims_set_emulated',
    ],
    members: [],
    imsOps: [],
  },
  'rfc-v2': {
    cite:
      'https://lore.kernel.org/lkml/cover.1696609476.git.reinette.chatre@intel.com/ (14/18 ' +
      '0f8fb7122814c5c5083799e935d5bd3d27d38aef, 15/18 bb8e249259f021a57eb9185f3178a665f39f82be)',
    functions: [
      ...CORE,
      ...IDXD,
      ...INTX_PRE_6_9,
      'vfio_pci_set_irqs_ioctl',
      'vfio_pci_set_msi_trigger',
      'vfio_msi_set_vector_signal',
      'vfio_msi_enable',
      'vfio_msi_disable',
      'vfio_msihandler',
      'vfio_pci_set_ims_trigger',
      'vfio_pci_ims_set_block',
      'vfio_pci_ims_set_vector_signal',
      'vfio_pci_ims_irq_alloc',
      'vfio_pci_ims_irq_free',
      'vfio_pci_send_signal',
      'vfio_pci_set_emulated',
    ],
    members: [
      'set_intx_mask',
      'set_intx_unmask',
      'set_intx_trigger',
      'set_msi_trigger',
      'set_msix_trigger',
      'set_err_trigger',
      'set_req_trigger',
    ],
    // 14/18: vfio_pci_ims_intr_ops = { .set_msix_trigger = vfio_pci_set_ims_trigger, .set_req_trigger }
    imsOps: ['set_msix_trigger', 'set_req_trigger'],
  },
  'rfc-v3': {
    cite:
      'https://lore.kernel.org/lkml/cover.1698422237.git.reinette.chatre@intel.com/ (18/26 ' +
      '12630e207092c11a69efe691a9273abcef831c18, 24/26 e2029ef0084683170fe90ae526a5cf1c676cd1a3; full v3 vfio_pci_intrs.c)',
    functions: [
      ...CORE,
      ...IDXD,
      ...INTX_PRE_6_9,
      'vfio_pci_set_irqs_ioctl',
      'vfio_pci_set_msi_trigger',
      'vfio_msi_set_block',
      'vfio_msi_set_vector_signal',
      'vfio_msi_enable',
      'vfio_msi_disable',
      'vfio_msi_request_interrupt',
      'vfio_msi_free_interrupt',
      'vfio_msi_device_name',
      'vfio_msihandler',
      'vfio_ims_enable',
      'vfio_ims_disable',
      'vfio_ims_request_interrupt',
      'vfio_ims_free_interrupt',
      'vfio_ims_device_name',
      'vfio_ims_init_irq_ctx',
      'vfio_pci_send_signal',
      'vfio_pci_set_emulated',
    ],
    members: [
      'set_intx_mask',
      'set_intx_unmask',
      'set_intx_trigger',
      'set_msi_trigger',
      'set_msix_trigger',
      'set_err_trigger',
      'set_req_trigger',
      'msi_enable',
      'msi_disable',
      'msi_request_interrupt',
      'msi_free_interrupt',
      'msi_device_name',
      'init_irq_ctx',
    ],
    // 24/26: no set_msi_trigger (nor INTx or ERR): a NULL op
    imsOps: [
      'set_msix_trigger',
      'set_req_trigger',
      'msi_enable',
      'msi_disable',
      'msi_request_interrupt',
      'msi_free_interrupt',
      'msi_device_name',
      'init_irq_ctx',
    ],
  },
  'cleanup-2024': {
    cite:
      'https://lore.kernel.org/lkml/cover.1706849424.git.reinette.chatre@intel.com/ (07/17 ' +
      'd6e32e0e7adaf61da39fb6cd2863298b15a2663e, 12/17 0550572e64505df6ecff0b08f1eca869a79f6acf)',
    functions: [
      ...CORE,
      ...INTX_PRE_6_9,
      'vfio_pci_set_irqs_ioctl',
      'vfio_pci_set_trigger',
      'vfio_irq_set_block',
      'vfio_irq_set_vector_signal',
      'vfio_msi_enable',
      'vfio_msi_disable',
      'vfio_msi_request_interrupt',
      'vfio_msi_free_interrupt',
      'vfio_msi_device_name',
      'vfio_send_msi_eventfd',
      'vfio_msihandler',
    ],
    members: [
      'enable',
      'disable',
      'send_eventfd',
      'request_interrupt',
      'free_interrupt',
      'device_name',
      'register_producer',
      'unregister_producer',
    ],
    imsOps: [],
  },
};

/** The functions and ops members a table entry names; a note in parentheses names none. */
function parse(entry: string): { fns: string[]; members: string[]; ims: boolean; note: boolean } {
  const text = entry.split('@')[0];
  if (text.startsWith('(')) return { fns: [], members: [], ims: false, note: true };
  const head = text.split(' (')[0].split(':')[0].trim();
  const [lhs, rhs] = head.includes(' = ') ? head.split(' = ') : [null, head];
  const fns = rhs.split(' -> ').map((f) => f.trim());
  const members = lhs ? [lhs.split(/->|\./).pop()!] : [];
  return { fns, members, ims: (lhs ?? '').includes('vfio_pci_ims_intr_ops'), note: false };
}

const EXT = '(extension: not in the series)';

describe('design tables name only functions of the design (lists from the patches)', () => {
  for (const d of DESIGN_IDS) {
    it(`${d}: ${PATCHES[d].cite}`, () => {
      const design = DESIGNS[d];
      const entries = [
        ...Object.values(design.table).flatMap((row) => Object.values(row)),
        ...Object.values(design.intx),
        ...(design.rules.vdevEntry ? [design.rules.vdevEntry.ioctl, design.rules.vdevEntry.calls] : []),
        ...HOPS.flatMap((h) => (h.by?.[d] ? [h.by[d]] : [])),
      ];
      const bad: string[] = [];
      for (const e of entries) {
        if (e.includes(EXT)) continue; // the clean-up's IMS column extends the series, and says so
        const p = parse(e);
        if (p.note) {
          // a NULL op names a member its table lacks
          const m = /vfio_pci_ims_intr_ops has no (\w+)/.exec(e);
          if (m && PATCHES[d].imsOps.includes(m[1])) bad.push(`${e}: ${m[1]} is in the IMS table`);
          continue;
        }
        for (const f of p.fns) if (!PATCHES[d].functions.includes(f)) bad.push(`${e}: function ${f}`);
        for (const m of p.members) {
          if (!PATCHES[d].members.includes(m)) bad.push(`${e}: member ${m}`);
          if (p.ims && !PATCHES[d].imsOps.includes(m)) bad.push(`${e}: ${m} is not in vfio_pci_ims_intr_ops`);
        }
      }
      expect(bad).toEqual([]);
      expect(design.sources.length).toBeGreaterThan(0);
      expect(design.merged).toBe(d === 'merged');
    });
  }
});

const pci: Topology = { devices: [{ name: 'nic0', msix: { table_size: 4 }, intx_pin: 1 }] };
const withVdev: Topology = {
  devices: [{ name: 'dsa0', msix: { table_size: 2 }, ims: { size: 2 }, passthrough: false }],
  vdevs: [{ name: 'vdsa0', parent: 'dsa0', kind: 'idxd-wq', wq: 0, vectors: ['emulated', 'ims'], cookie: 1 }],
};

const msix = (device: string, start: number, fds: number[]) => ({
  op: 'vfio.setIrqs' as const,
  device,
  flags: 'EVENTFD|TRIGGER',
  index: 'MSIX',
  start,
  count: fds.length,
  data: fds,
});

describe('design defaults', () => {
  it('a plain vfio-pci topology runs the merged code; one with virtual devices RFC v3', () => {
    expect(defaultDesign(pci)).toBe('merged');
    expect(createSystem(pci).engine.state.design).toBe('merged');
    expect(createSystem(withVdev).engine.state.design).toBe('rfc-v3');
  });

  it('merged refuses a virtual device: the merged kernel has no IMS backend', () => {
    expect(() => createSystem({ ...withVdev, design: 'merged' })).toThrow(/has no IMS backend/);
  });
});

describe('rule: per-vector context lifetime (DesignRules.pciCtxLifetime)', () => {
  const lifetime = (design: DesignGeneration) => {
    const sys = createSystem({ ...pci, design });
    sys.apply({ op: 'eventfd.create' });
    sys.apply(msix('nic0', 0, [6]));
    sys.apply(msix('nic0', 0, [-1]));
    const afterDeassign = Object.keys(sys.snapshot().state.vfio.nic0.ctx);
    sys.apply({
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'NONE|TRIGGER',
      index: 'MSIX',
      start: 0,
      count: 0,
    });
    const afterDisable = Object.keys(sys.snapshot().state.vfio.nic0.ctx);
    const intx = sys.apply({
      op: 'vfio.setIrqs',
      device: 'nic0',
      flags: 'EVENTFD|TRIGGER',
      index: 'INTX',
      start: 0,
      count: 1,
      data: [6],
    });
    return { afterDeassign, afterDisable, intx: intx.ok ? 'ok' : intx.errno };
  };

  it('merged (6.12 xarray): freed with the trigger', () => {
    expect(lifetime('merged')).toEqual({ afterDeassign: [], afterDisable: [], intx: 'ok' });
  });

  it('Feb 2024 clean-up (07/17): kept across de-assign, freed at disable', () => {
    expect(lifetime('cleanup-2024')).toEqual({ afterDeassign: ['0'], afterDisable: [], intx: 'ok' });
  });

  it('RFC v3 (18/26): kept until release, so INTx after MSI-X finds context 0 taken: -ENOMEM', () => {
    expect(lifetime('rfc-v3')).toEqual({ afterDeassign: ['0'], afterDisable: ['0'], intx: 'ENOMEM' });
  });

  it("every RFC keeps a virtual device's contexts after de-assign", () => {
    for (const design of ['rfc-v1', 'rfc-v2', 'rfc-v3'] as const) {
      const sys = createSystem({ ...withVdev, design });
      sys.apply({ op: 'eventfd.create' });
      expect(sys.apply(msix('vdsa0', 1, [6])).ok).toBe(true);
      expect(sys.apply(msix('vdsa0', 1, [-1])).ok).toBe(true);
      expect(sys.snapshot().state.vfio.vdsa0.ctx['1']).toMatchObject({ trigger: null, backend: 'ims' });
    }
  });
});

describe('rule: the errno of an index the IMS backend has no function for (DesignRules.missingOp)', () => {
  const libraryErrno = (design: DesignGeneration) => {
    const sys = createSystem({ ...withVdev, design });
    const t = vfioTarget(sys.engine, 'vdsa0')!;
    try {
      imsLibrarySetIrqs(
        sys.engine,
        t,
        VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        VFIO_PCI_MSI_IRQ_INDEX,
        0,
        1,
        [6],
      );
    } catch (err) {
      return err instanceof EngineError ? err.errno : String(err);
    }
    return 'ok';
  };

  it('RFC v1: vfio_pci_set_ims_trigger checks index != VFIO_PCI_MSIX_IRQ_INDEX: -EINVAL', () => {
    expect(libraryErrno('rfc-v1')).toBe('EINVAL');
  });

  it('RFC v2 and v3: vfio_pci_ims_intr_ops has no set_msi_trigger, a NULL op: -ENOTTY', () => {
    expect(libraryErrno('rfc-v2')).toBe('ENOTTY');
    expect(libraryErrno('rfc-v3')).toBe('ENOTTY');
  });

  it('through the uAPI the variant driver validates first: MSI (count 0) is EINVAL in every RFC', () => {
    for (const design of ['rfc-v1', 'rfc-v2', 'rfc-v3'] as const) {
      const sys = createSystem({ ...withVdev, design });
      sys.apply({ op: 'eventfd.create' });
      const r = sys.apply({ ...msix('vdsa0', 0, [6]), index: 'MSI' });
      expect(r.ok ? 'ok' : r.errno, design).toBe('EINVAL');
    }
  });
});

describe("a virtual device's SET_IRQS enters through its variant driver's own ioctl", () => {
  for (const design of ['rfc-v1', 'rfc-v2', 'rfc-v3'] as const)
    it(design, () => {
      const sys = createSystem({ ...withVdev, design });
      sys.apply({ op: 'eventfd.create' });
      const at = sys.traceLength();
      sys.apply(msix('vdsa0', 1, [6]));
      const fns = sys.traceSlice(at, sys.traceLength()).map((h) => h.fn);
      expect(fns).toContain('idxd_vdcm_ioctl_device_set_irqs');
      expect(fns.indexOf('idxd_vdcm_ioctl_device_set_irqs')).toBeLessThan(
        fns.indexOf(DESIGNS[design].table.set_trigger.ims.split('@')[0]),
      );
    });
});
