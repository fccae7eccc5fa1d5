import { expect, openApp, screenshot, stepUntil, test, visibleTrace } from './helpers.ts';

test('the user steps an interrupt from the device to the guest and reads the function of each hop', async ({
  page,
}) => {
  await openApp(page);

  // Click through the scenario until the first interrupt is delivered to a guest vector.
  await stepUntil(page, async () => (await page.locator('[data-testid=trace-row].o-delivered').count()) > 0);
  await screenshot(page, 'delivered');

  // Follow that interrupt alone: select one of its rows, keep only its hops.
  await page.locator('[data-testid=trace-row].o-delivered').first().click();
  await page.getByText(/only irq \d+/).click();
  const hops = await visibleTrace(page);
  for (const fn of ['vfio_msihandler', 'eventfd_signal', 'irqfd_wakeup', '__apic_accept_irq']) {
    expect(hops).toContain(fn);
  }
  expect(hops).toContain('drivers/vfio/pci/vfio_pci_intrs.c');
  await expect(page.getByTestId('inspector')).toContainText('delivered');

  // The LAPIC of the vCPU that took it shows the vector handled.
  const lapic = (await page
    .locator('[data-testid=trace-row].o-delivered')
    .first()
    .getAttribute('data-from'))!;
  await page.getByTestId(`node-${lapic}`).click();
  await expect(page.getByTestId('inspector-node')).toHaveText(lapic);
  await expect(page.getByTestId('inspector')).toContainText(`LAPIC of vCPU${lapic.slice(6)}`);
  await expect(page.getByTestId('counter-delivered')).toContainText(/[1-9]/);
  await screenshot(page, 'interrupt-inspector');
});

test('the MSI-X inspector shows the table and the PBA', async ({ page }) => {
  await openApp(page);
  await page.locator('[data-node-id^="msix:"]').first().click();
  const table = page.getByTestId('msix-table');
  await expect(table).toContainText('vector_ctrl');
  await expect(table).toContainText('PBA');
  await expect(table).toContainText('masked');
});
