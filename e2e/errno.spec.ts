import { applyCommand, expect, openApp, screenshot, test } from './helpers.ts';

test('a VFIO_DEVICE_SET_IRQS on an index the device does not have fails with EINVAL naming the field', async ({
  page,
}) => {
  await openApp(page);
  const device = (await page.locator('[data-node-id^="dev:"]').first().getAttribute('data-node-id'))!.slice(
    4,
  );

  await applyCommand(page, 'vfio.setIrqs', {
    device,
    flags: 'EVENTFD|TRIGGER',
    index: '9',
    start: '0',
    count: '1',
    data: '5',
  });

  await expect(page.getByTestId('command-errno')).toHaveText('-EINVAL');
  await expect(page.getByTestId('command-field')).toContainText('index');
  await expect(page.getByTestId('command-result')).toContainText('index');
  await screenshot(page, 'errno');
});

test('an unknown device is ENODEV', async ({ page }) => {
  await openApp(page);
  await applyCommand(page, 'device.raise', { device: 'nosuchdev', vector: '0' });
  await expect(page.getByTestId('command-errno')).toHaveText('-ENODEV');
  await expect(page.getByTestId('command-field')).toContainText('device');
});
