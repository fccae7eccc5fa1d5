// The inspector: the state behind the selected diagram node, read from the last snapshot, plus the
// selected trace event. With nothing selected it shows the conservation counters and drop reasons.

import { HOPS, type SystemState } from '../../engine/index.ts';
import { actions, useApp } from '../../store/index.ts';
import { fmtTime, splitNode } from '../format.ts';
import { KV, Section, Table } from './parts.tsx';
import { ScenarioSteps } from './ScenarioSteps.tsx';
import { Journey } from './Journey.tsx';
import { hopLink } from '../sourceLinks.ts';
import { Breakpoints } from './Breakpoints.tsx';
import { useEffect, useRef } from 'react';
import { DeviceView, ImsView, IntxView, MsiView, MsixView, VdevView } from './pci.tsx';
import {
  EventfdView,
  GuestView,
  HostIrqView,
  IommuView,
  IrqfdView,
  LapicView,
  PiView,
  VfioView,
  VmmView,
} from './kernel.tsx';

function NodeView({ s, id }: { s: SystemState; id: string }) {
  const { kind, name, sub } = splitNode(id);
  const dev = s.devices[name];
  switch (kind) {
    case 'dev':
      return dev ? <DeviceView d={dev} /> : null;
    case 'msix':
      return dev ? <MsixView d={dev} /> : null;
    case 'msi':
      return dev ? <MsiView d={dev} /> : null;
    case 'intx':
      return dev ? <IntxView d={dev} /> : null;
    case 'ims':
      return dev ? <ImsView d={dev} /> : null;
    case 'vdev':
      return <VdevView s={s} name={name} />;
    case 'iommu':
      return <IommuView s={s} />;
    case 'pi':
      return <PiView s={s} vcpu={Number(name)} />;
    case 'hostirq':
      return <HostIrqView s={s} />;
    case 'vfio':
      return <VfioView s={s} name={name} backend={sub} />;
    case 'eventfd':
      return <EventfdView s={s} />;
    case 'irqfd':
    case 'kvm':
      return <IrqfdView s={s} />;
    case 'lapic':
      return <LapicView s={s} vcpu={Number(name)} />;
    case 'vmm':
      return <VmmView s={s} />;
    case 'guest':
      return <GuestView s={s} />;
    default:
      return <p className="muted">nothing to show for {id}</p>;
  }
}

function Overview({ s }: { s: SystemState }) {
  const reasons = Object.entries(s.counters.drop_reasons);
  return (
    <>
      <p className="muted hint">
        Click a box in the diagram to inspect its state; a trace row to follow its interrupt.
      </p>
      <Section title="System">
        <KV
          rows={[
            ['kernel profile', s.profile],
            ['design', s.design],
            ['time', fmtTime(s.time)],
            ['devices', Object.keys(s.devices).join(' ') || '-'],
            ['virtual devices', Object.keys(s.vdevs).join(' ') || '-'],
            ['vCPUs', s.kvm.vcpus.length],
          ]}
        />
      </Section>
      <ScenarioSteps />
      <Breakpoints />
      <Section title="Drop reasons">
        <Table
          wrap
          empty="nothing dropped"
          head={['reason', 'count']}
          rows={reasons.map(([r, n]) => [r, n])}
        />
      </Section>
    </>
  );
}

export function Inspector() {
  const s = useApp((st) => st.engine.state);
  const node = useApp((st) => st.selection.node);
  const seq = useApp((st) => st.selection.event);
  const trace = useApp((st) => st.engine.trace);
  const page = useApp((st) => st.engine.tracePage);
  const irq = useApp((st) => st.selection.irq);
  const ev =
    seq === null ? undefined : (trace.find((e) => e.seq === seq) ?? page?.events.find((e) => e.seq === seq));
  const body = useRef<HTMLDivElement>(null);
  // A newly selected hop shows at the top, not above where the panel was scrolled to.
  useEffect(() => {
    if (seq !== null && body.current) body.current.scrollTop = 0;
  }, [seq]);
  const link = ev && s ? hopLink(ev, s.design, s.profile) : null;
  return (
    <section className="panel inspector" data-testid="inspector">
      <div className="panel-head">
        <h2>Inspector</h2>
        <span className="mono sel-node" data-testid="inspector-node">
          {node ?? (ev ? `hop #${ev.seq}${ev.irq ? `, irq ${ev.irq}` : ''}` : 'system')}
        </span>
        {(node || ev) && (
          <button
            className="small"
            onClick={() => {
              actions.selectNode(null);
              actions.selectEvent(null, null);
            }}
          >
            clear
          </button>
        )}
      </div>
      <div className="panel-body" ref={body}>
        {ev && (
          <Section title={`event #${ev.seq}: ${ev.hop}`}>
            <KV
              rows={[
                ['what', HOPS.find((h) => h.key === ev.hop)?.label ?? ev.hop],
                ['time', fmtTime(ev.time)],
                ['irq', ev.irq === 0 ? 'control plane' : ev.irq],
                ['hop', `${ev.from} → ${ev.to}`],
                ['path / outcome', `${ev.path} / ${ev.outcome}`],
                ['function', <code>{ev.fn}</code>],
                [
                  'file',
                  link ? (
                    <a href={link} target="_blank" rel="noreferrer">
                      <code>{ev.file}</code>
                    </a>
                  ) : (
                    <code>{ev.file}</code>
                  ),
                ],
                ['detail', ev.detail || '-'],
              ]}
            />
          </Section>
        )}
        {irq !== null && <Journey irq={irq} />}
        {s && (node ? <NodeView s={s} id={node} /> : <Overview s={s} />)}
      </div>
    </section>
  );
}
