import { applyCommand, expect, openApp, test } from './helpers.ts';

test('the kernel profile picker reloads the scenario: GET_IRQ_INFO on MSI-X shows NORESIZE on 6.1, not on 6.12', async ({
  page,
}) => {
  await openApp(page);
  const device = (await page.locator('[data-node-id^="dev:"]').first().getAttribute('data-node-id'))!.slice(
    4,
  );

  await page.getByTestId('profile-picker').selectOption('6.1');
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-history', '0');
  await applyCommand(page, 'vfio.getIrqInfo', { device, index: 'MSIX' });
  // VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE = 9: no dynamic MSI-X before 6.5
  await expect(page.getByTestId('command-result')).toContainText('"flags":9');

  await page.getByTestId('profile-picker').selectOption('6.12');
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-history', '0');
  await applyCommand(page, 'vfio.getIrqInfo', { device, index: 'MSIX' });
  await expect(page.getByTestId('command-result')).toContainText('"flags":1');
});
