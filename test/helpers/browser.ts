import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Debian's Chromium (`apt-get install chromium`), as .ci/run installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where browser tests leave their screenshots (gitignored): one per main view. */
export const SCREENSHOTS = join(ROOT, 'test-results', 'dashboard');

/**
 * Launches headless Chromium with the flags that keep it quiet and predictable on a shared CI
 * machine: no sandbox (root in a container), no GPU, no QUIC, no first-run, background or
 * update traffic. Playwright gives every launch a fresh temporary profile (its own
 * --user-data-dir), so no state leaks between runs.
 */
export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}
