// What a user does, in a few words: open the app, step, apply the scenario's commands, use the palette.
// Tests read like stories through these; they wait on the page's own state (data-* on the toolbar)
// rather than on timers.

import { existsSync, readFileSync } from 'node:fs';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

/** Every story also checks that nothing threw in the page. */
export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await use(page);
    expect(errors, 'errors thrown in the page').toEqual([]);
  },
});
export { expect };

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/**
 * Until the built app holds the library's default scenario, serve the test fixture in its place, so the
 * stories run against the same page either way.
 */
async function serveFixturesIfLibraryMissing(page: Page): Promise<void> {
  if (existsSync('dist/scenarios/msix-direct.json')) return;
  await page.route('**/scenarios/index.json', (r) =>
    r.fulfill({ body: fixture('index.json'), contentType: 'application/json' }),
  );
  await page.route('**/scenarios/msix-direct.json', (r) =>
    r.fulfill({ body: fixture('msix-small.json'), contentType: 'application/json' }),
  );
}

const toolbar = (page: Page) => page.getByTestId('toolbar');

async function history(page: Page): Promise<number> {
  return Number(await toolbar(page).getAttribute('data-history'));
}

async function cursor(page: Page): Promise<number> {
  return Number(await toolbar(page).getAttribute('data-cursor'));
}

/** Where the cursor is, to the frame: hops passed and commands applied at that hop. */
async function position(page: Page): Promise<string> {
  const bar = toolbar(page);
  return `${await bar.getAttribute('data-cursor')}:${await bar.getAttribute('data-frames')}`;
}

/** Waits until the engine has answered the last request and every token in flight has landed. */
export async function settled(page: Page): Promise<void> {
  await expect(toolbar(page)).toHaveAttribute('data-busy', 'false');
  await expect(toolbar(page)).toHaveAttribute('data-moving', 'false', { timeout: 10_000 });
}

export async function openApp(page: Page, query = ''): Promise<void> {
  await serveFixturesIfLibraryMissing(page);
  await page.goto(`/${query}`);
  await expect(page.getByTestId('diagram')).toHaveAttribute('data-nodes', /[1-9]/);
  await settled(page);
}

/** Clicks Step or Back and waits until the cursor has moved and its tokens have landed. */
async function moveCursor(page: Page, testid: string): Promise<void> {
  const before = await position(page);
  await page.getByTestId(testid).click();
  await expect.poll(() => position(page)).not.toBe(before);
  await settled(page);
}

export const step = (page: Page) => moveCursor(page, 'btn-step');
export const back = (page: Page) => moveCursor(page, 'btn-back');

/** Applies the scenario's next command and waits until its hops have played. */
export async function doNextCommand(page: Page): Promise<void> {
  const before = await history(page);
  await page.getByTestId('btn-next-command').click();
  await expect.poll(() => history(page)).not.toBe(before);
  await settled(page);
}

/** The playback cursor: how many hops the page shows. */
export const cursorAt = cursor;

export async function traceLength(page: Page): Promise<number> {
  return Number(await toolbar(page).getAttribute('data-trace-length'));
}

/**
 * Steps (or, when nothing is queued, applies the scenario's next command) until `done` holds, as a
 * user clicking through a scenario would. Fails after `limit` clicks.
 */
export async function stepUntil(page: Page, done: () => Promise<boolean>, limit = 200): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await done()) return;
    if (await page.getByTestId('btn-step').isEnabled()) await step(page);
    else if (await page.getByTestId('btn-next-command').isEnabled()) await doNextCommand(page);
    else break;
  }
  expect(await done(), 'stepUntil: condition never held').toBe(true);
}

/** The newest trace rows as text (the panel renders only what is visible). */
export async function visibleTrace(page: Page): Promise<string> {
  return (await page.getByTestId('trace-rows').innerText()) ?? '';
}

/** Picks a scenario from the library by its title. */
export async function pickScenario(page: Page, title: string): Promise<void> {
  await page.getByTestId('scenario-picker').selectOption({ label: title });
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-history', '0');
  await settled(page);
}

/** Runs at the fastest speed until nothing is queued. */
export async function runToIdle(page: Page): Promise<void> {
  if (!(await page.getByTestId('btn-run').isEnabled())) return;
  await page.getByTestId('speed').selectOption('5000');
  await page.getByTestId('btn-run').click();
  await expect(toolbar(page)).toHaveAttribute('data-idle', 'true', { timeout: 20_000 });
  await expect(toolbar(page)).toHaveAttribute('data-playing', 'false');
  await settled(page);
}

/** The library as the built app serves it (or the fixture standing in for it). */
export function library(): {
  dir: string;
  index: { scenarios: { name: string; title?: string; file: string }[] };
} {
  const dir = existsSync('dist/scenarios/index.json') ? 'dist/scenarios' : 'e2e/fixtures';
  return { dir, index: JSON.parse(readFileSync(`${dir}/index.json`, 'utf8')) };
}

/** Opens a command in the palette and fills its form fields, then applies it. */
export async function applyCommand(page: Page, op: string, fields: Record<string, string>): Promise<void> {
  await page.getByTestId(`command-${op}`).click();
  for (const [name, value] of Object.entries(fields)) await page.getByTestId(`field-${name}`).fill(value);
  const before = await history(page);
  await page.getByTestId('command-apply').click();
  await expect.poll(() => history(page)).toBeGreaterThan(before);
  await settled(page);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/screenshots/${name}.png` });
}

/** The four looks the page must hold: projector and large screen, light and dark. */
export const LOOKS = [
  { name: '1280-dark', width: 1280, height: 720, colorScheme: 'dark' },
  { name: '1280-light', width: 1280, height: 720, colorScheme: 'light' },
  { name: '2560-dark', width: 2560, height: 1440, colorScheme: 'dark' },
  { name: '2560-light', width: 2560, height: 1440, colorScheme: 'light' },
] as const;

/** Sets the window and the system theme, as a user opening the page on that screen would. */
export async function look(page: Page, l: (typeof LOOKS)[number]): Promise<void> {
  await page.setViewportSize({ width: l.width, height: l.height });
  await page.emulateMedia({ colorScheme: l.colorScheme });
}

/**
 * The story's moment in all four looks: each a screenshot `e2e/screenshots/<name>-<look>.png`, each
 * checked for a page that does not scroll and for `keep` (what the story is about) in view. The
 * window and theme are put back afterwards, so the story can go on.
 */
export async function fourLooks(page: Page, name: string, keep: Locator[] = []): Promise<void> {
  const size = page.viewportSize();
  for (const l of LOOKS) {
    await look(page, l);
    await expect(page.locator('html')).toHaveAttribute('data-theme', l.colorScheme);
    // The diagram lays out again for the new size (a ResizeObserver), then the canvas redraws.
    await expect
      .poll(() =>
        page.evaluate(() => {
          const d = document.querySelector('[data-testid=diagram]') as HTMLElement | null;
          const svg = d?.querySelector('svg');
          return !!d && !!svg && Math.abs(Number(svg.getAttribute('width')) - d.clientWidth) <= 1;
        }),
      )
      .toBe(true);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth), l.name).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollHeight - innerHeight), l.name).toBe(0);
    for (const k of keep) {
      await k.scrollIntoViewIfNeeded();
      await expect(k, `${l.name}: in view`).toBeInViewport();
    }
    await page.screenshot({ path: `e2e/screenshots/${name}-${l.name}.png` });
  }
  if (size) await page.setViewportSize(size);
  await page.emulateMedia({ colorScheme: null });
}
