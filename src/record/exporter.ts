// "Export as Playwright test": a spec that opens the page on the scenario (carried in the link's hash,
// as a shared link carries it), applies each step with "Do next command" in its own test.step, and
// checks the step's outcome as the page reports it: the check badge (the page runs the same check as
// `irqflow run`), the errno of the command result, each expectation passed. It imports only
// @playwright/test, so it runs unchanged from e2e/. Deterministic: the same scenario exports the same
// bytes (the recording e2e test compares a fresh export with the committed one).

import type { Scenario } from '../engine/index.ts';
import { encodeLink } from './link.ts';

/**
 * A TypeScript string literal as Prettier writes it in this repository (single quotes, unless the text
 * holds more single than double quotes), so an exported spec passes `prettier --check` unchanged.
 */
export function tsString(s: string): string {
  const singles = (s.match(/'/g) ?? []).length;
  const doubles = (s.match(/"/g) ?? []).length;
  const body = s
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\u2028|\u2029/g, ' ');
  return singles > doubles ? `"${body.replace(/"/g, '\\"')}"` : `'${body.replace(/'/g, "\\'")}'`;
}

const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1).trimEnd()}…` : s);

function stepTitle(i: number, s: Scenario['steps'][number]): string {
  const what = s.caption ? `: ${short(s.caption.replace(/\s+/g, ' '), 80)}` : '';
  return `step ${i + 1} ${s.command.op}${what}`;
}

/** How many expectations the page lists for a step (mirrors ui/record/checks.ts: expectationItems). */
export function expectationCount(x: Scenario['steps'][number]['expect']): number {
  if (!x) return 0;
  return (
    (x.ok !== undefined || x.errno !== undefined ? 1 : 0) +
    (x.value !== undefined ? 1 : 0) +
    Object.keys(x.snapshot ?? {}).length +
    (x.hops ? 1 : 0) +
    (x.functions?.length ?? 0) +
    (x.path?.length ?? 0)
  );
}

export function exportPlaywright(s: Scenario, opts: { step?: number } = {}): string {
  const link = encodeLink({ scenario: s, step: opts.step ?? 0 });
  const lines: string[] = [
    `// Exported from irqflow ("Export as Playwright test"): ${s.title.replace(/\s+/g, ' ')}`,
    '// The scenario travels in the link, as a shared link carries it. Each test.step applies one step',
    '// with "Do next command" and checks its outcome as the page reports it.',
    '',
    "import { expect, test } from '@playwright/test';",
    '',
    `const NAME = ${tsString(s.name)};`,
    `const LINK =\n  ${tsString(link)};`,
    '',
    'test(`${NAME} replays in the page with its expectations`, async ({ page }) => {',
    '  await page.goto(`/#${LINK}`);',
    "  const bar = page.getByTestId('record-bar');",
    "  const check = page.getByTestId('record-check');",
    "  await expect(bar).toHaveAttribute('data-scenario', NAME);",
    "  await expect(bar).toHaveAttribute('data-ready', 'true');",
  ];
  s.steps.forEach((st, i) => {
    const n = expectationCount(st.expect);
    lines.push(`  await test.step(${tsString(stepTitle(i, st))}, async () => {`);
    lines.push("    await page.getByTestId('btn-next-command').click();");
    lines.push(`    await expect(check).toHaveAttribute('data-step', '${i + 1}');`);
    lines.push("    await expect(check).toHaveAttribute('data-status', 'passed');");
    if (st.expect?.errno)
      lines.push(
        `    await expect(page.getByTestId('command-result')).toHaveAttribute('data-errno', ${tsString(st.expect.errno)});`,
      );
    if (n > 0) {
      lines.push(`    await expect(check.getByTestId('expect-item')).toHaveCount(${n});`);
      lines.push('    await expect(check.locator(\'[data-status="failed"]\')).toHaveCount(0);');
    }
    lines.push('  });');
  });
  lines.push(
    `  await expect(page.getByTestId('btn-next-command')).toHaveText('All ${s.steps.length} commands done');`,
  );
  lines.push('});', '');
  return lines.join('\n');
}

/** A file name for a scenario's exports: its name, which the format keeps to [a-z0-9-]. */
export function exportName(s: Scenario, ext: 'json' | 'spec.ts' | 'trace.json'): string {
  return `${s.name}.${ext}`;
}
