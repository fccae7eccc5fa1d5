// The engine answers every recorded oracle call exactly as the real kernel did (oracle/fixtures: Debian's
// 6.1 and 6.12 kernels, e1000e and virtio-net-pci). A difference is a bug in the engine.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { probeScript } from '../src/cli/probe.ts';
import { PROFILES } from '../src/engine/index.ts';

const FIXTURES = new URL('../oracle/fixtures/', import.meta.url);
const SCRIPTS = new URL('../oracle/scripts/', import.meta.url);

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl'));

describe('irqflow probe matches the real kernel', () => {
  it('has recordings for both kernels and both devices', () => {
    const kinds = new Set(fixtures.map((f) => f.replace(/^[^.]+\./, '').replace(/\.jsonl$/, '')));
    expect([...kinds].sort()).toEqual([
      '6.1.e1000e',
      '6.1.virtio-net-v9',
      '6.12.e1000e',
      '6.12.virtio-net-v9',
    ]);
    const calls = fixtures.reduce(
      (n, f) => n + readFileSync(new URL(f, FIXTURES), 'utf8').trim().split('\n').length - 1,
      0,
    );
    expect(calls).toBeGreaterThanOrEqual(150);
  });

  it('each profile names the kernel release its recordings come from (shown in the page)', () => {
    for (const f of fixtures) {
      const kernel = /\.(6\.1|6\.12)\./.exec(f)![1] as '6.1' | '6.12';
      const first = JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8').split('\n')[0]) as {
        release: string;
      };
      expect(first.release, f).toBe(PROFILES[kernel].release);
    }
  });

  for (const f of fixtures) {
    const m = /^(.+)\.(6\.1|6\.12)\.(e1000e|virtio-net-v(\d+))\.jsonl$/.exec(f);
    it(f, () => {
      expect(m, `fixture name ${f}`).not.toBeNull();
      const [, script, kernel, dev, vectors] = m!;
      const device = dev === 'e1000e' ? 'e1000e' : `virtio-net-pci,vectors=${vectors}`;
      const want = readFileSync(new URL(f, FIXTURES), 'utf8').trim().split('\n');
      const got = probeScript(readFileSync(new URL(`${script}.script`, SCRIPTS), 'utf8'), {
        kernel: kernel as '6.1' | '6.12',
        device,
      });
      // Line 1 names the kernel release (the real one vs the model); the device must agree.
      expect(JSON.parse(got[0]).device).toBe(JSON.parse(want[0]).device);
      expect(got.slice(1)).toEqual(want.slice(1));
    });
  }
});
