// Inspector views of the IOMMU, host and KVM columns: IRTEs and faults, posted-interrupt descriptors,
// host IRQs, VFIO interrupt contexts, eventfds, irqfds and GSI routes, LAPICs, QEMU, the guest.

import { irqDomainHierarchy, type SystemState } from '../../engine/index.ts';
import { fmtTime, hex, idtVectors, vectors } from '../format.ts';
import { Act, Flash, KV, Section, Table, flag } from './parts.tsx';

const VCPU_STATES = ['running', 'halted', 'preempted'] as const;

export function IommuView({ s }: { s: SystemState }) {
  const ir = s.iommu;
  const present = ir.irte.filter((e) => e !== null);
  return (
    <>
      <Section title="Interrupt remapping">
        <KV
          rows={[
            ['interrupt_remapping', flag(ir.interrupt_remapping)],
            ['posted_interrupts', flag(ir.posted_interrupts)],
          ]}
        />
        <Table
          testid="irte-table"
          empty="no IRTE"
          head={['IRTE', 'P', 'mode', 'vector', 'dest', 'vCPU', 'sid', 'host irq']}
          rows={present.map((e) =>
            e!.block !== undefined
              ? // a multi-MSI block's padding: reserved by alloc_irte's power-of-two region, no vector in it
                [e!.index, '0', `block ${e!.block}`, '-', '-', '-', e!.sid, '-']
              : [
                  e!.index,
                  e!.present ? '1' : '0',
                  e!.mode,
                  hex(e!.vector, 2),
                  e!.dest,
                  e!.pi_vcpu ?? '-',
                  e!.sid,
                  e!.host_irq,
                ],
          )}
        />
      </Section>
      <Section title="Remapping faults">
        <Table
          wrap
          empty="no fault recorded"
          head={['time', 'irq', 'IRTE', 'reason', '']}
          rows={ir.faults.map((f) => [fmtTime(f.time), f.irq, f.index, hex(f.reason, 2), f.text])}
        />
      </Section>
    </>
  );
}

export function PiView({ s, vcpu }: { s: SystemState; vcpu: number }) {
  const v = s.kvm.vcpus[vcpu];
  if (!v) return <p className="muted">no vCPU {vcpu}</p>;
  const pi = v.pi;
  return (
    <Section title={`Posted-interrupt descriptor, vCPU${vcpu}`}>
      <KV
        rows={[
          ['PIR', idtVectors(pi.pir)],
          ['ON', flag(pi.on, '1', '0')],
          ['SN', flag(pi.sn, '1', '0')],
          ['NV', hex(pi.nv, 2)],
          ['NDST', pi.ndst],
          ['vCPU state', v.state],
        ]}
      />
    </Section>
  );
}

export function HostIrqView({ s }: { s: SystemState }) {
  const irqs = Object.values(s.host.irqs);
  return (
    <Section title="Host IRQs (/proc/interrupts)">
      <Table
        testid="hostirq-table"
        empty="no host IRQ allocated"
        head={['irq', 'chip', 'hwirq', 'action', 'vec', 'cpu', 'IRTE', 'count']}
        rows={irqs.map((i) => [
          i.irq,
          // the per-device chip name /proc/interrupts prints (msi_create_device_irq_domain: "%s%s-%s"),
          // with the domain hierarchy below it (device domain -> INTEL-IR -> VECTOR, as debugfs lists it) on hover
          <span
            key="chip"
            className="chipname"
            data-testid="hostirq-chip"
            title={irqDomainHierarchy(s.profile, i).join(' \u2192 ')}
          >
            {i.chip_name}
          </span>,
          i.hwirq,
          i.action ? (
            <span key="action" className="chipname">
              {i.action}
            </span>
          ) : (
            <span className="muted">allocated</span>
          ),
          hex(i.vector, 2),
          i.cpu,
          i.irte ?? '-',
          i.count,
        ])}
      />
    </Section>
  );
}

export function VfioView({ s, name, backend }: { s: SystemState; name: string; backend: string }) {
  const v = s.vfio[name];
  if (!v) return <p className="muted">no VFIO device {name}</p>;
  const ctx = Object.entries(v.ctx).filter(([, c]) => !backend || c.backend === backend);
  return (
    <Section title={`VFIO interrupt context: ${name} (${v.driver})`}>
      <KV
        rows={[
          ['irq_type', v.irq_type],
          ['num_ctx', v.num_ctx],
          ['emulated vectors', vectors(v.emulated)],
          [
            'INTx',
            v.intx.enabled
              ? `trigger fd ${v.intx.trigger ?? '-'}${v.intx.masked ? ', masked' : ''}, unmask fd ${v.intx.unmask_fd ?? '-'}`
              : 'disabled',
          ],
          ['ERR trigger', v.err_trigger ?? '-'],
          ['REQ trigger', v.req_trigger ?? '-'],
        ]}
      />
      <Table
        testid="vfio-ctx-table"
        empty={backend ? `no ${backend} vector context` : 'no vector context'}
        head={['vector', 'backend', 'trigger fd', 'host irq', 'producer', 'masked', 'name']}
        rows={ctx.map(([i, c]) => [
          i,
          c.backend,
          c.trigger === null ? (
            '-'
          ) : (
            <Act
              cmd={{
                op: 'vfio.setIrqs',
                device: name,
                index: c.backend === 'msi' ? 'MSI' : 'MSIX',
                flags: 'EVENTFD|TRIGGER',
                start: Number(i),
                count: 1,
                data: [-1],
              }}
              title={`de-assign vector ${i}'s eventfd (VFIO_DEVICE_SET_IRQS with fd -1)`}
              testid={`act-deassign-${i}`}
            >
              {c.trigger} ✕
            </Act>
          ),
          c.host_irq ?? '-',
          c.producer ? 'bypass' : '-',
          c.masked ? 'yes' : '',
          c.name ?? '',
        ])}
      />
    </Section>
  );
}

