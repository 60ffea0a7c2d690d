// What the browser tests share: Debian's Chromium through playwright-core, and signing in to the
// dashboard. Under CI=true a missing Chromium fails the test (launch throws), as any missing part.
import { type Browser, chromium, type Page } from 'playwright-core';
import { ADMIN_PASSWORD } from './harness.ts';

/** Chromium headless, without the background traffic (updates, sync, QUIC) a test does not want. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
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

/**
 * Opens the dashboard at `url` and signs in (the administrator unless told otherwise); with
 * `liveWithinMs`, waits until the screen's live feed is connected.
 */
export async function signIn(
  page: Page,
  url: string,
  opts: { username?: string; password?: string; liveWithinMs?: number } = {},
): Promise<void> {
  await page.goto(url);
  await page.locator('input[name=username]').fill(opts.username ?? 'admin');
  await page.locator('input[name=password]').fill(opts.password ?? ADMIN_PASSWORD);
  await page.locator('button[type=submit]').click();
  if (opts.liveWithinMs !== undefined)
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: opts.liveWithinMs });
}
