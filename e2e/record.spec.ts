// The recorder, as a user records a scenario in the page: the library's first commands, inspector edits
// (mask an MSI-X entry, raise a vector), Run, "expect this" on the PBA bit, a command from the form that
// fails, "expect this path" on the interrupt's journey, a caption typed in; then Save and Export. The
// JSON passes `irqflow run`; the exported Playwright test is the one committed as
// e2e/record-exported.spec.ts, byte for byte, so this suite both runs it and proves the export still
// produces it (IRQFLOW_UPDATE_EXPORT=1 rewrites it after an intended change).

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import {
  applyCommand,
  doNextCommand,
  expect,
  openApp,
  runToIdle,
  screenshot,
  settled,
  test,
} from './helpers.ts';

const EXPORTED = 'e2e/record-exported.spec.ts';
const bar = (page: Page) => page.getByTestId('record-bar');
const history = async (page: Page) => Number(await page.getByTestId('toolbar').getAttribute('data-history'));

/** Clicks an inspector cell that is one engine command, and waits until its hops have played. */
async function act(page: Page, testid: string): Promise<void> {
  const before = await history(page);
  await page.getByTestId(testid).click();
  await expect.poll(() => history(page)).toBeGreaterThan(before);
  await settled(page);
}

async function download(page: Page, testid: string): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  const path = await d.path();
  return { name: d.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

test('a scenario recorded in the page passes irqflow run and exports the committed Playwright test', async ({
  page,
}) => {
  await openApp(page, '?scenario=msix-masked-pba');
  await page.getByTestId('btn-record').click();
  await expect(bar(page)).toHaveAttribute('data-recording', 'true');
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-history', '0');
  await expect(page.getByTestId('record-drawer')).toBeVisible();

  // the library's first three commands: MSI-X on, entry 1 programmed and unmasked by the guest
  for (let i = 0; i < 3; i++) await doNextCommand(page);
  await expect(bar(page)).toHaveAttribute('data-recorded-steps', '3');

  // the host masks the function's own entry 1 and the device raises it, from the inspector's cells
  await page.locator('[data-node-id="msix:nic0"]').click();
  await act(page, 'act-mask-1');
  await act(page, 'act-raise-1');
  await runToIdle(page);

  // "expect this" on PBA bit 1, set because the entry is masked
  const pba = page.getByTestId('msix-table').locator('[data-expect="devices.nic0.msix.pba.1"]');
  await expect(pba).toContainText('1 irq 1');
  await pba.hover();
  await expect(page.getByTestId('expect-this')).toHaveAttribute('data-path', 'devices.nic0.msix.pba.1');
  await page.getByTestId('expect-this').click();
  await expect(page.getByTestId('rec-mark')).toHaveCount(1);
  await expect(page.getByTestId('rec-mark').first()).toContainText('devices.nic0.msix.pba.1 = true');

  // unmasking sends it: the journey to the guest, and "expect this path"
  await act(page, 'act-mask-1');
  await runToIdle(page);
  await page.locator('[data-testid=trace-row].o-delivered').first().click();
  await expect(page.getByTestId('expect-path')).toContainText('interrupt 1');
  await page.getByTestId('expect-path').click();
  await expect(page.getByTestId('rec-mark')).toHaveCount(2);

  // a command from the form that the function refuses: its errno is expected
  await applyCommand(page, 'device.msixWrite', { device: 'nic0', offset: '64', value: '0' });
  await page.getByTestId('expect-errno').click();
  await expect(page.getByTestId('rec-mark')).toHaveCount(3);

  await page.getByTestId('rec-caption-5').fill('The NIC raises vector 1 while the function masks entry 1.');
  await screenshot(page, 'record-recording');

  await page.getByTestId('btn-record-stop').click();
  await expect(bar(page)).toHaveAttribute('data-recording', 'false');
  await expect(bar(page)).toHaveAttribute('data-scenario', 'msix-masked-pba-recorded');

  const json = await download(page, 'btn-save');
  expect(json.name).toBe('msix-masked-pba-recorded.json');
  const scenario = JSON.parse(json.text) as {
    format: number;
    steps: { command: { op: string }; caption?: string; expect?: Record<string, unknown> }[];
  };
  expect(scenario.format).toBe(2);
  expect(scenario.steps.map((s) => s.command.op)).toEqual([
    'guest.msixEnable',
    'guest.program',
    'guest.unmask',
    'device.msixWrite',
    'device.raise',
    'run',
    'device.msixWrite',
    'run',
    'device.msixWrite',
  ]);
  expect(scenario.steps[5].expect).toEqual({ snapshot: { 'devices.nic0.msix.pba.1': true } });
  expect(scenario.steps[7].expect?.path).toEqual([
    expect.objectContaining({ irq: 1, functions: expect.arrayContaining(['vfio_msihandler']) }),
  ]);
  expect(scenario.steps[8].expect).toEqual({ ok: false, errno: 'EINVAL' });
  expect(scenario.steps[4].caption).toBe('The NIC raises vector 1 while the function masks entry 1.');

  // the same JSON through the command line
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/recorded.json', json.text);
  const out = execFileSync('node', ['bin/irqflow.js', 'run', 'test-results/recorded.json'], {
    encoding: 'utf8',
  });
  expect(out).toMatch(/PASS/);

  const spec = await download(page, 'btn-export-spec');
  expect(spec.name).toBe('msix-masked-pba-recorded.spec.ts');
  if (process.env.IRQFLOW_UPDATE_EXPORT) writeFileSync(EXPORTED, spec.text);
  expect(spec.text, `${EXPORTED} is what Export as Playwright test writes`).toBe(
    readFileSync(EXPORTED, 'utf8'),
  );
  expect(spec.text.match(/await test\.step\(/g)).toHaveLength(scenario.steps.length);
});
