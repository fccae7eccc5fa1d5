// `npm run bench [-- --json] [-- --page]`: prints the engine's figures (and, with --page, the page's,
// against a build in dist/) against the budgets in docs/design.md.
import { benchEngine } from './engine.ts';
import { benchPage } from './page.ts';

const json = process.argv.includes('--json');
const engine = await benchEngine();
const page = process.argv.includes('--page') ? await benchPage() : undefined;
if (json) {
  console.log(JSON.stringify(page ? { engine, page } : { engine }));
} else {
  console.log(
    `engine: interrupt storm, ${engine.inFlight} interrupts in flight, ${engine.events} hop events per storm, ${engine.storms} storms after a warm-up storm`,
  );
  console.log(
    `  ${(engine.eventsPerSecond / 1e6).toFixed(2)} M hop events/s median, ${(engine.eventsPerSecondMin / 1e6).toFixed(2)} M slowest (budget >= 10 M median); ${engine.nsPerEvent} ns/event`,
  );
  console.log(
    `  floor (frozen queue + dispatch + one trace row per event): ${engine.floorNsPerEvent} ns/event; engine / floor = ${engine.floorRatio}x (budget <= 2.5x)`,
  );
  console.log(
    `  trace: ${engine.traceBytesPerEvent} B held per event (budget <= 48), ${engine.traceColumnBytesPerEvent} B in columns; GC ${(engine.gcShare * 100).toFixed(1)}% of the storms (budget < 10%)`,
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
