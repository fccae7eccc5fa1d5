// Design reviews, as a presenter uses them: presentation mode on a projector, the designs and the
// paths side by side, exports for the mailing list, a printed handout, notes and annotations.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { doNextCommand, expect, openApp, settled, test } from './helpers.ts';

const scenarioFile = (name: string) =>
  JSON.parse(readFileSync(`public/scenarios/${name}.json`, 'utf8')) as {
    steps: { caption?: string }[];
  };

mkdirSync('e2e/screenshots', { recursive: true });

async function shot(page: Page, name: string): Promise<void> {
  for (const theme of ['dark', 'light'] as const) {
    await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme);
    await page.screenshot({ path: `e2e/screenshots/review-${name}-${theme}.png` });
  }
}

async function reviewMenu(page: Page, item: string): Promise<void> {
  await page.getByTestId('btn-review').click();
  await page.getByTestId(`review-${item}`).click();
}

async function panesReady(page: Page): Promise<void> {
  for (const side of ['a', 'b'])
    await expect(page.getByTestId(`pane-${side}`)).toHaveAttribute('data-busy', 'false', { timeout: 20_000 });
}

const slideNo = (page: Page) => page.getByTestId('slide-no');

test('a presenter goes through the captions with the keyboard on a 1280x720 projector', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, '?scenario=posted-interrupts');
  const { steps } = scenarioFile('posted-interrupts');

  // a presenter note on step 1 and an annotation on the IOMMU, written before the talk
  await doNextCommand(page);
  await reviewMenu(page, 'notes');
  await page.getByTestId('note-text').fill('Ask who has seen a posted IRTE <live>.');
  await page.getByTestId('annotation-target').selectOption('iommu');
  await page.getByTestId('annotation-text').fill('Remapping on, posting on');
  await page.getByTestId('annotation-add').click();
  await expect(page.getByTestId('annotation-list')).toContainText('iommu');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('notes-editor')).toHaveCount(0);
  await page.getByTestId('btn-reset').click();
  await settled(page);

  await page.keyboard.press('f');
  const show = page.getByTestId('presentation');
  await expect(page.getByTestId('slide')).toBeVisible();
  await expect(page.getByTestId('toolbar')).toBeHidden();
  await expect(page.getByTestId('trace-panel')).toBeHidden();
  await expect(slideNo(page)).not.toHaveText(/\//);

  await page.keyboard.press('ArrowRight');
  await expect(slideNo(page)).toHaveText(`1 / ${steps.length}`);
  await expect(page.getByTestId('slide-caption')).toHaveText(steps[0].caption!);
  // the note is the presenter's, as text; the annotation is pinned to its box
  await expect(page.getByTestId('presenter-notes')).toContainText('Ask who has seen a posted IRTE <live>.');
  await expect(page.getByTestId('callout')).toHaveText('Remapping on, posting on');
  await settled(page);

  for (let i = 2; i <= 3; i++) {
    await page.keyboard.press('ArrowRight');
    await expect(slideNo(page)).toHaveText(`${i} / ${steps.length}`);
    await settled(page);
  }
  await expect(page.getByTestId('slide-caption')).toHaveText(steps[2].caption!);
  // the animation: the step's hops played, the diagram shows them
  await expect(page.getByTestId('diagram')).toHaveAttribute('data-used', /[1-9]/);
  // the caption is legible on the projector: at least 20 px, inside the window
  const size = await page
    .getByTestId('slide-caption')
    .evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  expect(size).toBeGreaterThanOrEqual(20);
  const box = (await page.getByTestId('slide').boundingBox())!;
  expect(box.y + box.height).toBeLessThanOrEqual(720);
  await page.mouse.move(400, 300);
  await page.keyboard.press('l');
  await page.mouse.move(420, 310);
  await expect(page.getByTestId('pointer')).toBeVisible();
  await shot(page, 'present-1280');

  await page.keyboard.press('ArrowLeft');
  await expect(slideNo(page)).toHaveText(`2 / ${steps.length}`);
  await expect(page.getByTestId('slide-caption')).toHaveText(steps[1].caption!);

  // the overview jumps to any slide
  await page.keyboard.press('o');
  await expect(page.getByTestId('overview-card')).toHaveCount(steps.length);
  await shot(page, 'overview-1280');
  await page.getByTestId('overview-card').nth(6).click();
  await expect(slideNo(page)).toHaveText(`7 / ${steps.length}`);
  await expect(page.getByTestId('slide-caption')).toHaveText(steps[6].caption!);
  await settled(page);

  await page.keyboard.press('Escape');
  await expect(show).toHaveCount(0);
  await expect(page.getByTestId('toolbar')).toBeVisible();
  // the page stays where the talk left it
  await expect(page.getByTestId('btn-next-command')).toContainText(`8/${steps.length}`);
});

