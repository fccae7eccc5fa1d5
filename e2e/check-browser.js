// Runs before the Playwright tests: say exactly how to get a browser when the machine has none.
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

const system = '/usr/bin/chromium';
let bundled;
try {
  bundled = chromium.executablePath();
} catch {
  bundled = '';
}
if (!existsSync(system) && !(bundled && existsSync(bundled))) {
  console.error(
    'irqflow e2e: no Chromium found.\n' +
      `  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium   (gives ${system})\n` +
      '  elsewhere:     npx playwright install chromium',
  );
  process.exit(1);
}
