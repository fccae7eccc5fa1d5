// `npx tsx bench/trace-digest.ts`: a hash of the trace rows and the final snapshot of every library
// scenario (under every design and kernel profile), every old-format test fixture, and a short storm run
// both with run() and with step() (how many rows each Step returns is part of the hash). An engine change
// that keeps the trace bit-identical and deterministic prints the same lines; `--all` prints one line per
// case instead of the total alone; `--reuse` first fills the trace's chunk pool with a disposed storm's
// dirty chunks and disposes every system once hashed, so the cases write into reused memory (sim/trace.ts)
// and must still print the same total.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import {
  DESIGN_IDS,
  PROFILES,
  parseScenario,
  runStep,
  scenarioSystem,
  type Scenario,
  type System,
} from '../src/engine/index.ts';
import type { DesignGeneration, KernelProfile } from '../src/engine/types.ts';
import { stormSystem, VECTORS } from './engine.ts';

function digestOf(sys: System, extra: unknown[] = []): string {
  const h = createHash('sha256');
  const n = sys.traceLength();
  for (let i = 0; i < n; i += 4096) h.update(JSON.stringify(sys.traceSlice(i, Math.min(n, i + 4096))));
  h.update(JSON.stringify(sys.snapshot()));
  h.update(JSON.stringify(extra));
  return h.digest('hex').slice(0, 16);
}

function load(url: URL): Scenario {
  const p = parseScenario(JSON.parse(readFileSync(url, 'utf8')));
  if (!p.ok) throw new Error(`${url.pathname}: ${p.errors.join('; ')}`);
  return p.scenario;
}

const lines: string[] = [];
const all = process.argv.includes('--all');
const add = (name: string, d: string) => lines.push(`${d} ${name}`);
const reuse = process.argv.includes('--reuse');
const done = (sys: System) => {
  if (reuse) sys.dispose();
};
if (reuse) {
  const sys = stormSystem();
  for (let r = 0; r < 12; r++) {
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, vectors: VECTORS });
    sys.run();
  }
  sys.dispose();
}

const lib = new URL('../public/scenarios/', import.meta.url);
const fixtures = new URL('../test/fixtures/old-format/', import.meta.url);
const cases: [string, URL][] = [
  ...readdirSync(lib)
    .filter((f) => f.endsWith('.json') && f !== 'index.json')
    .sort()
    .map((f): [string, URL] => [`scenarios/${f}`, new URL(f, lib)]),
  ...readdirSync(fixtures)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f): [string, URL] => [`fixtures/${f}`, new URL(f, fixtures)]),
];

for (const [name, url] of cases) {
  const s = load(url);
  const variants: { design?: DesignGeneration; profile?: KernelProfile }[] = [
    {},
    ...DESIGN_IDS.map((design) => ({ design })),
    ...(Object.keys(PROFILES) as KernelProfile[]).map((profile) => ({ profile })),
  ];
  for (const v of variants) {
    let sys: System;
    try {
      sys = scenarioSystem(s, v);
    } catch (err) {
      add(`${name} ${JSON.stringify(v)}`, `refused:${(err as Error).message.slice(0, 40)}`);
      continue;
    }
    const results = s.steps.map((_, i) => runStep(sys, s, i).result);
    add(`${name} ${JSON.stringify(v)}`, digestOf(sys, results));
    done(sys);
  }
}

// The storm, run to idle, then the same storm one Step at a time: each Step's row count is hashed.
{
  const sys = stormSystem();
  for (let r = 0; r < 3; r++) {
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, vectors: VECTORS });
    sys.run();
  }
  sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, vectors: VECTORS });
  const stops: unknown[] = [];
  stops.push(sys.run({ until: sys.engine.state.time + 1234 }), sys.run({ maxEvents: 777 }));
  sys.run();
  add('storm run', digestOf(sys, stops));
  done(sys);
}
{
  const sys = stormSystem();
  const counts: number[] = [];
  for (let r = 0; r < 2; r++) {
    sys.apply({ op: 'device.raise', device: 'nic0', vector: 0, vectors: VECTORS });
    while (!sys.idle()) counts.push(sys.step().length);
  }
  add('storm step', digestOf(sys, counts));
  done(sys);
}

const total = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
if (all) for (const l of lines) console.log(l);
console.log(`${total} total (${lines.length} cases)`);
