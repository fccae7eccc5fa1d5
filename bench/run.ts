// `npm run bench [-- --json]`: prints the engine's figures against the DESIGN.md budgets.
import { benchEngine } from './engine.ts';

const json = process.argv.includes('--json');
const engine = benchEngine();
if (json) {
  console.log(JSON.stringify({ engine }));
} else {
  const mb = (engine.traceAllocatedBytesPerEvent * 1e6) / 2 ** 20;
  console.log(
    `engine: interrupt storm, ${engine.inFlight} interrupts in flight, ${engine.events} hop events`,
  );
  console.log(
    `  ${(engine.eventsPerSecond / 1e6).toFixed(2)} M hop events/s (budget >= 5 M), ${engine.nsPerEvent} ns/event`,
  );
  console.log(
    `  bare event-queue loop: ${engine.bareLoopNsPerEvent} ns/event; engine / bare = ${engine.bareLoopRatio}x`,
  );
  console.log(
    `  trace: ${engine.traceBytesPerEvent} B/event in columns, ${engine.traceAllocatedBytesPerEvent} B/event allocated: 1 M events = ${mb.toFixed(1)} MB (budget <= 64 MB)`,
  );
}
