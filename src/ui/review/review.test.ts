// The review tools' logic on the engine's own output: an interrupt's journey as Mermaid and plain text,
// the side-by-side summaries (posted versus remapped, two designs), the cost table against the engine,
// annotations in the scenario format, and the export files' checks.

import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COST, DESIGNS, parseScenario, type TraceEvent } from '../../engine/index.ts';
import { Session } from '../../worker/session.ts';
import type { LoadOverrides, Scenario } from '../../worker/api.ts';
import { journeyOf, pickIrq, toMermaid, toPlainText } from './journey.ts';
import { classify, designFunctions, fnLink, sourceLink, summarize } from './summary.ts';
import { COST_DOCS, costOverrides } from './costs.ts';
import { addAnnotation, annotationsAt, removeAnnotation, setNote } from './annotations.ts';
import { pngSize, svgDocument } from './exportFiles.ts';
import { paneScenario } from './paneScenario.ts';

const load = (name: string) => JSON.parse(readFileSync(`public/scenarios/${name}.json`, 'utf8')) as Scenario;

function traceOf(s: Scenario, o: LoadOverrides = {}): TraceEvent[] {
  const sess = new Session();
  const u = sess.loadToStep(s, o, s.steps.length - 1);
  return sess.trace(0, u.trace.length);
}

/**
 * The subset of Mermaid's sequence-diagram grammar the export writes (mermaid.js.org/syntax/sequenceDiagram):
 * the header, a title, participants with aliases, solid and dotted arrows with a message, notes over one
 * participant. Every participant must be declared before use; `;` and `#` (entity syntax) may not appear
 * in a text, nor may a line break.
 */
function mermaidErrors(text: string): string[] {
  const lines = text.trimEnd().split('\n');
  const errs: string[] = [];
  if (lines[0] !== 'sequenceDiagram') errs.push(`line 1: ${lines[0]}`);
  const ids = new Set<string>();
  const ID = '[A-Za-z][A-Za-z0-9_]*';
  const TEXT = '[^;#\\n<>]+';
  lines.slice(1).forEach((l, i) => {
    let m: RegExpMatchArray | null;
    if ((m = l.match(new RegExp(`^  participant (${ID}) as (${TEXT})$`)))) ids.add(m[1]);
    else if (new RegExp(`^  title ${TEXT}$`).test(l)) return;
    else if ((m = l.match(new RegExp(`^  (${ID})(-->>|->>)(${ID}): ${TEXT}$`)))) {
      for (const id of [m[1], m[3]]) if (!ids.has(id)) errs.push(`line ${i + 2}: ${id} not declared`);
    } else if ((m = l.match(new RegExp(`^  Note over (${ID}): ${TEXT}$`)))) {
      if (!ids.has(m[1])) errs.push(`line ${i + 2}: ${m[1]} not declared`);
    } else errs.push(`line ${i + 2}: ${l}`);
  });
  return errs;
}

describe('an interrupt journey as text', () => {
  const events = traceOf(load('posted-interrupts'));

  it('picks the selected interrupt, else the first delivered one', () => {
    expect(pickIrq(events, 2)).toBe(2);
    expect(pickIrq(events, null)).toBe(events.find((e) => e.outcome === 'delivered')!.irq);
    expect(pickIrq(events.filter((e) => e.irq === 0))).toBeNull();
  });

  it('writes a Mermaid sequence diagram the grammar accepts, one message per hop', () => {
    const rows = journeyOf(events, 1);
    const text = toMermaid(rows, { title: 'posted-interrupts: #1 (a; b #2 <c>)' });
    expect(mermaidErrors(text)).toEqual([]);
    expect(text.split('\n').filter((l) => /->>|-->>/.test(l))).toHaveLength(rows.length);
    expect(text).toContain('participant pi_1 as pi:1');
    expect(text).toContain('virtual-interrupt delivery, no VM exit');
    expect(text).toMatch(/Note over guest: delivered: /);
  });

  it('still parses when node ids collide after cleaning and a detail holds ; and #', () => {
    const base = journeyOf(events, 1)[0];
    const rows: TraceEvent[] = [
      { ...base, from: 'a:b', to: 'a_b', outcome: 'dropped', detail: 'x; y #3 <b>' },
      { ...base, from: '1x', to: 'a:b', path: 'intercepted' },
    ];
    const text = toMermaid(rows);
    expect(mermaidErrors(text)).toEqual([]);
    expect(text).toContain('-->>');
  });

  it('writes plain text with the function and file of every hop and the time end to end', () => {
    const rows = journeyOf(events, 2);
    const text = toPlainText(rows, { title: 'posted #2' });
    expect(text).toContain(`Interrupt #2: ${rows.length} hops`);
    expect(text).toContain('pi_wakeup_handler');
    expect(text).toContain('arch/x86/kvm/vmx/posted_intr.c');
    const end = rows[rows.length - 1].time - rows[0].time;
    expect(text).toContain(`${(end / 1000).toFixed(2)} µs end to end`);
  });
});

