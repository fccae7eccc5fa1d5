// `npm run bench [-- --json]`: prints the engine's figures against the budgets in docs/design.md;
// `npm run bench:page [-- --json]` (--page) the page's instead, against a build in dist/.
import { benchEngine } from './engine.ts';
import { benchPage } from './page.ts';

const json = process.argv.includes('--json');
if (process.argv.includes('--page')) {
  // `npm run bench:page`: the page alone; the process ends when it is done (no server left behind).
  const page = await benchPage();
  if (json) console.log(JSON.stringify({ page }));
  else {
    console.log('page (headless Chromium, vite preview):');
    console.log(
      `  JavaScript ${page.jsGzipKB} KB gzip (budget <= 300 KB); first diagram ${page.firstDiagramMs} ms (budget < 1000 ms)`,
    );
    console.log(
      `  Step to the hop's token on screen, p95: ${page.stepLatencyP95Ms} ms at the head, ${page.stepInRunLatencyP95Ms} ms inside a run (budget 50 ms)`,
    );
    for (const n of ['100', '1000', '5000'] as const)
      console.log(
        `  ${n} interrupts in flight: ${page.tokensOnScreen[n]} tokens on screen at once, ${page.fps[n]} fps, ${page.frameMs[n]} ms main thread per frame${n === '1000' ? ' (budget >= 55 fps, <= 8 ms)' : ''}`,
      );
  }
  process.exit(0);
}
const engine = await benchEngine();
if (json) {
  console.log(JSON.stringify({ engine }));
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
}
