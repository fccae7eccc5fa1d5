// The page shows the state at the cursor: stories from issue 7's "Done when", each with a screenshot
// at 1280x720 and 2560x1440, light and dark.
import {
  LOOKS,
  back,
  cursorAt,
  doNextCommand,
  expect,
  fourLooks,
  look,
  openApp,
  screenshot,
  settled,
  test,
} from './helpers.ts';

for (const l of LOOKS) {
  test(`the whole path is drawn before the first step (${l.name})`, async ({ page }) => {
    await look(page, l);
    await openApp(page);
    const diagram = page.getByTestId('diagram');
    // Every edge of the topology is there, quiet; none used yet.
    expect(Number(await diagram.getAttribute('data-edges'))).toBeGreaterThan(20);
    await expect(diagram).toHaveAttribute('data-used', '0');
    for (const p of ['direct', 'intercepted', 'emulated', 'control'])
      expect(await page.locator(`.edges path[data-path=${p}]`).count(), p).toBeGreaterThan(0);
    await expect(page.getByTestId('legend-posted')).toBeVisible();
    // Nothing clipped: no page scroll, the toolbar's last control and the clock in view.
    expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollHeight - innerHeight)).toBe(0);
    await expect(page.getByTestId('clock')).toBeInViewport();
    await expect(page.getByTestId('btn-help')).toBeInViewport();
    await screenshot(page, `path-drawn-${l.name}`);
  });
}

test('during a run the guest counter changes only when the token arrives', async ({ page }) => {
  await openApp(page);
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  // Record, every frame while the run's hops play, the cursor and what the guest box says.
  await page.evaluate(() => {
    const w = window as unknown as { samples: [number, string][] };
    w.samples = [];
    const bar = document.querySelector('[data-testid=toolbar]')!;
    const tick = () => {
      const guest = document.querySelector('[data-node-id=guest]')?.textContent ?? '';
      w.samples.push([Number(bar.getAttribute('data-cursor')), guest]);
      if (w.samples.length < 2000) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await doNextCommand(page); // the scenario's `run`
  // The hop that delivers to the guest (the LAPIC's ack: the guest's handler count goes up there).
  const handler = Number(
    await page.locator('[data-testid=trace-row].o-delivered').first().getAttribute('data-seq'),
  );
  const samples = await page.evaluate(() => (window as unknown as { samples: [number, string][] }).samples);
  const before = samples.filter(([at]) => at <= handler);
  const after = samples.filter(([at]) => at > handler);
  expect(before.length).toBeGreaterThan(3);
  expect(after.length).toBeGreaterThan(0);
  for (const [at, text] of before) expect(text, `cursor ${at}`).toContain('handled 0');
  for (const [at, text] of after) expect(text, `cursor ${at}`).toContain('handled 1');
  await fourLooks(page, 'run-token-arrived', [page.locator('[data-node-id=guest]')]);
});

test('Back inside a run goes back one hop, and the state with it', async ({ page }) => {
  await openApp(page);
  for (let i = 0; i < 5; i++) await doNextCommand(page);
  const end = await cursorAt(page);
  const lapic = page.locator('[data-node-id="lapic:1"]');
  await expect(page.locator('[data-node-id=guest]')).toContainText('completed 1');
  await back(page);
  expect(await cursorAt(page)).toBe(end - 1);
  // One hop back: the guest's handler has not run its work completion yet.
  await expect(page.locator('[data-node-id=guest]')).toContainText('completed 0');
  await back(page);
  // Before the EOI: the vector is in service again.
  await expect(lapic).toContainText('ISR 0x41');
  await back(page);
  // Before the LAPIC's ack: the vector waits in IRR, the guest has not handled it.
  await expect(lapic).toContainText('IRR 0x41');
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 0');
  await fourLooks(page, 'back-inside-run', [lapic, page.locator('[data-node-id=guest]')]);
  await page.getByTestId('btn-step').click();
  await settled(page);
  expect(await cursorAt(page)).toBe(end - 2);
  await expect(lapic).toContainText('ISR 0x41');
});

test('the step list jumps to any step and the timeline moves the cursor', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('step-link-5').click();
  await settled(page);
  await expect(page.getByTestId('btn-next-command')).toContainText('All 5 commands done');
  const end = await cursorAt(page);
  await page.getByTestId('step-link-2').click();
  await expect(page.locator('.step-no')).toHaveText('step 2');
  expect(await cursorAt(page)).toBeLessThan(end);

  await page.getByTestId('tab-timeline').click();
  const tl = page.getByTestId('timeline');
  const box = (await tl.boundingBox())!;
  await tl.click({ position: { x: box.width - 12, y: box.height / 2 } });
  await expect.poll(() => cursorAt(page)).toBe(end);
  await tl.click({ position: { x: 110, y: box.height / 2 } });
  await expect.poll(() => cursorAt(page)).toBeLessThan(5);
  await fourLooks(page, 'timeline', [tl, page.getByTestId('toolbar')]);
});

test('? lists the shortcuts, and every one works after using a picker', async ({ page }) => {
  await openApp(page);
  const bar = page.getByTestId('toolbar');
  const next = page.getByTestId('btn-next-command');
  await page.getByTestId('granularity').selectOption('command');
  await page.getByTestId('scenario-picker').selectOption({ index: 1 });
  await settled(page);
  await page.keyboard.press('?');
  await expect(page.getByTestId('help-overlay')).toBeVisible();
  // Every shortcut of the registry is listed (16 of them: each exercised below).
  await expect(page.getByTestId('shortcut')).toHaveCount(16);
  await fourLooks(page, 'help-overlay', [page.getByTestId('help-overlay')]);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-overlay')).toHaveCount(0);
  const picked = await page.getByTestId('scenario-picker').inputValue();
  // n applies the next command (a letter no longer picks a scenario in the focused picker).
  await page.keyboard.press('n');
  await expect(next).toContainText(/ 2\/\d+/);
  await settled(page);
  expect(await page.getByTestId('scenario-picker').inputValue()).toBe(picked);
  // g: command → hop; b steps back one hop, s forward again; ← and → the same.
  await page.keyboard.press('g');
  await expect(page.getByTestId('granularity')).toHaveValue('hop');
  const end = await cursorAt(page);
  await page.keyboard.press('b');
  await expect.poll(() => cursorAt(page)).toBe(end - 1);
  await settled(page);
  await page.keyboard.press('s');
  await expect.poll(() => cursorAt(page)).toBe(end);
  await settled(page);
  await page.keyboard.press('ArrowLeft');
  await expect.poll(() => cursorAt(page)).toBe(end - 1);
  await settled(page);
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => cursorAt(page)).toBe(end);
  await settled(page);
  // Home and End: the cursor to the start and back to the newest hop.
  await page.keyboard.press('Home');
  await expect.poll(() => cursorAt(page)).toBe(0);
  await settled(page);
  await page.keyboard.press('End');
  await expect.poll(() => cursorAt(page)).toBe(end);
  await settled(page);
  // [ and ]: slower, faster.
  const speed = await page.getByTestId('speed').inputValue();
  await page.keyboard.press(']');
  await expect(page.getByTestId('speed')).not.toHaveValue(speed);
  await page.keyboard.press('[');
  await expect(page.getByTestId('speed')).toHaveValue(speed);
  // p plays the whole scenario, space pauses it (and space runs what is queued).
  await page.keyboard.press('[');
  await page.keyboard.press('[');
  await page.keyboard.press('p');
  await expect(bar).toHaveAttribute('data-playing', 'true');
  await page.keyboard.press(' ');
  await expect(bar).toHaveAttribute('data-playing', 'false');
  await settled(page);
  // r resets the scenario.
  await page.keyboard.press('r');
  await expect(bar).toHaveAttribute('data-history', '0');
  await settled(page);
  // Escape clears the selection.
  await page.locator('[data-node-id=iommu]').click();
  await expect(page.getByTestId('inspector-node')).not.toHaveText('system');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('inspector-node')).toHaveText('system');
  // f enters presentation mode and c opens side by side; Escape leaves each.
  await page.keyboard.press('f');
  await expect(page.getByTestId('slide')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('presentation')).toHaveCount(0);
  await page.keyboard.press('c');
  await expect(page.getByTestId('compare')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('compare')).toHaveCount(0);
  // t switches the theme.
  const theme = await page.getByTestId('btn-theme').getAttribute('data-theme');
  await page.keyboard.press('t');
  await expect(page.getByTestId('btn-theme')).toHaveAttribute(
    'data-theme',
    theme === 'light' ? 'dark' : 'light',
  );
});