describe('side-by-side summaries', () => {
  const posted = load('posted-interrupts');

  it('posted versus remapped: the remapped run takes a host IRQ per interrupt, posted only the wake-up', () => {
    const p = summarize(
      traceOf(paneScenario(posted, { design: 'merged', profile: '6.12', posted: true, path: 'all' }, {})),
    );
    const r = summarize(
      traceOf(paneScenario(posted, { design: 'merged', profile: '6.12', posted: false, path: 'all' }, {})),
    );
    expect(p.interrupts).toBe(r.interrupts);
    const pFns = p.functions.map((f) => f.fn);
    const rFns = r.functions.map((f) => f.fn);
    expect(pFns).toContain('vmx_sync_pir_to_irr');
    expect(pFns).not.toContain('vfio_msihandler');
    expect(rFns).toContain('vfio_msihandler');
    // one wake-up vector (the halted vCPU) against genirq for every interrupt that reached the host
    expect(p.hostIrqs).toBe(1);
    expect(r.hostIrqs).toBe(r.functions.find((f) => f.fn === 'handle_edge_irq')!.count);
    for (const s of [p, r]) {
      expect(s.latencies).toHaveLength(s.delivered);
      expect(s.latency!.min).toBeLessThanOrEqual(s.latency!.mean);
      expect(s.latency!.mean).toBeLessThanOrEqual(s.latency!.max);
    }
    // posted skips the host IRQ, vfio_msihandler, eventfd and irqfd: it is faster
    expect(p.latency!.min).toBeLessThan(r.latency!.min);
  });

  it('edited costs change the latency by exactly the edit', () => {
    const c = { design: 'merged', profile: '6.12', posted: false, path: 'all' } as const;
    const a = summarize(traceOf(paneScenario(posted, c, {})));
    const b = summarize(traceOf(paneScenario(posted, c, { host_irq: DEFAULT_COST.host_irq + 1000 })));
    expect(b.latency!.min - a.latency!.min).toBe(1000);
  });

  it('two designs on the same PCI scenario share the data path and differ in the front end', () => {
    const s = load('msix-direct');
    const m = summarize(traceOf(s, { design: 'merged' }));
    const v3 = summarize(traceOf(s, { design: 'rfc-v3' }));
    const kinds = classify(v3.functions, m.functions, 'merged');
    const of = (fn: string) =>
      kinds.get(
        v3.functions.find((f) => f.fn === fn)!.fn + '@' + v3.functions.find((f) => f.fn === fn)!.file,
      );
    expect(of('irqfd_wakeup')).toBe('shared');
    expect(of('vfio_msihandler')).toBe('shared');
    expect([...kinds.values()]).toContain('specific');
    expect(m.hops).toBe(v3.hops);
  });

  it('against a design that cannot run the topology, its table and the code outside VFIO stand in', () => {
    const v3 = summarize(traceOf(load('ims-vdev'), { design: 'rfc-v3' }));
    const kinds = classify(v3.functions, null, 'merged');
    const kind = (fn: string) => {
      const f = v3.functions.find((x) => x.fn === fn)!;
      return kinds.get(`${f.fn}@${f.file}`);
    };
    expect(kind('idxd_vdcm_ioctl_device_set_irqs')).toBe('specific');
    expect(kind('irqfd_wakeup')).toBe('shared');
    expect(kind('vfio_msihandler')).toBe('shared');
    expect(v3.vmExits).toBeGreaterThan(0);
  });

  it('the direct and intercepted interrupts of one run are counted apart', () => {
    const ev = traceOf(load('ims-vdev'), { design: 'rfc-v3' });
    const d = summarize(ev, 'direct');
    const i = summarize(ev, 'intercepted');
    expect(d.interrupts + i.interrupts).toBe(summarize(ev).interrupts);
    expect(d.vmExits).toBe(0);
    expect(i.vmExits).toBe(i.interrupts);
    expect(d.control).toBe(0);
  });

  it('links a function to its series, the merged source or nothing', () => {
    expect(
      fnLink({ fn: 'vfio_msihandler', file: 'drivers/vfio/pci/vfio_pci_intrs.c' }, 'rfc-v3', '6.1'),
    ).toBe('https://elixir.bootlin.com/linux/v6.1/source/drivers/vfio/pci/vfio_pci_intrs.c');
    expect(
      fnLink({ fn: 'idxd_vdcm_ioctl_device_set_irqs', file: 'drivers/dma/idxd/' }, 'rfc-v3', '6.12'),
    ).toMatch(/^https:\/\/lore\.kernel\.org\/lkml\/cover\.1698422237/);
    // the host driver's merged code beside a design is not the design's: idxd's submit path links to 6.12
    expect(
      fnLink(
        { fn: 'MOVDIR64B/ENQCMD to the WQ portal', file: 'drivers/dma/idxd/submit.c' },
        'rfc-v3',
        '6.12',
      ),
    ).toBe('https://elixir.bootlin.com/linux/v6.12/source/drivers/dma/idxd/submit.c');
    expect(fnLink({ fn: 'hw: MSI-X write', file: 'PCIe Base Spec 6.1.4' }, 'merged', '6.12')).toBeNull();
    expect(fnLink({ fn: 'msix_notify', file: 'hw/pci/msix.c' }, 'merged', '6.12')).toMatch(/qemu/);
    expect(designFunctions('merged').some((f) => f.fn === 'vfio_pci_set_msi_trigger')).toBe(true);
    expect(sourceLink('commit b156e48fffa9')).toBe(
      'https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/commit/?id=b156e48fffa9',
    );
    expect(sourceLink('drivers/vfio/pci/vfio_pci_intrs.c@v6.12')).toBe(
      'https://elixir.bootlin.com/linux/v6.12/source/drivers/vfio/pci/vfio_pci_intrs.c',
    );
    // every source of every design links somewhere
    for (const d of Object.values(DESIGNS))
      for (const src of d.sources) expect(sourceLink(src.ref), src.ref).not.toBeNull();
  });
});

