import { readFileSync } from 'node:fs';
import { doNextCommand, expect, library, openApp, runToIdle, screenshot, test } from './helpers.ts';

// Every scenario of the built-in library, played in the page the way a presenter would: each command
// in turn (its result checked against the step's expectation of ok/errno), then run until idle.
const { dir, index } = library();

for (const entry of index.scenarios) {
  test(`scenario ${entry.name} plays to the end in the page`, async ({ page }) => {
    const file = dir === 'e2e/fixtures' ? 'msix-small.json' : entry.file;
    const scenario = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as {
      steps: { expect?: { ok?: boolean; errno?: string } }[];
    };
    await openApp(page, `?scenario=${entry.file}`);
    await expect(page.getByTestId('caption-bar')).not.toContainText('loading');

    for (const [i, step] of scenario.steps.entries()) {
      await doNextCommand(page);
      const what = `${entry.name} step ${i + 1}`;
      // A kernel errno, or the same errno refused by irqflow itself (a malformed field): data-errno says.
      if (step.expect?.errno)
        await expect(page.getByTestId('command-result'), what).toHaveAttribute(
          'data-errno',
          step.expect.errno,
        );
      else if (step.expect?.ok === true)
        await expect(page.getByTestId('command-result'), what).toHaveAttribute('data-errno', '');
    }
    await runToIdle(page);
    await expect(page.getByTestId('app-error')).toHaveCount(0);
    await expect(page.getByTestId('btn-next-command')).toBeDisabled();
    await expect(page.getByTestId('btn-next-command')).toHaveText(
      `All ${scenario.steps.length} commands done`,
    );
    await screenshot(page, `scenario-${entry.name}`);
  });
}
