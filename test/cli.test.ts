// The command line: `irqflow run` exit codes and --json, `irqflow probe` line format and bad lines.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeScript } from '../src/cli/probe.ts';

const BIN = new URL('../bin/irqflow.js', import.meta.url).pathname;
const SCENARIO = new URL('../public/scenarios/msix-direct.json', import.meta.url).pathname;

function irqflow(args: string[]): { code: number; out: string } {
  try {
    return {
      code: 0,
      out: execFileSync('node', [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, out: e.stdout + e.stderr };
  }
}

describe('irqflow run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irqflow-'));

  it('exits 0 when every expectation holds, with per-step results in --json', () => {
    const r = irqflow(['run', SCENARIO, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { files: { result: { passed: boolean; steps: { op: string }[] } }[] };
    expect(json.files[0].result.passed).toBe(true);
    expect(json.files[0].result.steps.map((s) => s.op)).toContain('device.raise');
  });

  it('runs a library index as the scenarios it lists, each once', () => {
    const index = new URL('../public/scenarios/index.json', import.meta.url).pathname;
    const r = irqflow(['run', index, SCENARIO]);
    expect(r.code).toBe(0);
    const listed = (JSON.parse(readFileSync(index, 'utf8')) as { scenarios: unknown[] }).scenarios.length;
    expect(
      r.out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('PASS')),
    ).toHaveLength(listed);
  });

  it('exits 1 when an expectation fails, naming the step', () => {
    const failing = join(dir, 'failing.json');
    writeFileSync(
      failing,
      JSON.stringify({
        format: 1,
        name: 'failing',
        title: 't',
        description: 'd',
        topology: { devices: [{ name: 'nic0' }] },
        steps: [{ command: { op: 'eventfd.create' }, expect: { value: 99 } }],
      }),
    );
    const r = irqflow(['run', failing]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL .*failing\.json[\s\S]*step 0 eventfd\.create: expected value 99/);
  });

  it('exits 2 for a file that is not a valid scenario, saying what is wrong', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 1, name: 'bad', steps: [] }));
    const r = irqflow(['run', bad]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/INVALID[\s\S]*topology/);
    writeFileSync(bad, '{ not json');
    expect(irqflow(['run', bad]).code).toBe(2);
    expect(irqflow(['run', join(dir, 'missing.json')]).code).toBe(2);
    expect(irqflow(['run', JSON.stringify({ format: 9 })]).code).toBe(2);
  });
});

describe('irqflow probe', () => {
  it('prints the kernel line, then one line per call in the oracle probe format', () => {
    const lines = probeScript(
      'info i MSIX\nset s EVENTFD|TRIGGER MSIX 0 1 e0\nset l NONE|TRIGGER MSIX 0 1\nread r e0\n',
      { kernel: '6.1', device: 'e1000e' },
    );
    expect(lines).toEqual([
      '{"op":"kernel","release":"irqflow model of Linux 6.1","device":"e1000e","bdf":"0000:00:02.0"}',
      '{"op":"info","label":"i","ret":0,"errno":"OK","flags":9,"count":5}',
      '{"op":"set","label":"s","ret":0,"errno":"OK"}',
      '{"op":"set","label":"l","ret":0,"errno":"OK"}',
      '{"op":"read","label":"r","signals":1}',
    ]);
  });

  it('answers a line it cannot parse with the probe error line and makes no call', () => {
    const lines = probeScript(
      'bogus x\nset y FOO MSIX 0 1\nread z e16\ninfo "q MSIX extra words\nonlyoneword\n',
      { kernel: '6.12', device: 'virtio-net-pci,vectors=9' },
    );
    expect(lines.slice(1)).toEqual([
      '{"op":"error","label":"x","message":"cannot parse this line"}',
      '{"op":"error","label":"y","message":"cannot parse this line"}',
      '{"op":"error","label":"z","message":"cannot parse this line"}',
      '{"op":"error","label":"\\"q","message":"cannot parse this line"}',
      '{"op":"error","label":"","message":"cannot parse this line"}',
    ]);
  });

  it('exits 2 for an unsupported device or kernel', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'irqflow-')), 's.script');
    writeFileSync(script, 'info i MSIX\n');
    expect(irqflow(['probe', script, '--device', 'ne2k'])).toMatchObject({ code: 2 });
    expect(irqflow(['probe', script, '--kernel', '5.10'])).toMatchObject({ code: 2 });
    expect(irqflow(['probe', script, '--kernel', '6.1']).out).toMatch(/"flags":9,"count":5/);
  });
});