test('presentation mode on a 2560x1440 screen', async ({ page }) => {
  await page.setViewportSize({ width: 2560, height: 1440 });
  await openApp(page, '?scenario=ims-vdev');
  await page.keyboard.press('f');
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('ArrowRight');
    await expect(slideNo(page)).toHaveText(new RegExp(`^${i + 1} / `));
    await settled(page);
  }
  await shot(page, 'present-2560');
});

test('merged 6.12 and RFC v3 side by side on the IMS scenario: shared and design-specific functions', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, '?scenario=ims-vdev');
  for (let i = 0; i < 12; i++) await doNextCommand(page);
  await page.keyboard.press('c');
  await panesReady(page);
  await expect(page.getByTestId('compare-step')).toHaveValue('12');
  const a = page.getByTestId('pane-a');
  const b = page.getByTestId('pane-b');
  await expect(a.getByTestId('pane-title')).toHaveText('Merged (6.1, 6.12) · 6.12');
  await expect(b.getByTestId('pane-title')).toHaveText('RFC v3 (Oct 2023) · 6.12');
  // the merged kernel cannot build a virtual device: the pane says why
  await expect(a.getByTestId('pane-error')).toContainText('has no IMS backend');
  // RFC v3's functions, marked against the merged code
  const fn = (name: string) => b.locator('[data-testid=functions] li', { hasText: name }).first();
  await expect(fn('idxd_vdcm_ioctl_device_set_irqs')).toHaveAttribute('data-kind', 'specific');
  await expect(fn('vfio_pci_ims_intr_ops.set_msix_trigger')).toHaveAttribute('data-kind', 'specific');
  await expect(fn('irqfd_wakeup')).toHaveAttribute('data-kind', 'shared');
  await expect(fn('vfio_msihandler')).toHaveAttribute('data-kind', 'shared');
  await expect(fn('vfio_msihandler').locator('a')).toHaveAttribute(
    'href',
    'https://elixir.bootlin.com/linux/v6.12/source/drivers/vfio/pci/vfio_pci_intrs.c',
  );
  await expect(fn('vfio_pci_ims_intr_ops.set_msix_trigger').locator('a')).toHaveAttribute(
    'href',
    /lore\.kernel\.org\/lkml\/cover\.1698422237/,
  );
  await expect(b.getByTestId('fig-vmExits')).toHaveText('2');
  await shot(page, 'compare-ims-1280');

  // the same two designs on the scenario's direct and intercepted interrupts, in one RFC v3 run
  await page.getByTestId('preset-direct-vs-intercepted').click();
  await panesReady(page);
  await expect(a.getByTestId('pane-title')).toContainText('direct interrupts');
  await expect(a.getByTestId('fig-vmExits')).toHaveText('0');
  await expect(b.getByTestId('fig-vmExits')).not.toHaveText('0');
  await page.setViewportSize({ width: 2560, height: 1440 });
  await shot(page, 'compare-direct-2560');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('compare')).toHaveCount(0);
});

