// Prints one hash per scenario and mode: the trace rows and the final snapshot of every library scenario
// and every test fixture scenario, run whole (apply each step) under every kernel profile and design, and
// stepped (apply, then step() one event at a time, hashing what each step returned). A structural change
// to the engine must leave every line the same:
//   npx tsx test/trace-digest.ts > before.txt   (unchanged code)
//   npx tsx test/trace-digest.ts | diff before.txt -
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import {
  parseScenario,
  scenarioSystem,
  DESIGN_IDS,
  PROFILES,
  type Scenario,
  type System,
} from '../src/engine/index.ts';

const DIRS = ['public/scenarios', 'test/fixtures/old-format', 'e2e/fixtures'];

function scenarios(): [string, Scenario][] {
  const out: [string, Scenario][] = [];
  for (const d of DIRS)
    for (const f of readdirSync(new URL(`../${d}/`, import.meta.url)).sort()) {
      if (!f.endsWith('.json') || f === 'index.json') continue;
      const p = parseScenario(JSON.parse(readFileSync(new URL(`../${d}/${f}`, import.meta.url), 'utf8')));
      if (p.ok) out.push([`${d}/${f}`, p.scenario]);
      else console.log(`${d}/${f}`, 'not a scenario:', p.errors.join('; '));
    }
  return out;
}

function digest(sys: System, extra: unknown[]): string {
  const h = createHash('sha256');
  const n = sys.traceLength();
  for (let i = 0; i < n; i += 4096) h.update(JSON.stringify(sys.traceSlice(i, Math.min(n, i + 4096))));
  h.update(JSON.stringify(sys.snapshot()));
  h.update(JSON.stringify(extra));
  return `${h.digest('hex').slice(0, 16)} rows=${n}`;
}

for (const [name, s] of scenarios()) {
  for (const profile of Object.keys(PROFILES) as (keyof typeof PROFILES)[])
    for (const design of DESIGN_IDS) {
      let sys: System;
      try {
        sys = scenarioSystem(s, { profile, design });
      } catch (err) {
        console.log(name, profile, design, 'topology error', (err as Error).message);
        continue;
      }
      const results = s.steps.map((st) => sys.apply(st.command as Parameters<System['apply']>[0]));
      console.log(name, profile, design, 'whole', digest(sys, results));
    }
  const sys = scenarioSystem(s);
  const stepped: unknown[] = [];
  for (const st of s.steps) {
    stepped.push(sys.apply(st.command as Parameters<System['apply']>[0]));
    for (let i = 0; i < 100_000; i++) {
      const rows = sys.step();
      if (rows.length === 0) break;
      stepped.push(rows);
    }
  }
  console.log(name, 'default', 'stepped', digest(sys, stepped));
}
