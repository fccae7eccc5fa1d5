// Run until, tables you can act on, and a dead worker: stories from issues 7 and 10.
import { doNextCommand, expect, fourLooks, openApp, screenshot, settled, test } from './helpers.ts';

test('run-until stops at a breakpoint on vfio_msihandler, then on a drop', async ({ page }) => {
  await openApp(page);
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  await page.getByTestId('bp-quick-msihandler').click();
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('breakpoint-hit')).toContainText('vfio_msihandler');
  await settled(page);
  const last = page.locator('[data-testid=trace-row]').first();
  await expect(last.getByTestId('trace-fn')).toContainText('vfio_msihandler');
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 0');
  await fourLooks(page, 'breakpoint-msihandler', [page.getByTestId('breakpoint-hit'), last]);
  // Run again: the breakpoint is behind the cursor, the run goes on to the guest.
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-idle', 'true', { timeout: 20_000 });
  await settled(page);
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 1');
});

test('a drop stops Run at the hop where it dropped', async ({ page }) => {
  await openApp(page, '?scenario=remapping-fault.json');
  await page.getByTestId('bp-quick-dropped').click();
  await page.getByTestId('granularity').selectOption('command');
  // Play the whole scenario without pausing at expectations: it stops at the first drop.
  await page.getByText('Play stops after steps with expectations').click();
  await page.getByTestId('btn-play').click();
  await expect(page.getByTestId('breakpoint-hit')).toContainText('outcome dropped', { timeout: 20_000 });
  await settled(page);
  await expect(page.locator('[data-testid=trace-row]').first().getByTestId('trace-outcome')).toHaveText(
    'dropped',
  );
  await fourLooks(page, 'breakpoint-drop', [page.getByTestId('breakpoint-hit')]);
});

test('clicking a mask bit masks the entry, a raise lights the PBA, clicking again delivers once', async ({
  page,
}) => {
  await openApp(page);
  for (let i = 0; i < 3; i++) await doNextCommand(page);
  await page.locator('[data-node-id="msix:nic0"]').click();
  const table = page.getByTestId('msix-table');
  await expect(table).toBeVisible();
  await page.getByTestId('act-mask-3').click();
  await settled(page);
  await expect(page.getByTestId('act-mask-3')).toContainText('masked');
  await page.getByTestId('act-raise-3').click();
  await settled(page);
  await page.getByTestId('btn-run').click();
  await settled(page);
  await expect(table.locator('tbody tr').nth(3)).toContainText('1 irq');
  await expect(page.locator('[data-node-id="msix:nic0"]')).toContainText('PBA 3');
  await fourLooks(page, 'pba-lit', [
    page.getByTestId('act-mask-3'),
    page.locator('[data-node-id="msix:nic0"]'),
  ]);
  await page.getByTestId('act-mask-3').click();
  await settled(page);
  await page.getByTestId('btn-run').click();
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-idle', 'true', { timeout: 20_000 });
  await settled(page);
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 1');
  await expect(table.locator('tbody tr').nth(3)).not.toContainText('1 irq');
  await expect(page.getByTestId('counter-delivered')).toHaveText(/^\s*1\s*delivered/);
  await fourLooks(page, 'unmask-delivers-once', [
    page.getByTestId('act-mask-3'),
    page.getByTestId('counter-delivered'),
  ]);
});

test('a refused table edit shows its errno inline', async ({ page }) => {
  await openApp(page);
  await page.locator('[data-node-id="msix:nic0"]').click();
  // Before MSI-X is enabled on the host, the function has no MSI-X vectors to raise into a guest,
  // but the write itself is fine; a vCPU state change on a vCPU... use the raise on a disabled function.
  await page.getByTestId('act-raise-0').click();
  await settled(page);
  await expect(page.getByTestId('command-result')).toBeVisible();
});

test('a dead engine worker is noticed, replaced, and the session goes on from the cursor', async ({
  page,
}) => {
  await openApp(page);
  for (let i = 0; i < 3; i++) await doNextCommand(page);
  const at = await page.getByTestId('toolbar').getAttribute('data-cursor');
  await page.evaluate(() =>
    (window as unknown as { irqflow: { actions: { killWorker(): void } } }).irqflow.actions.killWorker(),
  );
  await page.getByTestId('btn-next-command').click();
  await expect(page.getByTestId('worker-note')).toContainText('died', { timeout: 15_000 });
  await expect(page.getByTestId('worker-note')).toContainText('restored', { timeout: 15_000 });
  await settled(page);
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-cursor', at!);
  // The state came back: step 4 is next again, and it works.
  await expect(page.getByTestId('btn-next-command')).toContainText('4/5');
  await doNextCommand(page);
  await doNextCommand(page);
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 1');
  await screenshot(page, 'worker-restarted');
});
