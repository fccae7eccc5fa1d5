// `npm run bench [-- --json] [-- --page]`: prints the engine's figures (and, with --page, the page's,
// against a build in dist/) against the budgets in docs/design.md.
import { benchEngine } from './engine.ts';
import { benchPage } from './page.ts';

const json = process.argv.includes('--json');
const engine = benchEngine();
const page = process.argv.includes('--page') ? await benchPage() : undefined;
if (json) {
  console.log(JSON.stringify(page ? { engine, page } : { engine }));
} else {
  const mb = (engine.traceBytesPerEvent * 1e6) / 2 ** 20;
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
    `  trace: ${engine.traceBytesPerEvent} B/event in columns: 1 M events = ${mb.toFixed(1)} MB (budget <= 64 MB); ${engine.traceAllocatedBytesPerEvent} B/event allocated now (arrays grow by doubling)`,
  );
  if (page) {
    console.log('page (headless Chromium, vite preview):');
    console.log(
      `  JavaScript ${page.jsGzipKB} KB gzip (budget <= 300 KB); first diagram ${page.firstDiagramMs} ms (budget < 1000 ms)`,
    );
    console.log(
      `  Step to updated diagram: p95 ${page.stepLatencyP95Ms} ms, median ${page.stepLatencyMedianMs} ms (budget p95 <= 50 ms)`,
    );
    console.log(
      `  storm, ${page.stormInterruptsInFlight} interrupts in flight (${page.stormDotsInFlight} dots moving): ${page.stormFps} fps (budget >= 55), main thread ${page.stormMainThreadMsPerFrame} ms/frame (budget <= 8 ms)`,
    );
  }
}
