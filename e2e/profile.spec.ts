import { applyCommand, expect, openApp, pickScenario, test } from './helpers.ts';

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

test('the page says which scenarios the real kernel checked, for the profile in use', async ({ page }) => {
  await openApp(page);
  const badge = page.getByTestId('verified');
  await expect(badge).toHaveText('✓ uAPI checked: real Linux 6.12');
  await expect(badge).toHaveAttribute('title', /6\.12\.117\+deb12-amd64/);

  await page.getByTestId('profile-picker').selectOption('6.1');
  await expect(badge).toHaveText('✓ uAPI checked: real Linux 6.1');

  await pickScenario(page, 'Posted interrupts: running, halted and preempted vCPU');
  await expect(badge).toHaveText('modelled: no kernel check');
  await expect(badge).toHaveAttribute('data-checked', 'false');
});
