// Inspector views of the hardware column: a PCI function, its MSI-X table and PBA, MSI, INTx, IMS
// storage, and a virtual device's emulated registers.

import type { PciDeviceState, SystemState } from '../../engine/index.ts';
import { hex } from '../format.ts';
import { Act, Flash, KV, Section, Table, flag } from './parts.tsx';

const MAX_ROWS = 256;

export function DeviceView({ d }: { d: PciDeviceState }) {
  return (
    <Section title={`${d.name}  ${d.bdf}`}>
      <KV
        rows={[
          ['vendor:device', `${hex(d.vendor, 4)}:${hex(d.device, 4)}`],
          ['pcie', flag(d.pcie)],
          ['passthrough', flag(d.passthrough, 'vfio-pci', 'host driver')],
          ['command', `${hex(d.command, 4)}${d.command & 0x400 ? ' (DisINTx)' : ''}`],
          ['status', `${hex(d.status, 4)}${d.status & 0x8 ? ' (Interrupt Status)' : ''}`],
        ]}
      />
      {d.msix && <MsixView d={d} />}
      {d.msi && <MsiView d={d} />}
      <IntxView d={d} />
      {d.ims && <ImsView d={d} />}
    </Section>
  );
}

export function MsixView({ d }: { d: PciDeviceState }) {
  const m = d.msix;
  if (!m) return <p className="muted">no MSI-X capability</p>;
  return (
    <Section title="MSI-X capability">
      <KV
        rows={[
          ['Table Size', `${m.table_size} (Message Control ${hex(m.table_size - 1)})`],
          [
            'MSI-X Enable',
            <Flash v={m.enable} path={`devices.${d.name}.msix.enable`}>
              {flag(m.enable)}
            </Flash>,
          ],
          [
            'Function Mask',
            <Act
              cmd={{ op: 'device.functionMask', device: d.name, masked: !m.function_mask }}
              title="host write to Message Control"
              testid="act-function-mask"
            >
              {flag(m.function_mask)}
            </Act>,
          ],
          ['table', `BIR ${m.table_bir} offset ${hex(m.table_offset)}`],
          ['PBA', `BIR ${m.pba_bir} offset ${hex(m.pba_offset)}`],
        ]}
      />
      <Table
        testid="msix-table"
        head={['#', 'addr_hi', 'addr_lo', 'data', 'vector_ctrl', 'PBA', '']}
        rows={m.table.slice(0, MAX_ROWS).map((e, i) => [
          i,
          // Upper address unpadded (0x0 on x86's 0xfee… MSI window): the table fits a 400 px inspector.
          <Flash v={e.addr_hi} path={`devices.${d.name}.msix.table.${i}.addr_hi`}>
            {hex(e.addr_hi)}
          </Flash>,
          <Flash v={e.addr_lo} path={`devices.${d.name}.msix.table.${i}.addr_lo`}>
            {hex(e.addr_lo, 8)}
          </Flash>,
          <Flash v={e.data} path={`devices.${d.name}.msix.table.${i}.data`}>
            {hex(e.data, 4)}
          </Flash>,
          // Mask bit: a dword write to the entry's Vector Control (offset 16 * entry + 12).
          <Act
            cmd={{ op: 'device.msixWrite', device: d.name, offset: i * 16 + 12, value: e.vector_ctrl ^ 1 }}
            title={`${e.vector_ctrl & 1 ? 'unmask' : 'mask'} entry ${i} (host write to the table)`}
            testid={`act-mask-${i}`}
          >
            <Flash v={e.vector_ctrl} path={`devices.${d.name}.msix.table.${i}.vector_ctrl`}>
              <span className={e.vector_ctrl & 1 ? 'masked' : 'on'}>
                {hex(e.vector_ctrl)} {e.vector_ctrl & 1 ? 'masked' : 'unmasked'}
              </span>
            </Flash>
          </Act>,
          <Flash v={m.pba[i]} path={`devices.${d.name}.msix.pba.${i}`}>
            {m.pba[i] ? (
              <b className="pend" title={`pending bit set by interrupt ${m.pba_irq[i]}`}>
                1 irq {m.pba_irq[i]}
              </b>
            ) : (
              '0'
            )}
          </Flash>,
          <Act
            cmd={{ op: 'device.raise', device: d.name, vector: i }}
            title={`the device raises vector ${i}`}
            testid={`act-raise-${i}`}
          >
            raise
          </Act>,
        ])}
      />
      {m.table_size > MAX_ROWS && (
        <p className="muted">
          first {MAX_ROWS} of {m.table_size} entries
        </p>
      )}
    </Section>
  );
}