test('posted versus remapped side by side: the figures, and a cost edited', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await openApp(page, '?scenario=posted-interrupts');
  const { steps } = scenarioFile('posted-interrupts');
  await page.keyboard.press('c');
  await page.getByTestId('compare-step').fill(String(steps.length));
  await page.getByTestId('preset-posted-vs-remapped').click();
  await panesReady(page);
  const a = page.getByTestId('pane-a');
  const b = page.getByTestId('pane-b');
  await expect(a.getByTestId('pane-title')).toContainText('posted');
  await expect(b.getByTestId('pane-title')).toContainText('remapped');
  const fig = async (pane: typeof a, k: string) => (await pane.getByTestId(`fig-${k}`).innerText()).trim();
  expect(await fig(a, 'interrupts')).toBe(await fig(b, 'interrupts'));
  // posted: no host IRQ but the halted vCPU's wake-up vector; remapped: genirq for each interrupt
  expect(await fig(a, 'hostIrqs')).toBe('1');
  expect(Number(await fig(b, 'hostIrqs'))).toBeGreaterThan(1);
  const us = (t: string) => parseFloat(t) * (t.includes('ms') ? 1000 : t.includes('µs') ? 1 : 0.001);
  const posted = us(await fig(a, 'latency'));
  const remapped = us(await fig(b, 'latency'));
  expect(posted).toBeLessThan(remapped);
  await expect(b.locator('[data-figure=hostIrqs]')).toHaveClass(/differs/);
  await expect(b.locator('[data-testid=functions] li', { hasText: 'vfio_msihandler' })).toHaveAttribute(
    'data-kind',
    'specific',
  );
  await expect(a.locator('[data-testid=functions] li', { hasText: 'vmx_sync_pir_to_irr' })).toHaveAttribute(
    'data-kind',
    'specific',
  );

  // the cost model: defaults with where they are charged, editable
  await page.getByTestId('costs-toggle').click();
  await expect(page.getByTestId('cost-table')).toContainText('src/engine/linux/kernel/irq/genirq.ts');
  const minBefore = await fig(b, 'range');
  await page.getByTestId('cost-host_irq').fill('1400');
  await expect.poll(() => fig(b, 'range')).not.toBe(minBefore);
  await panesReady(page);
  const lo = (t: string) => us(t.split(' – ')[0]);
  expect(lo(await fig(b, 'range')) - lo(minBefore)).toBeCloseTo(1, 5);
  // posted interrupts never run the host IRQ handler of the device: its figures do not move
  await shot(page, 'compare-posted-1280');
  await page.setViewportSize({ width: 2560, height: 1440 });
  await shot(page, 'compare-posted-2560');
});

test('exports: the diagram as SVG and PNG, the timeline as PNG, the journey as Mermaid and text', async ({
  page,
}) => {
  await openApp(page, '?scenario=posted-interrupts');
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  const svgEl = page.locator('[data-testid=diagram] svg.diagram-svg');
  const w = Number(await svgEl.getAttribute('width'));
  const h = Number(await svgEl.getAttribute('height'));

  const [svgDl] = await Promise.all([page.waitForEvent('download'), reviewMenu(page, 'svg')]);
  expect(svgDl.suggestedFilename()).toBe('posted-interrupts-step4.svg');
  const svg = readFileSync((await svgDl.path())!, 'utf8');
  expect(svg).toMatch(
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
  );
  expect(svg).toContain(`width="${w}" height="${h}"`);
  // a valid XML document that a browser draws at that size, with the boxes' text in it
  const parsed = await page.evaluate(async (text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const bad = doc.querySelector('parsererror');
    const img = new Image();
    img.src = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
    await img.decode();
    return { bad: bad?.textContent ?? null, w: img.naturalWidth, h: img.naturalHeight };
  }, svg);
  expect(parsed).toEqual({ bad: null, w, h });
  expect(svg).toContain('>KVM irqfd<');
  expect(svg).not.toContain('var(--');

  const png = async (item: string) => {
    const [dl] = await Promise.all([page.waitForEvent('download'), reviewMenu(page, item)]);
    const b = readFileSync((await dl.path())!);
    expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
    return { name: dl.suggestedFilename(), w: b.readUInt32BE(16), h: b.readUInt32BE(20) };
  };
  expect(await png('png')).toEqual({ name: 'posted-interrupts-step4.png', w: w * 2, h: h * 2 });
  const tl = await png('timeline');
  const canvas = page.getByTestId('timeline');
  expect(tl).toEqual({
    name: 'posted-interrupts-step4-timeline.png',
    w: Number(await canvas.evaluate((c: HTMLCanvasElement) => c.width)),
    h: Number(await canvas.evaluate((c: HTMLCanvasElement) => c.height)),
  });

  // step 4 raised the vector; its hops run in step 5: nothing has travelled yet, and the menu says so
  await reviewMenu(page, 'mermaid');
  await expect(page.getByTestId('text-export')).toHaveCount(0);
  await page.getByTestId('btn-review').click();
  await expect(page.getByTestId('review-status')).toHaveText(/no interrupt has travelled yet/);
  await page.getByTestId('btn-review').click();
  await doNextCommand(page);
  await reviewMenu(page, 'mermaid');
  const body = page.getByTestId('text-export-body');
  const mermaid = await body.inputValue();
  expect(mermaid.split('\n')[0]).toBe('sequenceDiagram');
  expect(mermaid).toContain('participant pi_1 as pi:1');
  expect(mermaid).toMatch(/iommu->>pi_1: \+[\d.]+ (ns|µs) hw: posted IRTE/);
  const [mmd] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('text-export-download').click(),
  ]);
  expect(mmd.suggestedFilename()).toBe('posted-interrupts-step5-irq1.mmd');
  expect(readFileSync((await mmd.path())!, 'utf8')).toBe(mermaid);
  await page.keyboard.press('Escape');

  await reviewMenu(page, 'text');
  const text = await body.inputValue();
  expect(text).toContain('Interrupt #1:');
  expect(text).toContain('hw: virtual-interrupt delivery, no VM exit');
  expect(text).toContain('Intel SDM vol. 3 30.2.2');
  await page.screenshot({ path: 'e2e/screenshots/review-text-export.png' });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('text-export')).toHaveCount(0);
});

