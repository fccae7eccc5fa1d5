// The engine's model of KVM answers every recorded KVM oracle call exactly as KVM did (oracle/kvm-fixtures:
// Debian's 6.1 and 6.12, kvm_amd under TCG). `irqflow probe --kvm` runs each kvm-script; a difference is
// a bug in the engine. Line 1 names the kernel (the real parameters vs the model's) and is compared in part.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { probeKvmScript } from '../src/cli/probe-kvm.ts';
import { PROFILES } from '../src/engine/index.ts';

const FIXTURES = new URL('../oracle/kvm-fixtures/', import.meta.url);
const SCRIPTS = new URL('../oracle/kvm-scripts/', import.meta.url);
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl'));
const scripts = readdirSync(SCRIPTS).filter((f) => f.endsWith('.script'));

describe('irqflow probe --kvm matches KVM itself', () => {
  it('every kvm-script is recorded on both kernels, with at least 150 calls and every verb', () => {
    expect(fixtures.sort()).toEqual(
      scripts
        .flatMap((s) => [`${s.replace('.script', '')}.6.1.jsonl`, `${s.replace('.script', '')}.6.12.jsonl`])
        .sort(),
    );
    const lines = fixtures.flatMap((f) =>
      readFileSync(new URL(f, FIXTURES), 'utf8').trim().split('\n').slice(1),
    );
    expect(lines.length).toBeGreaterThanOrEqual(150 * 2);
    const verbs = new Set(lines.map((l) => (JSON.parse(l) as { op: string }).op));
    for (const v of ['vm', 'vcpu', 'lapic', 'setlapic', 'route', 'irqfd', 'signal', 'read', 'msi', 'irq'])
      expect(verbs, v).toContain(v);
    for (const v of ['events', 'mpstate', 'regs', 'cap', 'run', 'error']) expect(verbs, v).toContain(v);
  });

  for (const f of fixtures) {
    const m = /^(.+)\.(6\.1|6\.12)\.jsonl$/.exec(f)!;
    it(f, () => {
      const [, script, kernel] = m;
      const want = readFileSync(new URL(f, FIXTURES), 'utf8').trim().split('\n');
      const got = probeKvmScript(readFileSync(new URL(`${script}.script`, SCRIPTS), 'utf8'), {
        kernel: kernel as '6.1' | '6.12',
      });
      const w0 = JSON.parse(want[0]) as { release: string; params: { kvm: { vector_hashing: string } } };
      const g0 = JSON.parse(got[0]) as typeof w0;
      expect(w0.release).toBe(PROFILES[kernel as '6.1' | '6.12'].release);
      expect(g0.release).toBe(w0.release);
      expect(g0.params.kvm.vector_hashing).toBe(w0.params.kvm.vector_hashing);
      expect(got.slice(1)).toEqual(want.slice(1));
    });
  }
});