export function MsiView({ d }: { d: PciDeviceState }) {
  const m = d.msi;
  if (!m) return <p className="muted">no MSI capability</p>;
  return (
    <Section title="MSI capability">
      <KV
        rows={[
          ['enable', flag(m.enable)],
          ['Multiple Message', `enable ${m.mme} / capable ${m.mmc}`],
          ['address', `${hex(m.address_hi, 8)}:${hex(m.address, 8)}${m.addr64 ? ' (64-bit)' : ''}`],
          ['data', hex(m.data, 4)],
          ['mask_bits', m.per_vector_mask ? hex(m.mask_bits, 8) : 'no per-vector masking'],
          ['pending_bits', hex(m.pending_bits, 8)],
        ]}
      />
    </Section>
  );
}

export function IntxView({ d }: { d: PciDeviceState }) {
  const pin = d.intx.pin;
  return (
    <Section title="INTx">
      <KV
        rows={[
          ['pin', pin ? `INT${'ABCD'[pin - 1]}` : 'none'],
          ['asserted', d.intx.asserted ? `yes (irq ${d.intx.asserted_irq})` : 'no'],
          ['DisINTx', flag(!!(d.command & 0x400))],
        ]}
      />
    </Section>
  );
}

export function ImsView({ d }: { d: PciDeviceState }) {
  const ims = d.ims;
  if (!ims) return <p className="muted">no IMS</p>;
  const used = ims.entries.map((e, i) => ({ e, i })).filter(({ e }) => e.owner !== null || e.pending);
  return (
    <Section title={`IMS storage (${ims.size} entries, ${used.length} in use)`}>
      <Table
        testid="ims-table"
        empty="no entry allocated"
        head={['entry', 'owner', 'cookie', 'address', 'data', 'mask', 'pending', 'host irq', '']}
        rows={used.slice(0, MAX_ROWS).map(({ e, i }) => [
          i,
          e.owner ?? '-',
          e.cookie ?? '-',
          hex(e.address, 8),
          hex(e.data, 4),
          e.masked ? <span className="masked">masked</span> : 'unmasked',
          <Flash v={e.pending} path={`devices.${d.name}.ims.entries.${i}.pending`}>
            {e.pending ? <b className="pend">1 (irq {e.pending_irq})</b> : '0'}
          </Flash>,
          e.host_irq ?? '-',
          <Act
            cmd={{ op: 'device.raise', device: d.name, ims: i }}
            title={`the device raises IMS entry ${i}`}
            testid={`act-ims-raise-${i}`}
          >
            raise
          </Act>,
        ])}
      />
    </Section>
  );
}

export function VdevView({ s, name }: { s: SystemState; name: string }) {
  const v = s.vdevs[name];
  if (!v) return <p className="muted">no virtual device {name}</p>;
  return (
    <Section title={`${name}: ${v.kind} wq${v.wq} of ${v.parent}`}>
      <KV
        rows={[
          ['cookie (PASID)', v.cookie],
          ['cmd', hex(v.regs.cmd)],
          ['cmdsts', hex(v.regs.cmdsts)],
          ['dev_enabled', flag(v.regs.dev_enabled)],
          ['wq_enabled', flag(v.regs.wq_enabled)],
        ]}
      />
      <Table
        head={['vector', 'backend', 'IMS entry']}
        rows={v.vectors.map((x, i) => [i, x.backend, x.ims_index ?? '-'])}
      />
    </Section>
  );
}