export function EventfdView({ s }: { s: SystemState }) {
  return (
    <Section title="eventfds">
      <Table
        testid="eventfd-table"
        empty="no eventfd"
        head={['fd', 'count', 'irqs counted', 'listener']}
        rows={Object.values(s.eventfds).map((e) => [e.fd, e.count, e.count_irqs.join(' ') || '-', e.label])}
      />
    </Section>
  );
}

export function IrqfdView({ s }: { s: SystemState }) {
  return (
    <>
      <Section title="KVM irqfds">
        <Table
          empty="no irqfd"
          head={['eventfd', 'GSI']}
          rows={Object.values(s.kvm.irqfds).map((f) => [f.fd, f.gsi])}
        />
      </Section>
      <Section title="GSI routing (KVM_SET_GSI_ROUTING)">
        <Table
          empty="no MSI route"
          head={['GSI', 'address_hi', 'address_lo', 'data', 'vector', 'dest']}
          rows={Object.values(s.kvm.gsi_routes).map((r) => [
            r.gsi,
            hex(r.address_hi, 8),
            hex(r.address_lo, 8),
            hex(r.data, 4),
            hex(r.data & 0xff, 2),
            (r.address_lo >> 12) & 0xff,
          ])}
        />
      </Section>
    </>
  );
}

export function LapicView({ s, vcpu }: { s: SystemState; vcpu: number }) {
  const v = s.kvm.vcpus[vcpu];
  if (!v) return <p className="muted">no vCPU {vcpu}</p>;
  return (
    <Section title={`LAPIC of vCPU${vcpu} (APIC id ${v.apic_id}), ${v.state}`}>
      <KV
        rows={[
          ['IRR', <Flash v={idtVectors(v.lapic.irr)} path={`kvm.vcpus.${vcpu}.lapic.irr`} />],
          ['ISR', <Flash v={idtVectors(v.lapic.isr)} path={`kvm.vcpus.${vcpu}.lapic.isr`} />],
          [
            'vCPU state',
            <span className="act-row">
              {VCPU_STATES.map((st) =>
                st === v.state ? (
                  <b key={st} className="on">
                    {st}
                  </b>
                ) : (
                  <Act
                    key={st}
                    cmd={{ op: 'kvm.vcpu', vcpu, state: st }}
                    title={`make vCPU${vcpu} ${st}`}
                    testid={`act-vcpu-${st}`}
                  >
                    {st}
                  </Act>
                ),
              )}
            </span>,
          ],
        ]}
      />
      <Table
        head={['vector', 'handled']}
        empty="no vector handled yet"
        rows={Object.entries(v.handled).map(([vec, n]) => [hex(Number(vec), 2), n])}
      />
    </Section>
  );
}

export function VmmView({ s }: { s: SystemState }) {
  return (
    <>
      {Object.values(s.vmm).map((d) => (
        <Section key={d.device} title={`QEMU ${d.device}: guest's MSI-X (hw/pci/msix.c)`}>
          <KV
            rows={[
              [
                'MSI-X Enable',
                <Act
                  cmd={{ op: 'guest.msixEnable', device: d.device, enable: !d.msix.enable }}
                  title="the guest writes MSI-X Enable"
                  testid="act-guest-enable"
                >
                  {flag(d.msix.enable)}
                </Act>,
              ],
              [
                'Function Mask',
                <Act
                  cmd={{ op: 'guest.functionMask', device: d.device, masked: !d.msix.function_mask }}
                  title="the guest writes Function Mask"
                  testid="act-guest-function-mask"
                >
                  {flag(d.msix.function_mask)}
                </Act>,
              ],
              ['nr_vectors', d.nr_vectors],
            ]}
          />
          <Table
            head={['entry', 'data', 'ctrl', 'PBA', 'virq', 'kvm_interrupt', 'vfio fd']}
            rows={d.vectors.map((v, i) => [
              i,
              hex(d.msix.table[i]?.data ?? 0, 4),
              <Act
                cmd={{
                  op: d.msix.table[i]?.vector_ctrl & 1 ? 'guest.unmask' : 'guest.mask',
                  device: d.device,
                  vector: i,
                }}
                title={`the guest ${d.msix.table[i]?.vector_ctrl & 1 ? 'unmasks' : 'masks'} entry ${i} (QEMU traps it)`}
                testid={`act-guest-mask-${i}`}
              >
                {d.msix.table[i]?.vector_ctrl & 1 ? 'masked' : 'unmasked'}
              </Act>,
              d.msix.pba[i] ? <b className="pend">1</b> : '0',
              v.virq ?? '-',
              v.kvm_interrupt ?? '-',
              v.vfio_fd ?? '-',
            ])}
          />
        </Section>
      ))}
    </>
  );
}

export function GuestView({ s }: { s: SystemState }) {
  return (
    <Section title="Guest drivers">
      <Table
        head={['device', 'vectors', 'outstanding', 'completions']}
        rows={Object.values(s.guest).map((g) => [
          g.device,
          g.vectors.map((v) => (v.enabled ? hex(v.vector, 2) : '-')).join(' '),
          g.outstanding,
          g.completions,
        ])}
      />
    </Section>
  );
}