for (const l of LOOKS) {
  test(`a dropped interrupt stops where it dropped, with its reason, legible (${l.name})`, async ({
    page,
  }) => {
    await look(page, l);
    await openApp(page, '?scenario=remapping-fault.json');
    const steps = await page.locator('[data-testid^=step-link-]').count();
    await page.getByTestId(`step-link-${steps - 1}`).click();
    await settled(page);
    await expect(page.getByTestId('counter-dropped')).toContainText(/[1-9]/);
    await expect(page.locator('[data-testid=trace-row]').first().getByTestId('trace-outcome')).toHaveText(
      'dropped',
    );
    expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollHeight - innerHeight)).toBe(0);
    // Every box of the diagram in view without scrolling it.
    const d = page.getByTestId('diagram');
    expect(await d.evaluate((el) => el.scrollHeight - el.clientHeight)).toBeLessThanOrEqual(1);
    await screenshot(page, `drop-${l.name}`);
  });
}

test('Step by interrupt goes to its next stop, Back by command to before the command', async ({ page }) => {
  await openApp(page);
  for (let i = 0; i < 4; i++) await doNextCommand(page);
  const beforeRun = await cursorAt(page);
  await page.getByTestId('granularity').selectOption('interrupt');
  await page.getByTestId('btn-step').click();
  await settled(page);
  // The interrupt's first stop: pending in vCPU 1's IRR (the hops before it played one after another).
  await expect(page.locator('[data-node-id="lapic:1"]')).toContainText('IRR 0x41');
  await expect(page.locator('[data-testid=trace-row]').first().getByTestId('trace-outcome')).toHaveText(
    'pending',
  );
  await page.getByTestId('btn-step').click();
  await settled(page);
  await expect(page.locator('[data-testid=trace-row]').first().getByTestId('trace-outcome')).toHaveText(
    'delivered',
  );
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 1');

  await page.getByTestId('granularity').selectOption('command');
  await page.getByTestId('btn-back').click();
  await expect.poll(() => cursorAt(page)).toBe(beforeRun);
  await expect(page.locator('[data-node-id=guest]')).toContainText('handled 0');
  await fourLooks(page, 'step-by-interrupt', [page.locator('[data-node-id=guest]')]);
});
