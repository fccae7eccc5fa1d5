// The page's budgets (docs/design.md), measured in headless Chromium against the built app served by
// `vite preview`: JavaScript size gzip, time to the first interactive diagram, Step latency (click to
// the hop's token on screen, p95) at the head of the trace and inside a `run` the engine has already
// played, and storms of 100, 1,000 and 5,000 interrupts in flight: frames per second, main-thread work
// per frame (Chromium's own task accounting) and how many tokens move on screen at once (the median
// over the frames measured).
// Run after `npm run build`; the preview server and the browser are stopped before it returns.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../e2e/chromium.ts';

// IRQFLOW_BENCH_PORT keeps the bench's preview server off another checkout's port.
const PORT = Number(process.env.IRQFLOW_BENCH_PORT ?? 4179);
const URL = `http://localhost:${PORT}/`;
const STORMS = [100, 1000, 5000] as const;
type Storm = `${(typeof STORMS)[number]}`;

export interface PageFigures {
  fps: Record<Storm, number>;
  frameMs: Record<Storm, number>;
  tokensOnScreen: Record<Storm, number>;
  stepLatencyP95Ms: number;
  stepInRunLatencyP95Ms: number;
  jsGzipKB: number;
  firstDiagramMs: number;
}

function jsGzipKB(): number {
  const dir = 'dist/assets';
  let bytes = 0;
  for (const f of readdirSync(dir))
    if (f.endsWith('.js')) bytes += gzipSync(readFileSync(`${dir}/${f}`)).length;
  return +(bytes / 1024).toFixed(1);
}

/** vite preview run by node itself (not through npx), so that killing it ends the server. */
async function serve(): Promise<ChildProcess> {
  const p = spawn(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'preview', '--port', String(PORT), '--strictPort'],
    { stdio: 'ignore' },
  );
  let exited = false;
  p.on('exit', () => (exited = true));
  for (let i = 0; i < 100; i++) {
    // --strictPort: a server already on the port makes vite exit; measuring that other server would lie.
    if (exited) throw new Error(`vite preview could not take port ${PORT} (set IRQFLOW_BENCH_PORT)`);
    try {
      if ((await fetch(URL)).ok) return p;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  p.kill();
  throw new Error('vite preview did not start');
}

const percentile = (xs: number[], p: number) =>
  xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

interface Handle {
  irqflow: {
    actions: {
      apply(c: object): Promise<unknown>;
      nextStep(): Promise<unknown>;
      setSpeed(n: number): void;
      play(mode?: string): void;
      pause(): void;
      seek(at: number): void;
      seekStep(i: number): Promise<void>;
    };
  };
}

async function open(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(URL);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid=diagram]')?.getAttribute('data-nodes')) > 0,
  );
  return page;
}

const settle = (page: Page) =>
  page.waitForFunction(() => {
    const bar = document.querySelector('[data-testid=toolbar]');
    return bar?.getAttribute('data-busy') === 'false' && bar.getAttribute('data-moving') === 'false';
  });

/** Click Step, time until the hop's token is on screen (the player moving, a frame painted). */
async function stepLatencies(page: Page, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!(await page.getByTestId('btn-step').isEnabled())) break;
    const ms = await page.evaluate<number>(`new Promise((resolve) => {
      const bar = document.querySelector('[data-testid=toolbar]');
      const t0 = performance.now();
      const check = () => {
        if (bar.getAttribute('data-moving') === 'true') requestAnimationFrame(() => resolve(performance.now() - t0));
        else requestAnimationFrame(check);
      };
      document.querySelector('[data-testid=btn-step]').click();
      requestAnimationFrame(check);
    })`);
    out.push(ms);
    await settle(page);
  }
  return out;
}

async function storm(browser: Browser, n: number): Promise<{ fps: number; frameMs: number; tokens: number }> {
  const page = await open(browser);
  try {
    await page.evaluate(async (count) => {
      const a = (window as unknown as Handle).irqflow.actions;
      for (let i = 0; i < 3; i++) await a.nextStep();
      await a.apply({ op: 'device.raise', device: 'nic0', vector: 3, count });
      // Two waves a second: each interrupt's token takes half a second per hop, so the N interrupts
      // of a wave are on screen together for the whole measurement.
      a.setSpeed(2);
      a.play('run');
    }, n);
    // Let the first waves leave, then measure two seconds.
    await page.waitForTimeout(1200);
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
    const r = await page.evaluate<{ frames: number; tokens: number }>(`new Promise((resolve) => {
      let n = 0;
      const samples = [];
      const canvas = document.querySelector('[data-testid=dots]');
      const start = performance.now();
      const tick = () => {
        samples.push(Number(canvas.getAttribute('data-in-flight')));
        if (performance.now() - start < 2000) { n++; requestAnimationFrame(tick); }
        else { samples.sort((a, b) => a - b); resolve({ frames: n, tokens: samples[samples.length >> 1] }); }
      };
      requestAnimationFrame(tick);
    })`);
    const after = await metric();
    const taskSeconds = after.TaskDuration - before.TaskDuration;
    await page.evaluate(() => (window as unknown as Handle).irqflow.actions.pause());
    return {
      fps: +(r.frames / 2).toFixed(1),
      frameMs: +((taskSeconds * 1000) / Math.max(1, r.frames)).toFixed(2),
      tokens: r.tokens,
    };
  } finally {
    await page.close();
  }
}

export async function benchPage(): Promise<PageFigures> {
  if (!existsSync('dist/index.html')) throw new Error('run `npm run build` first');
  const server = await serve();
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch(chromiumLaunchOptions());
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(URL);
    // Milliseconds since navigation start when the diagram first shows nodes and the engine is idle.
    const firstDiagramMs = await page.evaluate<number>(`new Promise((resolve) => {
      const ready = () => {
        const d = document.querySelector('[data-testid=diagram]');
        const bar = document.querySelector('[data-testid=toolbar]');
        if (d && Number(d.getAttribute('data-nodes')) > 0 && bar && bar.getAttribute('data-busy') === 'false') resolve(Math.round(performance.now()));
        else requestAnimationFrame(ready);
      };
      ready();
    })`);

    // Step at the head: the scenario's commands, then each hop of its run, one Step at a time.
    await page.evaluate(async () => {
      const a = (window as unknown as Handle).irqflow.actions;
      for (let i = 0; i < 4; i++) await a.nextStep();
    });
    await settle(page);
    const atHead = await stepLatencies(page, 30);
    // Step inside a run the engine has already played: the cursor back to the run's start.
    await page.evaluate(async () => {
      const a = (window as unknown as Handle).irqflow.actions;
      await a.seekStep(4);
      await a.seekStep(3);
    });
    await settle(page);
    const inRun = await stepLatencies(page, 30);
    await page.close();

    const fps = {} as Record<Storm, number>;
    const frameMs = {} as Record<Storm, number>;
    const tokensOnScreen = {} as Record<Storm, number>;
    for (const n of STORMS) {
      const r = await storm(browser, n);
      fps[`${n}`] = r.fps;
      frameMs[`${n}`] = r.frameMs;
      tokensOnScreen[`${n}`] = r.tokens;
    }
    return {
      fps,
      frameMs,
      tokensOnScreen,
      stepLatencyP95Ms: +percentile(atHead, 0.95).toFixed(1),
      stepInRunLatencyP95Ms: +percentile(inRun, 0.95).toFixed(1),
      jsGzipKB: jsGzipKB(),
      firstDiagramMs,
    };
  } finally {
    await browser?.close();
    server.kill();
  }
}
