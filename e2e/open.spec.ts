import { expect, openApp, screenshot, test } from './helpers.ts';

test('the app opens on the default scenario with the topology drawn, ready to step', async ({ page }) => {
  await openApp(page);

  await expect(page.getByTestId('scenario-picker')).toHaveValue('msix-direct.json');
  for (const node of [
    'node-iommu',
    'node-hostirq',
    'node-eventfd',
    'node-irqfd',
    'node-guest',
    'node-lapic:0',
  ]) {
    await expect(page.getByTestId(node)).toBeVisible();
  }
  await expect(page.locator('[data-node-id^="msix:"]').first()).toBeVisible();
  await expect(page.locator('[data-node-id^="vfio:"]').first()).toBeVisible();
  await expect(page.getByTestId('btn-next-command')).toBeEnabled();
  await expect(page.getByTestId('profile-picker')).toHaveValue(/6\.1/);

  // Fits the window: the page itself does not scroll.
  const overflow = await page.evaluate(() => [
    document.documentElement.scrollWidth - innerWidth,
    document.documentElement.scrollHeight - innerHeight,
  ]);
  expect(overflow).toEqual([0, 0]);
  await screenshot(page, 'open');
});
