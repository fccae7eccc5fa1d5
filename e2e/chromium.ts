// How irqflow launches Chromium, for the e2e tests (playwright.config.ts) and the page benchmark:
// Debian's /usr/bin/chromium when the machine has it (Playwright cannot download its own browser here),
// elsewhere Playwright's own (`npx playwright install chromium`).
import { existsSync } from 'node:fs';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps trying to reach the network at start. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumLaunchOptions(): { executablePath?: string; args: string[] } {
  return existsSync(SYSTEM_CHROMIUM)
    ? { executablePath: SYSTEM_CHROMIUM, args: CHROMIUM_FLAGS }
    : { args: CHROMIUM_FLAGS };
}