describe('the KVM rules the recordings settle (each a line of a fixture)', () => {
  const run = (text: string, kernel: '6.1' | '6.12' = '6.12'): Record<string, Record<string, unknown>> =>
    Object.fromEntries(
      probeKvmScript(text, { kernel })
        .slice(1)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .map((o) => [o.label as string, o]),
    );

  it('KVM_GET_VCPU_EVENTS nmi.pending is a flag on 6.1 and a count (at most 2) on 6.12; 3 NMIs make 2 deliveries (process_nmi; kvm-lapic:events-3-nmis)', () => {
    const s =
      'vm v\nvcpu c 0\nmsi a dest=0,dlv=nmi\nmsi b dest=0,dlv=nmi\nmsi c2 dest=0,dlv=nmi\nevents ev 0\nrun r 0\n';
    expect(run(s, '6.1').ev.nmi_pending).toBe(1);
    expect(run(s, '6.12').ev.nmi_pending).toBe(2);
    expect(run(s).r.delivered).toEqual(['0x02', '0x02']);
  });

  it('an irqfd assigned on a counting eventfd injects once and leaves the count (kvm_irqfd_assign vfs_poll; kvm-irqfd:read-e3-assigned)', () => {
    const r = run(
      'vm v\nvcpu c 0\nsetlapic en 0 svr=0x1ff\nroute r 2:dest=0,vec=0x52\nsignal s e3 2\nirqfd f e3 2\nread rd e3\nlapic l 0\n',
    );
    expect(r.rd.value).toBe(2);
    expect(r.l.irr).toEqual(['0x52']);
  });

  it('KVM_IRQ_LINE_STATUS sums the routes of a GSI, -1 when none accepted (kvm_set_irq; kvm-irqfd:line-0-up, line-0-down, line-16-up)', () => {
    const r = run('vm v\nvcpu c 0\nirq a 0 1\nirq b 0 0\nirq c 16 1\nirq d 4096 1\n');
    expect([r.a.status, r.b.status, r.c.status, r.d.status]).toEqual([1, 2, -1, -1]);
  });

  it('the PIC delivers ExtINT vector irq_base + pin to the BSP, ahead of the LAPIC, and stays in service (kvm_cpu_get_interrupt; kvm-irqfd:run-line-10)', () => {
    const r = run(
      'vm v\nvcpu c 0\nsetlapic en 0 svr=0x1ff\nirq a 0 1\nmsi m dest=0,vec=0x41\nirq b 4 1\nrun r 0\n',
    );
    expect(r.r.delivered).toEqual(['0x00', '0x41']);
  });

  it('lowest priority without vector hashing goes to the lowest apic_arb_prio, and fixed deliveries do not bump it (kvm-lowest-nohash)', () => {
    const base =
      'vm v\nvcpu a 0\nvcpu b 1\nsetlapic e0 0 svr=0x1ff ldr=0x01000000\nsetlapic e1 1 svr=0x1ff ldr=0x02000000\n';
    const r = probeKvmScript(
      `${base}msi x dest=3,vec=0x70,mode=log,dlv=lowest\nmsi y dest=3,vec=0x71,mode=log,dlv=lowest\nmsi z dest=3,vec=0x72,mode=log,rh=1\nlapic l0 0\nlapic l1 1\n`,
      { kernel: '6.12', params: ['kvm.vector_hashing=0'] },
    ).map((l) => JSON.parse(l) as Record<string, unknown>);
    const l0 = r.find((o) => o.label === 'l0')!;
    const l1 = r.find((o) => o.label === 'l1')!;
    // 0x70 -> vCPU 0 (tie, lowest bit), 0x71 -> vCPU 1 (0 was bumped), 0x72 (rh, fixed: no bump) -> vCPU 0
    expect(l0.irr).toEqual(['0x70', '0x72']);
    expect(l1.irr).toEqual(['0x71']);
  });

  it('lowest priority with vector hashing indexes the destination bits, so a bit with no LAPIC drops the interrupt (kvm_apic_map_get_dest_lapic, kvm_vector_to_index)', () => {
    // dest 0x03 with LAPICs at logical bits 0 and 1: 0x71 -> bit 1 (vCPU 1); dest 0x05 with only bit 0
    // present: 0x71 % 2 = 1 -> bit 2, no LAPIC there: ret 0
    const r = run(
      'vm v\nvcpu a 0\nvcpu b 1\nsetlapic e0 0 svr=0x1ff ldr=0x01000000\nsetlapic e1 1 svr=0x1ff ldr=0x02000000\nmsi x dest=3,vec=0x71,mode=log,dlv=lowest\nmsi y dest=5,vec=0x71,mode=log,dlv=lowest\n',
    );
    expect(r.x.ret).toBe(1);
    expect(r.y.ret).toBe(0);
  });

  it('INIT resets an AP (LAPIC software-disabled, NMIs dropped) and SIPI 2 starts it at CS base 0x2000, rip 0 (kvm_apic_accept_events; kvm-dest:l3-init, regs3-sipi)', () => {
    const r = run(
      'vm v\nvcpu a 0\nvcpu b 1\nsetlapic e 1 svr=0x1ff\nmsi n dest=1,dlv=nmi\nmsi i dest=1,dlv=init\nmpstate m 1\nlapic l 1\nevents ev 1\nmsi s dest=1,dlv=startup,vec=2\nmpstate m2 1\nregs g 1\n',
    );
    expect(r.m.state).toBe('init_received');
    expect(r.l.svr).toBe('0x000000ff');
    expect(r.ev.nmi_pending).toBe(0);
    expect(r.m2.state).toBe('runnable');
    expect(r.g.rip).toBe('0x0');
  });

  it('what the model does not cover is an error line naming it, not a guess', () => {
    const r = run('vm v\nvcpu a 0\nmsi s dest=0,dlv=smi\nrun r 0\ncap c nr_vcpus\n');
    expect(r.r).toMatchObject({ op: 'error' });
    expect(String(r.r.message)).toMatch(/SMM/);
    expect(String(r.c.message)).toMatch(/host/);
  });

  it('irqflow probe --kvm prints the same lines from the command line', () => {
    const bin = new URL('../bin/irqflow.js', import.meta.url).pathname;
    const script = new URL('kvm-lowest-nohash.script', SCRIPTS).pathname;
    const out = execFileSync('node', [bin, 'probe', '--kvm', script, '--kernel', '6.1'], {
      encoding: 'utf8',
    });
    const want = readFileSync(new URL('kvm-lowest-nohash.6.1.jsonl', FIXTURES), 'utf8').trim().split('\n');
    expect(out.trim().split('\n').slice(1)).toEqual(want.slice(1));
  });
});
