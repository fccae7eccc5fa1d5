// The page's budgets (docs/design.md), measured in headless Chromium against the built app served by
// `vite preview`: JavaScript size gzip, time to the first interactive diagram, Step latency (click to
// updated diagram, p95), and frames during a storm of 1,000 interrupts in flight (fps, main-thread work
// per frame from Chromium's own task accounting). Run after `npm run build`; prints figures.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../e2e/chromium.ts';

const PORT = 4179;
const URL = `http://localhost:${PORT}/`;

export interface PageFigures {
  jsGzipKB: number;
  firstDiagramMs: number;
  stepLatencyP95Ms: number;
  stepLatencyMedianMs: number;
  stormFps: number;
  stormMainThreadMsPerFrame: number;
  stormDotsInFlight: number;
  stormInterruptsInFlight: number;
}

function jsGzipKB(): number {
  const dir = 'dist/assets';
  let bytes = 0;
  for (const f of readdirSync(dir))
    if (f.endsWith('.js')) bytes += gzipSync(readFileSync(`${dir}/${f}`)).length;
  return +(bytes / 1024).toFixed(1);
}

async function serve(): Promise<() => void> {
  const p = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { stdio: 'pipe' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(URL)).ok) return () => p.kill();
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  p.kill();
  throw new Error('vite preview did not start');
}

const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function stepLatencies(page: Page, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const enabled = await page.getByTestId('btn-step').isEnabled();
    const id = enabled ? 'btn-step' : 'btn-next-command';
    if (!enabled && !(await page.getByTestId(id).isEnabled())) break;
    // Click inside the page and time until the toolbar shows the new history and a frame is painted.
    const ms = await page.evaluate(
      (testid) =>
        new Promise<number>((resolve) => {
          const bar = document.querySelector('[data-testid=toolbar]')!;
          const before = bar.getAttribute('data-history');
          const t0 = performance.now();
          const obs = new MutationObserver(() => {
            if (bar.getAttribute('data-history') !== before) {
              obs.disconnect();
              requestAnimationFrame(() => resolve(performance.now() - t0));
            }
          });
          obs.observe(bar, { attributes: true });
          (document.querySelector(`[data-testid=${testid}]`) as HTMLButtonElement).click();
        }),
      id,
    );
    out.push(ms);
    await page.getByTestId('toolbar').and(page.locator('[data-busy=false]')).waitFor();
  }
  return out;
}

export async function benchPage(): Promise<PageFigures> {
  if (!existsSync('dist/index.html')) throw new Error('run `npm run build` first');
  const stop = await serve();
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(URL);
    // Milliseconds since navigation start (performance.now in the page) when the diagram first shows
    // nodes and the engine is idle: polled every animation frame inside the page.
    const firstDiagramMs = await page.evaluate<number>(`new Promise((resolve) => {
      const ready = () => {
        const d = document.querySelector('[data-testid=diagram]');
        const bar = document.querySelector('[data-testid=toolbar]');
        if (d && Number(d.getAttribute('data-nodes')) > 0 && bar && bar.getAttribute('data-busy') === 'false') resolve(Math.round(performance.now()));
        else requestAnimationFrame(ready);
      };
      ready();
    })`);

    const steps = await stepLatencies(page, 30);

    // A storm: 1,000 interrupts raised at once, played at the fastest speed.
    await page.evaluate(async () => {
      const w = window as unknown as {
        irqflow: { actions: { apply(c: object): Promise<unknown>; setSpeed(n: number): void; play(): void } };
      };
      await w.irqflow.actions.apply({ op: 'guest.msixEnable', device: 'nic0' });
      await w.irqflow.actions.apply({ op: 'device.raise', device: 'nic0', vector: 3, count: 1000 });
      w.irqflow.actions.setSpeed(1000);
      w.irqflow.actions.play();
    });
    await page.waitForTimeout(300);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = async () => {
      const { metrics } = (await cdp.send('Performance.getMetrics')) as {
        metrics: { name: string; value: number }[];
      };
      return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
    };
    const before = await metric();
    // A string, not a function: tsx would wrap a named inner function with a helper the page lacks.
    const frames = await page.evaluate<number>(`new Promise((resolve) => {
      let n = 0;
      const start = performance.now();
      const tick = () => (performance.now() - start < 2000 ? (n++, requestAnimationFrame(tick)) : resolve(n));
      requestAnimationFrame(tick);
    })`);
    const after = await metric();
    const dots = Number(await page.getByTestId('dots').getAttribute('data-in-flight'));
    const inFlight = Number(
      ((await page.getByTestId('counter-in-flight').textContent()) ?? '').replace(/\D.*$/, ''),
    );
    const taskSeconds = after.TaskDuration - before.TaskDuration;
    return {
      jsGzipKB: jsGzipKB(),
      firstDiagramMs,
      stepLatencyP95Ms: +percentile(steps, 0.95).toFixed(1),
      stepLatencyMedianMs: +percentile(steps, 0.5).toFixed(1),
      stormFps: +(frames / 2).toFixed(1),
      stormMainThreadMsPerFrame: +((taskSeconds * 1000) / Math.max(1, frames)).toFixed(2),
      stormDotsInFlight: dots,
      stormInterruptsInFlight: inFlight,
    };
  } finally {
    await browser.close();
    stop();
  }
}
