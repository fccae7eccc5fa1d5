// `irqflow run FILE... [--json]`: runs scenarios headless and checks every expectation.
// Exit 0 when all hold, 1 when one fails, 2 for invalid input (unreadable file, bad JSON, bad scenario).

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseScenario, runScenario, type ScenarioResult } from '../engine/index.ts';

export async function runScenarioFiles(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const files = args.filter((a) => a !== '--json');
  if (files.length === 0) {
    console.error('usage: irqflow run FILE... [--json]');
    return 2;
  }
  const reports: { file: string; error?: string[]; result?: ScenarioResult }[] = [];
  for (const file of expandLibraries(files)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      reports.push({ file, error: [`cannot read ${file}: ${(err as Error).message}`] });
      continue;
    }
    const parsed = parseScenario(raw);
    if (!parsed.ok) {
      reports.push({ file, error: parsed.errors });
      continue;
    }
    reports.push({ file, result: runScenario(parsed.scenario) });
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
      const raw = JSON.parse(readFileSync(file, 'utf8')) as {
        format?: unknown;
        scenarios?: { file?: unknown }[];
      };
      if (raw.format === undefined && Array.isArray(raw.scenarios))
        listed = raw.scenarios
          .filter((x) => typeof x.file === 'string')
          .map((x) => join(dirname(file), x.file as string));
    } catch {
      // not readable or not JSON: reported as invalid below
    }
    for (const f of listed ?? [file]) if (!out.some((o) => resolve(o) === resolve(f))) out.push(f);
  }
  return out;
}

function printReport(r: { file: string; error?: string[]; result?: ScenarioResult }): void {
  if (r.error) {
    console.log(`INVALID ${r.file}`);
    for (const e of r.error) console.log(`  ${e}`);
    return;
  }
  const res = r.result!;
  const failed = res.steps.filter((s) => s.failures.length > 0);
  console.log(`${res.passed ? 'PASS' : 'FAIL'} ${r.file} (${res.steps.length} steps)`);
  for (const s of failed) for (const f of s.failures) console.log(`  step ${s.index} ${s.op}: ${f}`);
}
