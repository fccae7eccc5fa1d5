// The engine's public surface: everything the worker, the CLI, the tests and the benchmarks use.
export {
  createSystem,
  TopologyError,
  SnapshotError,
  DEFAULT_LIMITS,
  type Limits,
  type System,
  type SystemOptions,
} from './system.ts';
export {
  parseScenario,
  parseScenarioText,
  scenarioSchema,
  CURRENT_FORMAT,
  MAX_DEPTH,
  stepSchema,
  type Scenario,
  type ScenarioStep,
  type Expectation,
  type Annotation,
} from './scenario/schema.ts';
export {
  runScenario,
  runStep,
  stepFailures,
  scenarioSystem,
  snapshotPath,
  type ScenarioResult,
  type StepResult,
} from './scenario/runner.ts';
export { chromeTrace, type ChromeTrace } from './scenario/chrome-trace.ts';
export { DESIGNS, DESIGN_IDS } from './linux/drivers/vfio/pci/designs.ts';
export { PROFILES } from './profiles.ts';
export { QEMU_VERSION } from './qemu/hw/vfio/pci.ts';
export { irqDomainHierarchy } from './linux/kernel/irq/genirq.ts';
export { INDEX_NAMES, FLAG_NAMES } from './linux/drivers/vfio/vfio_main.ts';
export { HOPS, hopFn } from './hops.ts';
export { DEFAULT_COST, type CostModel } from './cost.ts';
export { COMMANDS, type CommandSpec } from './commands.ts';
export * from './types.ts';