describe('the cost table', () => {
  it('documents every cost of the model once', () => {
    expect(COST_DOCS.map((d) => d.key).sort()).toEqual(Object.keys(DEFAULT_COST).sort());
  });

  it('names files that really charge each cost (and says so where none does)', () => {
    for (const d of COST_DOCS) {
      const files = d.where
        .split(', ')
        .map((f, i, all) =>
          f.startsWith('src/') ? f : `${all[0].slice(0, all[0].indexOf('/engine/') + 8)}${f}`,
        );
      if (d.where.endsWith('only')) {
        const engine = [
          'linux/virt/kvm/eventfd.ts',
          'linux/fs/eventfd.ts',
          'linux/arch/x86/kvm/lapic.ts',
          'linux/arch/x86/kvm/vmx/posted_intr.ts',
          'linux/kernel/irq/genirq.ts',
        ];
        for (const f of engine)
          expect(readFileSync(`src/engine/${f}`, 'utf8')).not.toContain(`cost.${d.key}`);
        continue;
      }
      for (const f of files) {
        expect(existsSync(f), f).toBe(true);
        expect(readFileSync(f, 'utf8'), `${f} charges ${d.key}`).toContain(`cost.${d.key}`);
      }
    }
  });

  it('keeps only the edits that differ from the defaults', () => {
    expect(costOverrides({ iommu: DEFAULT_COST.iommu, qemu: 1 })).toEqual({ qemu: 1 });
  });
});

describe('notes and annotations in the scenario', () => {
  const s = load('msix-direct');

  it('adds, filters and removes annotations, and sets a step note', () => {
    let t = addAnnotation(s, { target: 'iommu', text: ' IRTE here ', step: 1 });
    t = addAnnotation(t, { target: 'msix:nic0', text: '<b>not html</b>' });
    expect(annotationsAt(t, 1).map((a) => a.target)).toEqual(['iommu', 'msix:nic0']);
    expect(annotationsAt(t, 0).map((a) => a.target)).toEqual(['msix:nic0']);
    expect(t.annotations![0].text).toBe('IRTE here');
    expect(() => addAnnotation(s, { target: 'iommu', text: '  ' })).toThrow(/text/);
    t = setNote(t, 0, 'say why');
    expect(t.steps[0].note).toBe('say why');
    expect(setNote(t, 0, '').steps[0].note).toBeUndefined();
    expect(() => setNote(t, 99, 'x')).toThrow(/no step 100/);
    expect(removeAnnotation(removeAnnotation(t, 0), 0).annotations).toBeUndefined();
    // the scenario format takes both fields and the runner still runs the file
    const r = parseScenario(JSON.parse(JSON.stringify(t)));
    expect(r.ok).toBe(true);
  });

  it('the format refuses an annotation without a target', () => {
    const bad = { ...s, annotations: [{ text: 'x' }] };
    const r = parseScenario(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join()).toMatch(/annotations\.0\.target/);
  });
});

describe('export files', () => {
  it('reads the size of a PNG and refuses other bytes', () => {
    const png = new Uint8Array([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 5, 0, 0, 0,
      2, 0xd0,
    ]);
    expect(pngSize(png)).toEqual({ width: 1280, height: 720 });
    expect(pngSize(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
  });

  it('wraps the diagram in a stand-alone SVG with its size and a background', () => {
    const s = svgDocument('<g/>', 800, 600, '#fff');
    expect(s).toMatch(/^<\?xml/);
    expect(s).toContain('width="800" height="600" viewBox="0 0 800 600"');
    expect(s).toContain('<rect width="100%" height="100%" fill="#fff"/><g/></svg>');
  });
});
