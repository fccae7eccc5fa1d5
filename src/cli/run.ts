// `irqflow run FILE... [--json]`: runs scenarios headless and checks every expectation.
// Exit 0 when all hold, 1 when one fails, 2 for invalid input (unreadable file, bad JSON, bad scenario).

import { readFileSync } from 'node:fs';
import { parseScenario, runScenario, type ScenarioResult } from '../engine/index.ts';

export async function runScenarioFiles(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const files = args.filter((a) => a !== '--json');
  if (files.length === 0) {
    console.error('usage: irqflow run FILE... [--json]');
    return 2;
  }
  const reports: { file: string; error?: string[]; result?: ScenarioResult }[] = [];
  for (const file of files) {
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
