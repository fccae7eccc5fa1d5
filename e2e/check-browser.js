// Runs before the Playwright tests. Debian's Chromium when the machine has it; else Playwright's own
// browser, fetched here the first time (saying so), so `npm install && npm test` is all a fresh laptop
// needs. Only when that download fails does it stop, naming the commands that install a browser.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { chromium } from '@playwright/test';

const system = '/usr/bin/chromium';

function bundled() {
  try {
    const p = chromium.executablePath();
    return p && existsSync(p) ? p : '';
  } catch {
    return '';
  }
}

if (!existsSync(system) && !bundled()) {
  console.error("irqflow e2e: no Chromium found; fetching Playwright's (npx playwright install chromium)…");
  const r = spawnSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
  if (r.status !== 0 || !bundled()) {
    console.error(
      'irqflow e2e: the download failed. Install a browser, then run npm test again:\n' +
        `  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium   (gives ${system})\n` +
        '  elsewhere:     npx playwright install chromium',
    );
    process.exit(1);
  }
}
