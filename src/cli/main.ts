// The irqflow command line: `irqflow run FILE...` runs scenarios headless and checks their expectations;
// `irqflow probe SCRIPT` answers a vfio-probe script like the real kernel would. Node only; the engine it
// runs is the same module the page's worker runs.

import { readFileSync } from 'node:fs';
import { probeScript } from './probe.ts';
import { probeKvmScript } from './probe-kvm.ts';
import { runScenarioFiles } from './run.ts';
import { traceScenario } from './trace.ts';
import { scenarioJsonSchema } from './schema.ts';

const USAGE = `usage:
  irqflow run FILE... [--json] [--max-trace-events N] [--max-interrupts N]
                                               run scenarios, check expectations (exit 0 pass, 1 fail, 2 invalid)
  irqflow trace FILE [-o OUT.json]              the scenario's trace in the Chrome trace format, for Perfetto
  irqflow schema                               print the scenario format's JSON Schema
  irqflow probe SCRIPT [--kernel 6.1|6.12] [--device e1000e|virtio-net-pci,vectors=N]
  irqflow probe --kvm SCRIPT [--kernel 6.1|6.12] [--param kvm.vector_hashing=0]
                                               answer a vfio-probe (or kvm-probe) script as the real kernel does`;

/** Exit status of a crash inside irqflow itself (sysexits.h EX_SOFTWARE): neither a failure nor bad input. */
export const EXIT_INTERNAL = 70;

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === 'run') return await runScenarioFiles(rest);
    if (cmd === 'probe') return probe(rest);
    if (cmd === 'trace') return traceScenario(rest);
    if (cmd === 'schema' && rest.length === 0) {
      process.stdout.write(scenarioJsonSchema());
      return 0;
    }
    console.error(USAGE);
    return 2;
  } catch (err) {
    console.error(
      `irqflow: internal error (please report it with the input): ${(err as Error).stack ?? String(err)}`,
    );
    return EXIT_INTERNAL;
  }
}

function probe(args: string[]): number {
  let kernel = '6.12';
  let device = 'e1000e';
  let kvm = false;
  const params: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--kernel') kernel = args[++i] ?? '';
    else if (args[i] === '--device') device = args[++i] ?? '';
    else if (args[i] === '--kvm') kvm = true;
    else if (args[i] === '--param') params.push(args[++i] ?? '');
    else files.push(args[i]);
  }
  if (!kvm && params.length > 0) {
    console.error('irqflow probe: --param is for KVM scripts (--kvm)');
    return 2;
  }
  if (kernel !== '6.1' && kernel !== '6.12') {
    console.error(`irqflow probe: --kernel ${kernel}: the modelled kernels are 6.1 and 6.12`);
    return 2;
  }
  if (files.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(files[0], 'utf8');
  } catch (err) {
    console.error(`irqflow probe: cannot read ${files[0]}: ${(err as Error).message}`);
    return 2;
  }
  try {
    const lines = kvm ? probeKvmScript(text, { kernel, params }) : probeScript(text, { kernel, device });
    for (const line of lines) console.log(line);
  } catch (err) {
    console.error(`irqflow probe: ${(err as Error).message}`);
    return 2;
  }
  return 0;
}
