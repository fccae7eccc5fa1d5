// The engine's public surface: everything the worker, the CLI, the tests and the benchmarks use.
export { createSystem, type System, type SystemOptions } from './system.ts';
export { HOPS, hopFn } from './hops.ts';
export { DEFAULT_COST, type CostModel } from './cost.ts';
export { COMMANDS, type CommandSpec } from './commands.ts';
export * from './types.ts';
