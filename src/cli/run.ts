// `irqflow run FILE... [--json] [--max-trace-events N] [--max-interrupts N]`: runs scenarios headless and
// checks every expectation. Exit 0 when all hold, 1 when one fails, 2 for invalid input (unreadable file,
// bad JSON, bad scenario, bad option).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseScenarioText, runScenario, type Limits, type ScenarioResult } from '../engine/index.ts';
import { printable } from './printable.ts';

export const RUN_USAGE = 'usage: irqflow run FILE... [--json] [--max-trace-events N] [--max-interrupts N]';

const LIMIT_FLAGS: Record<string, keyof Limits> = {
  '--max-trace-events': 'trace_events',
  '--max-interrupts': 'interrupts',
};

export async function runScenarioFiles(args: string[]): Promise<number> {
  let json = false;
  const limits: Partial<Limits> = {};
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (Object.hasOwn(LIMIT_FLAGS, a)) {
      const n = Number(args[++i]);
      if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
        console.error(`irqflow run: ${a} takes an integer 1..${2 ** 31 - 1}`);
        return 2;
      }
      limits[LIMIT_FLAGS[a]] = n;
    } else if (a.startsWith('--')) {
      console.error(`irqflow run: unknown option ${printable(a)}\n${RUN_USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length === 0) {
    console.error(RUN_USAGE);
    return 2;
  }
  const reports: { file: string; error?: string[]; result?: ScenarioResult }[] = [];
  for (const file of expandLibraries(files)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      reports.push({ file, error: [`cannot read ${file}: ${(err as Error).message}`] });
      continue;
    }
    const parsed = parseScenarioText(text);
    if (!parsed.ok) {
      reports.push({ file, error: parsed.errors });
      continue;
    }
    reports.push({ file, result: runScenario(parsed.scenario, { limits }) });
  }
  if (json) console.log(JSON.stringify({ files: reports }, null, 2));
  else for (const r of reports) printReport(r);
  if (reports.some((r) => r.error)) return 2;
  return reports.every((r) => r.result!.passed) ? 0 : 1;
}

/**
 * A library index (public/scenarios/index.json: `{ default, scenarios: [{ file }] }`) stands for the
 * scenarios it lists; each file runs once however it was named.
 */
function expandLibraries(files: string[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    let listed: string[] | null = null;
    try {
      const text = readFileSync(file, 'utf8');
      const raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as {
        format?: unknown;
        scenarios?: { file?: unknown }[];
      };
      if (raw !== null && typeof raw === 'object' && raw.format === undefined && Array.isArray(raw.scenarios))
        listed = raw.scenarios
          .filter((x) => x !== null && typeof x === 'object' && typeof x.file === 'string')
          .map((x) => join(dirname(file), x.file as string));
    } catch {
      // not readable or not JSON: reported as invalid below
    }
    for (const f of listed ?? [file]) if (!out.some((o) => resolve(o) === resolve(f))) out.push(f);
  }
  return out;
}

function printReport(r: { file: string; error?: string[]; result?: ScenarioResult }): void {
  const say = (line: string): void => console.log(printable(line));
  if (r.error) {
    say(`INVALID ${r.file}`);
    const shown = r.error.slice(0, 20);
    for (const e of shown) say(`  ${e}`);
    if (r.error.length > shown.length) say(`  ... and ${r.error.length - shown.length} more`);
    return;
  }
  const res = r.result!;
  const failed = res.steps.filter((s) => s.failures.length > 0);
  say(`${res.passed ? 'PASS' : 'FAIL'} ${r.file} (${res.steps.length} steps)`);
  for (const s of failed) for (const f of s.failures) say(`  step ${s.index} ${s.op}: ${f}`);
}
