// Exported from irqflow ("Export as Playwright test"): Recorded from Masked vector: pending bit, delivered once on unmask
// The scenario travels in the link, as a shared link carries it. Each test.step applies one step
// with "Do next command" and checks its outcome as the page reports it.

import { expect, test } from '@playwright/test';

const NAME = 'msix-masked-pba-recorded';
const LINK =
  'step=0&scenario=N4IgZg9gTgtghgFxALgEwBoQDs4wKYogwDOAlgB4C08xA1ngCaUAOARnJVHgMbQOMhMCUggA2BZCABKPPowAEYKBBjyAsnDoKAbjwTRk85niwNSWAObzWI9PP6jSurg3kQs3PG6zyArlhpaQRB+Ym4oUmZhd0IZXih+V3N5BAALL1IoAEcwUQgAdyM4Cy8lFRT0lIhmCDyLAE83MHkSCmpNeiY2OAA6YP0auvqUUGZlMFJxQgA2HoBGVGDQ0gssQnwoEoZg0hUYXxGQcwQ8KChfKIB9LnhmZnMLFARzvABfTG0YQ+1uZl9iFBzd4hPDaUieAHIADaoBw+EIWHBAAZgqwGGBCEisUjkNMAKzILE9FGYVrkQ4IOCscSXMgALwkABZXq8ALrA6rRLCQ0DEPACZBAzDEE7MSEwkC8GDwUyHaqECy+PAinpkgCiOGpBEw-DBngRyJAwO4cCiuzWkgAKpVFcqEPI+QhiOoAMoASUoAA15BqqeJ5PkRKl5KDTo0TM9GoFGIYAIpqtQAVQA5M7tBMIJcTH68JcyZcsJndNwQ5rxM60l5UhARfJzPxyAGg-Ji-ooPIkfI4KZFK5KHM7MQIBVSv5uFy687kmp3V6WhB+PIABTp3Z5shZst4ACUfXeoClMu2yFA8sktpVYwgFiguCWoPBEmwho+emggMwF4Ql1b7+QAA4kWNU0uUIa0vC-AMIhOZ0IygRo5mXSDf3bJFyDxJFtzrLB9HkeMk1TEN9lERAFBnD1vUpLVl3zKiaWlNd8mgncAG4Wg6RhB2HQs0geeQuDgbh0mdAA1AAxN0AHk3HbABpES1D3dADz2btj1PZgFSVFV-ECe89SfRFuBJEAUMBYCzRiSQNUjeREOSf48EMZRfBOOxMhyBg7HEqSUgiCwSigJSVOlNS5U0yRdUfVUyHIAB1Zj9MfA1jOCCAwDAR0UFQf8PjgUQlXM-dJVU2UTxAM8QQMnpb1IPkkv1SQjJMszBQs0CrUqAA5N0AGF+LgOrlRbN920Q-JUkmLxK0UMcJ0CWCcPguzgpK0Kyo0whzjWUk4HINVdBwyEhRAPByGMcdDmIHAxWrJByqiiEemamKKB6bp5ieF4WWKw8wvKyrHrwV74sSnUH0a59UswdLMrwe6crygqJCA37SvUiqIpAbbgngfbDqdFB-2BM6Lvu0ZEFSFAJQ8j9wDm81xRAVJ8kMAAFAAhABBawRAdeHghZwxyLnJiRG1ZnWfkN0pEtNV5DyCBaAuGiF1IMB6kuTITigiAdZEbdBbUmlGBKLXsmCVdM1aVJjdOYJQxwsAGFpFYcFEZdzEcLAnJDAnndd1Z8rzDpDcwDyA-yOB6AuYJLkuU1wQT7hPCuWnMFoT5LhKb9E+4LWcNOc4omCPPaXhrMIFII3TBNhgzY8pDtIQQ32XZNH1oxwGIeBskEvFhrDJfCqMqy3FGSRwrCRJ869DlIJkDAfK+UwIvC0INU3S6kSuYAGSNNlXiAA';

test(`${NAME} replays in the page with its expectations`, async ({ page }) => {
  await page.goto(`/#${LINK}`);
  const bar = page.getByTestId('record-bar');
  const check = page.getByTestId('record-check');
  await expect(bar).toHaveAttribute('data-scenario', NAME);
  await expect(bar).toHaveAttribute('data-ready', 'true');
  await test.step("step 1 guest.msixEnable: The guest sets MSI-X Enable with every entry masked: QEMU's vfio_enable_msix_no…", async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '1');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step("step 2 guest.program: The guest writes entry 1 (guest vector 0x50) into QEMU's emulated MSI-X table (…", async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '2');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step('step 3 guest.unmask: Entry 1 in use: route, irqfd, VFIO trigger.', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '3');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step('step 4 device.msixWrite', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '4');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step('step 5 device.raise: The NIC raises vector 1 while the function masks entry 1.', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '5');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step('step 6 run', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '6');
    await expect(check).toHaveAttribute('data-status', 'passed');
    await expect(check.getByTestId('expect-item')).toHaveCount(1);
    await expect(check.locator('[data-status="failed"]')).toHaveCount(0);
  });
  await test.step('step 7 device.msixWrite', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '7');
    await expect(check).toHaveAttribute('data-status', 'passed');
  });
  await test.step('step 8 run', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '8');
    await expect(check).toHaveAttribute('data-status', 'passed');
    await expect(check.getByTestId('expect-item')).toHaveCount(1);
    await expect(check.locator('[data-status="failed"]')).toHaveCount(0);
  });
  await test.step('step 9 device.msixWrite', async () => {
    await page.getByTestId('btn-next-command').click();
    await expect(check).toHaveAttribute('data-step', '9');
    await expect(check).toHaveAttribute('data-status', 'passed');
    await expect(page.getByTestId('command-result')).toHaveAttribute('data-errno', 'EINVAL');
    await expect(check.getByTestId('expect-item')).toHaveCount(1);
    await expect(check.locator('[data-status="failed"]')).toHaveCount(0);
  });
  await expect(page.getByTestId('btn-next-command')).toHaveText('All 9 commands done');
});
