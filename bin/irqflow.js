#!/usr/bin/env node
// The irqflow command line (src/cli). The CLI imports the engine's TypeScript directly through tsx,
// so the command, the tests and the worker always run the same engine source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