test('the printed handout has one page per step, each with its caption and diagram', async ({ page }) => {
  await openApp(page, '?scenario=msix-direct');
  const { steps } = scenarioFile('msix-direct');
  await doNextCommand(page);
  await page.evaluate(() => {
    (window as unknown as { printed: number }).printed = 0;
    window.print = () => void (window as unknown as { printed: number }).printed++;
  });
  await reviewMenu(page, 'print');
  await expect(page.getByTestId('handout')).toHaveAttribute('data-pages', String(steps.length + 1));
  await expect.poll(() => page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
  // the user's place is back where it was
  await expect(page.getByTestId('btn-next-command')).toContainText(`2/${steps.length}`);
  await settled(page);

  await page.emulateMedia({ media: 'print' });
  await expect(page.getByTestId('app')).toBeHidden();
  const pages = page.getByTestId('handout-page');
  await expect(pages).toHaveCount(steps.length + 1);
  await expect(pages.nth(2)).toContainText(`Step 2 of ${steps.length}`);
  await expect(pages.nth(2)).toContainText(steps[1].caption!);
  await expect(pages.nth(2).locator('img')).toHaveJSProperty('complete', true);
  expect(
    await pages
      .nth(2)
      .locator('img')
      .evaluate((i: HTMLImageElement) => i.naturalWidth),
  ).toBeGreaterThan(100);
  await page.screenshot({ path: 'e2e/screenshots/review-handout-print.png', fullPage: true });
  const pdf = await page.pdf({ preferCSSPageSize: true });
  writeFileSync('e2e/screenshots/review-handout.pdf', pdf);
  const count = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  expect(count).toBe(steps.length + 1);
});

test('a new design or kernel keeps the user at the same step', async ({ page }) => {
  await openApp(page, '?scenario=msix-direct');
  const { steps } = scenarioFile('msix-direct');
  for (let i = 0; i < 3; i++) await doNextCommand(page);
  await expect(page.getByTestId('caption')).toHaveText(steps[2].caption!);
  await page.getByTestId('design-picker').selectOption('rfc-v2');
  await expect(page.getByTestId('btn-next-command')).toContainText(`4/${steps.length}`);
  await settled(page);
  await expect(page.getByTestId('caption')).toHaveText(steps[2].caption!);
  await page.getByTestId('profile-picker').selectOption('6.1');
  await expect(page.getByTestId('btn-next-command')).toContainText(`4/${steps.length}`);
  await settled(page);
  await expect(page.getByTestId('design-picker')).toHaveValue('rfc-v2');
  await expect(page.getByTestId('profile-picker')).toHaveValue('6.1');
});
