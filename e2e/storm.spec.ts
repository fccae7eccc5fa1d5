import { applyCommand, doNextCommand, expect, openApp, screenshot, settled, test } from './helpers.ts';

test('a storm of a thousand interrupts plays as moving dots, and Pause stops it', async ({ page }) => {
  await openApp(page);
  while (await page.getByTestId('btn-next-command').isEnabled()) await doNextCommand(page);
  // Raise on the device and vector the scenario itself raised (the trace row's tooltip names it).
  const raise = page.locator('[data-testid=trace-row][data-hop="dev.raise"]').first();
  const device = (await raise.getAttribute('data-from'))!.slice('dev:'.length);
  const vector = /vector (\d+)/.exec((await raise.getAttribute('title')) ?? '')?.[1] ?? '0';
  await applyCommand(page, 'device.raise', { device, vector, count: '1000' });

  // Two waves a second: every interrupt's next hop leaves together, so the storm lasts a few seconds.
  await page.getByTestId('speed').selectOption('2');
  await page.getByTestId('btn-run').click();
  await expect
    .poll(async () => Number(await page.getByTestId('dots').getAttribute('data-in-flight')))
    .toBeGreaterThan(20);

  // Frames keep coming while it plays (a smoke check; the frame budget is measured by bench/).
  const frames = await page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        let n = 0;
        const t0 = performance.now();
        const tick = () => (performance.now() - t0 < 1000 ? (n++, requestAnimationFrame(tick)) : resolve(n));
        requestAnimationFrame(tick);
      }),
  );
  console.log(`storm: ${frames} frames in 1 s`);
  expect(frames).toBeGreaterThan(5);
  await screenshot(page, 'storm');
  // The toolbar's Pause button and live counters do not widen the page.
  expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBe(0);

  await page.getByTestId('btn-pause').click();
  await expect(page.getByTestId('btn-run')).toBeVisible();
  await settled(page);
  const at = await page.getByTestId('toolbar').getAttribute('data-trace-length');
  await page.waitForTimeout(300); // nothing advances while paused
  await expect(page.getByTestId('toolbar')).toHaveAttribute('data-trace-length', at!);
  await expect(page.getByTestId('counter-raised')).toContainText(/\d{4}/);
});
