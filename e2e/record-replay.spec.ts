// Replaying and keeping scenarios: a shared link opens the same scenario at the same step with the same
// kernel profile and design; a reload brings back the recording and the session; files come in by the
// picker or by a drop, through the same validation as the CLI, and a bad one changes nothing.

import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { back, doNextCommand, expect, openApp, screenshot, settled, test } from './helpers.ts';

const bar = (page: Page) => page.getByTestId('record-bar');
const toolbar = (page: Page) => page.getByTestId('toolbar');
const library = JSON.parse(readFileSync('public/scenarios/msix-masked-pba.json', 'utf8')) as {
  name: string;
  title: string;
  steps: { command: Record<string, unknown>; expect?: Record<string, unknown> }[];
};

async function ready(page: Page): Promise<void> {
  await expect(bar(page)).toHaveAttribute('data-ready', 'true');
  await settled(page);
}

/** Waits until the session has been kept (debounced), then reloads the page without a query. */
async function reload(page: Page): Promise<void> {
  const before = Number(await bar(page).getAttribute('data-session-saves'));
  await expect
    .poll(async () => Number(await bar(page).getAttribute('data-session-saves')))
    .toBeGreaterThan(before);
  await page.goto('/');
  await ready(page);
}

async function pickFile(page: Page, name: string, text: string): Promise<void> {
  await page
    .getByTestId('record-file-input')
    .setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

test('a shared link opens the same scenario at the same step, profile and design', async ({
  page,
  browser,
}) => {
  await openApp(page, '?scenario=msix-masked-pba');
  await page.getByTestId('profile-picker').selectOption('6.1');
  await settled(page);
  await page.getByTestId('design-picker').selectOption('rfc-v3');
  await settled(page);
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  await page.getByTestId('btn-share').click();
  const url = await page.getByTestId('share-url').inputValue();
  expect(url).toMatch(/#step=4&profile=6\.1&design=rfc-v3&scenario=/);
  await screenshot(page, 'record-share');

  // a browser that has never seen it: nothing in its storage
  const other = await browser.newPage();
  const errors: string[] = [];
  other.on('pageerror', (e) => errors.push(e.message));
  await other.goto(url);
  await ready(other);
  await expect(bar(other)).toHaveAttribute('data-scenario', library.name);
  await expect(other.getByTestId('profile-picker')).toHaveValue('6.1');
  await expect(other.getByTestId('design-picker')).toHaveValue('rfc-v3');
  await expect(other.getByTestId('btn-next-command')).toHaveText(`Do next command 5/${library.steps.length}`);
  await expect(other.getByTestId('step-check-4')).toHaveAttribute('data-status', 'passed');
  // opened: the hash is gone, so a reload restores the session rather than the link
  expect(new URL(other.url()).hash).toBe('');
  expect(errors).toEqual([]);
  await other.close();
});

test('a reload keeps the recording going, and after Stop keeps the recorded scenario and where the page was', async ({
  page,
}) => {
  await openApp(page, '?scenario=msix-masked-pba');
  await page.getByTestId('btn-record').click();
  await expect(bar(page)).toHaveAttribute('data-recording', 'true');
  for (let i = 0; i < 3; i++) await doNextCommand(page);
  await page.getByTestId('rec-caption-2').fill('Typed before the reload.');
  await reload(page);
  await expect(bar(page)).toHaveAttribute('data-recording', 'true');
  await expect(bar(page)).toHaveAttribute('data-recorded-steps', '3');
  await expect(page.getByTestId('rec-caption-2')).toHaveValue('Typed before the reload.');

  await page.getByTestId('btn-record-stop').click();
  await expect(bar(page)).toHaveAttribute('data-scenario', 'msix-masked-pba-recorded');
  await expect(page.getByTestId('btn-next-command')).toHaveText('All 3 commands done');
  await page.getByTestId('step-link-2').click();
  await settled(page);
  await expect(page.getByTestId('btn-next-command')).toHaveText('Do next command 3/3');
  // two hops back: the reload comes back to that hop (and the step it is in), not to a step's end
  await back(page);
  await back(page);
  const hop = await page.getByTestId('cursor-pos').textContent();
  const step = await page.getByTestId('btn-next-command').textContent();
  expect(hop).toMatch(/^hop \d+\/\d+$/);

  await reload(page);
  await expect(bar(page)).toHaveAttribute('data-recording', 'false');
  await expect(bar(page)).toHaveAttribute('data-scenario', 'msix-masked-pba-recorded');
  await expect(page.getByTestId('cursor-pos')).toHaveText(hop!);
  await expect(page.getByTestId('btn-next-command')).toHaveText(step!);
  await page.getByTestId('btn-library').click();
  await expect(page.getByTestId('library-user-msix-masked-pba-recorded')).toContainText('recorded · 3 steps');
  await screenshot(page, 'record-library');
  // the library menu opens a built-in one too
  await page.getByTestId('library-builtin-msix-direct').click();
  await expect(bar(page)).toHaveAttribute('data-scenario', 'msix-direct');
});

test('a malformed, oversized, too deep or newer file is refused with its path, and the page stays as it was', async ({
  page,
}) => {
  await openApp(page, '?scenario=msix-masked-pba');
  await doNextCommand(page);
  const history = await toolbar(page).getAttribute('data-history');
  const unchanged = async () => {
    await expect(bar(page)).toHaveAttribute('data-scenario', library.name);
    await expect(toolbar(page)).toHaveAttribute('data-history', history!);
    await expect(page.getByTestId('btn-next-command')).toHaveText(
      `Do next command 2/${library.steps.length}`,
    );
  };
  const message = page.getByTestId('record-message');

  const bad = structuredClone(library);
  bad.steps[3].command.vector = 'one';
  await pickFile(page, 'bad.json', JSON.stringify(bad));
  await expect(message).toHaveAttribute('data-kind', 'error');
  await expect(message).toContainText('bad.json was not loaded');
  await expect(message).toContainText('steps.3.command.vector: decimal or 0x');
  await screenshot(page, 'record-bad-file');
  await unchanged();

  await pickFile(page, 'big.json', ' '.repeat(2 * 1024 * 1024 + 1));
  await expect(message).toContainText('big.json is 2.0 MB: larger than the 2.0 MB a scenario may be');
  await unchanged();

  let deep = '1';
  for (let i = 0; i < 200; i++) deep = `[${deep}]`;
  await pickFile(page, 'deep.json', `{"format":2,"description":${deep}}`);
  await expect(message).toContainText('nested deeper than 64 levels');
  await unchanged();

  await pickFile(page, 'newer.json', JSON.stringify({ ...library, format: 3 }));
  await expect(message).toContainText('format 3 is newer than this irqflow understands (2)');
  await unchanged();

  await pickFile(page, 'broken.json', '{"format": 2,');
  await expect(message).toContainText('not JSON');
  await unchanged();
});

test('a dropped file opens with its expectations checked inline; names are text, never HTML', async ({
  page,
}) => {
  await openApp(page, '?scenario=msix-masked-pba');
  const doc = structuredClone(library) as typeof library & { name: string; title: string };
  doc.name = 'dropped-one';
  doc.title = '<img src=x onerror="window.pwned=1"><b>not bold</b>';
  // step 4 expects the wrong value: the page must say failed, not passed
  doc.steps[3].expect = { snapshot: { 'vmm.nic0.msix.pba.1': true } };
  const dt = await page.evaluateHandle((text) => {
    const d = new DataTransfer();
    d.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
    return d;
  }, JSON.stringify(doc));
  await page.dispatchEvent('body', 'dragover', { dataTransfer: dt });
  await expect(page.getByTestId('drop-overlay')).toBeVisible();
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
  await expect(bar(page)).toHaveAttribute('data-scenario', 'dropped-one');
  await settled(page);
  await expect(page.getByTestId('drop-overlay')).toHaveCount(0);
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  await expect(page.getByTestId('step-check-3')).toHaveAttribute('data-status', 'passed');
  await expect(page.getByTestId('step-check-4')).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('record-check')).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('record-check').getByTestId('check-failure')).toContainText(
    'vmm.nic0.msix.pba.1: expected true, got false',
  );
  await page.getByTestId('btn-library').click();
  await expect(page.getByTestId('library-user-dropped-one')).toContainText('<b>not bold</b>');
  await expect(page.locator('.lib-pop img')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
});

test('the Perfetto button writes the trace so far in the Chrome trace format', async ({ page }) => {
  await openApp(page, '?scenario=msix-direct');
  for (let i = 0; i < 5; i++) await doNextCommand(page);
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('btn-trace').click()]);
  expect(d.suggestedFilename()).toBe('msix-direct.trace.json');
  const trace = JSON.parse(readFileSync(await d.path(), 'utf8')) as {
    traceEvents: { ph: string; name: string; args?: Record<string, unknown> }[];
  };
  const phases = new Set(trace.traceEvents.map((e) => e.ph));
  for (const ph of ['M', 'X']) expect(phases.has(ph), ph).toBe(true);
  expect(trace.traceEvents.find((e) => e.ph === 'X')?.args).toHaveProperty('profile');
});
