import {
  applyCommand,
  doNextCommand,
  expect,
  openApp,
  runToIdle,
  screenshot,
  test,
  traceLength,
} from './helpers.ts';

test('each hop shows its whole function, what it did and its source file', async ({ page }) => {
  await openApp(page, '?scenario=ims-vdev.json');
  while (await page.getByTestId('btn-next-command').isEnabled()) await doNextCommand(page);
  await runToIdle(page);

  const row = page
    .locator('[data-testid=trace-row]')
    .filter({ hasText: 'ops->msi_request_interrupt = vfio_ims_request_interrupt' })
    .first();
  await expect(row).toBeVisible();
  // The function is not cut: its text fits its cell.
  const fn = row.getByTestId('trace-fn');
  expect(await fn.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  await expect(row.getByTestId('trace-detail')).toContainText('IMS entry');
  await expect(row).toContainText('drivers/vfio/pci/vfio_pci_intrs.c');
  // Its file links to where the function can be read: a name only RFC v3 has, to the series on lore.
  await expect(row.getByTestId('trace-file-link')).toHaveAttribute('href', /^https:\/\/lore\.kernel\.org\//);
  // A merged function's file links to that file at the profile's release.
  const merged = page.locator('[data-testid=trace-file-link][href*="elixir.bootlin.com"]').first();
  const file = (await merged.textContent())!;
  await expect(merged).toHaveAttribute('href', `https://elixir.bootlin.com/linux/v6.12/source/${file}`);

  // The diagram grows its boxes into the height it has, and no two boxes of a column overlap.
  const diagram = page.getByTestId('diagram');
  expect(Number(await diagram.getAttribute('data-scale'))).toBeGreaterThanOrEqual(1);
  const boxes = await page.locator('.diagram g.node').evaluateAll((els) =>
    els.map((el) => {
      const r = (el.querySelector('rect.frame') as SVGRectElement).getBoundingClientRect();
      return { id: el.getAttribute('data-node-id')!, group: el.classList.contains('group'), ...r.toJSON() };
    }),
  );
  const tops = boxes.filter((b) => !b.group && !/^(msix|msi|intx|ims):|^vfio:.*\//.test(b.id));
  for (const a of tops)
    for (const b of tops) {
      if (a.id >= b.id) continue;
      const overlap =
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      expect(overlap, `${a.id} overlaps ${b.id}`).toBe(false);
    }
});

test('the trace pages back past the newest 5,000 events', async ({ page }) => {
  await openApp(page);
  while (await page.getByTestId('btn-next-command').isEnabled()) await doNextCommand(page);
  await runToIdle(page);
  await applyCommand(page, 'device.raise', { device: 'nic0', vector: '3', count: '1500' });
  await runToIdle(page);
  const total = await traceLength(page);
  expect(total).toBeGreaterThan(5000);

  const range = page.getByTestId('trace-range');
  await expect(range).toContainText('older not shown');
  await page.getByTestId('trace-older').click();
  await expect(page.getByTestId('trace-paging')).toHaveAttribute('data-page-start', /^\d+$/);
  await expect(range).toContainText('older page');
  const first = Number(await page.locator('[data-testid=trace-row]').first().getAttribute('data-seq'));
  expect(first).toBeLessThan(total - 5000);
  await screenshot(page, 'trace-older-page');

  await page.getByTestId('trace-live').click();
  await expect(range).toContainText('newest');
  const newest = Number(await page.locator('[data-testid=trace-row]').first().getAttribute('data-seq'));
  expect(newest).toBe(total - 1);
});
