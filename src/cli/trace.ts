// `irqflow trace FILE [-o OUT.json]`: runs a scenario headless and writes its trace in the Chrome trace
// event format, for Perfetto (ui.perfetto.dev: Open trace file) or chrome://tracing. Exit 0 written,
// 1 the scenario's expectations failed (the trace is still written), 2 invalid input.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseScenarioText, runStep, scenarioSystem } from '../engine/index.ts';
import { chromeTrace } from '../engine/scenario/chrome-trace.ts';
import { printable } from './printable.ts';

export const TRACE_USAGE = 'usage: irqflow trace FILE [-o OUT.json]';

export function traceScenario(args: string[]): number {
  let outFile: string | null = null;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-o' || args[i] === '--out') outFile = args[++i] ?? null;
    else files.push(args[i]);
  }
  if (files.length !== 1 || (args.includes('-o') && !outFile)) {
    console.error(TRACE_USAGE);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(files[0], 'utf8');
  } catch (err) {
    console.error(printable(`irqflow trace: cannot read ${files[0]}: ${(err as Error).message}`));
    return 2;
  }
  const parsed = parseScenarioText(text);
  if (!parsed.ok) {
    console.error(printable(`irqflow trace: ${files[0]} is not a valid scenario`));
    for (const e of parsed.errors.slice(0, 20)) console.error(printable(`  ${e}`));
    return 2;
  }
  const s = parsed.scenario;
  const sys = scenarioSystem(s);
  let failed = 0;
  for (let i = 0; i < s.steps.length; i++) failed += runStep(sys, s, i).failures.length ? 1 : 0;
  const state = sys.engine.state;
  const trace = chromeTrace(sys.traceSlice(0, sys.traceLength()), {
    name: s.name,
    profile: state.profile,
    design: state.design,
  });
  const json = JSON.stringify(trace);
  if (outFile) {
    writeFileSync(outFile, json);
    console.log(
      printable(`wrote ${outFile}: ${trace.traceEvents.length} trace events from ${sys.traceLength()} hops`),
    );
  } else console.log(json);
  if (failed) console.error(`irqflow trace: ${failed} step(s) of ${s.name} failed their expectations`);
  return failed ? 1 : 0;
}
