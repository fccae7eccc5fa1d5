import { applyCommand, expect, fourLooks, openApp, screenshot, test } from './helpers.ts';

test('a failed VFIO_DEVICE_SET_IRQS appears in the trace with its errno, and the palette blames the field', async ({
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
  // The refusal is a row of the trace where it happened: the ioctl, its errno, the field.
  const row = page.locator('[data-testid=trace-row]').first();
  await expect(row.getByTestId('trace-outcome')).toHaveText('-EINVAL');
  await expect(row).toContainText('vfio_pci_ioctl_set_irqs');
  await expect(row.getByTestId('trace-detail')).toContainText('index');
  await fourLooks(page, 'errno', [row, page.getByTestId('command-errno')]);
});

test('an unknown device is refused by irqflow, not answered with a kernel errno', async ({ page }) => {
  await openApp(page);
  await applyCommand(page, 'device.raise', { device: 'nosuchdev', vector: '0' });
  await expect(page.getByTestId('tool-error')).toContainText('irqflow refused the command');
  await expect(page.getByTestId('command-errno')).toHaveCount(0);
  await expect(page.getByTestId('command-field')).toContainText('device');
  const row = page.locator('[data-testid=trace-row]').first();
  await expect(row.getByTestId('trace-outcome')).toHaveText('irqflow ✕');
  // No box for a device the topology does not have.
  await expect(page.locator('[data-node-id="dev:nosuchdev"]')).toHaveCount(0);
  await screenshot(page, 'tool-error');
});
