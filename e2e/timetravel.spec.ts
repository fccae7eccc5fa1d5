import { back, cursorAt, doNextCommand, expect, openApp, step, test, traceLength } from './helpers.ts';

test('Back undoes the last step and Reset returns to the start of the scenario', async ({ page }) => {
  await openApp(page);
  while (!(await page.getByTestId('btn-step').isEnabled())) await doNextCommand(page);
  await step(page);
  const before = await cursorAt(page);
  const clock = await page.getByTestId('clock').innerText();
  await step(page);
  expect(await cursorAt(page)).toBeGreaterThan(before);

  await back(page);
  expect(await cursorAt(page)).toBe(before);
  await expect(page.getByTestId('clock')).toHaveText(clock);
  // The hop Back went over is no longer in the trace panel (the engine keeps it, ahead of the cursor).
  await expect(page.locator(`[data-testid=trace-row][data-seq="${before}"]`)).toHaveCount(0);

  await page.getByTestId('btn-reset').click();
  await expect.poll(() => traceLength(page)).toBe(0);
  await expect(page.getByTestId('btn-next-command')).toContainText(/ 1\/\d+/);
});

test('switching the design generation replays to the same step and renames the VFIO front-end hops', async ({
  page,
}) => {
  await openApp(page);
  await page.getByTestId('design-picker').selectOption('rfc-v3');
  await doNextCommand(page);
  await expect(page.getByTestId('trace-rows')).toContainText('intr_ctx->ops->');

  // the user's place is kept: step 1 is replayed under the new design, step 2 is next
  await page.getByTestId('design-picker').selectOption('cleanup-2024');
  await expect(page.getByTestId('btn-next-command')).toContainText(/ 2\/\d+/);
  await expect(page.getByTestId('trace-rows')).toContainText('vfio_pci_set_trigger');
  await expect(page.getByTestId('trace-rows')).not.toContainText('intr_ctx->ops->');
});
