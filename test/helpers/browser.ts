/** Debian's Chromium driven by playwright-core, for the dashboard and SDK tests; screenshots under test-output/. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureDashboard } from '../../scripts/build-dashboard.mjs';
import { BROWSER_UA } from './server.ts';

/** The browser every browser test drives: Debian's, or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const OUTPUT_DIR = join(process.cwd(), 'test-output', 'dashboard');

export async function launchBrowser(): Promise<Browser> {
  // The dashboard must be built before the server serves it (npm test builds it once already).
  await ensureDashboard({ quiet: true });
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Chromium for the SDK's tests with media: autoplay allowed, and a desktop Chrome's user agent.
 * Headless Chromium says "HeadlessChrome", a known bot whose events count nowhere; it is set by flag,
 * as a context's override does not reach beacons sent while a page unloads.
 */
export async function launchMediaBrowser(): Promise<{ browser: Browser; context: BrowserContext }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required', `--user-agent=${BROWSER_UA}`],
  });
  return { browser, context: await browser.newContext() };
}

export const DESKTOP = { viewport: { width: 1440, height: 900 }, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true };
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-US', timezoneId: 'UTC' };

/** Collects uncaught page errors and Content-Security-Policy violations, so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(`csp: ${m.text()}`);
  });
  return errors;
}

export async function signIn(page: Page, url: string, email: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForSelector('input[name=email]');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=sign-out]');
}

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky sidebar follows the scroll position
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage });
}

/** Waits until no element marked aria-busy="true" is left on the page. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"]'));
}

export async function newPage(browser: Browser, opts: Parameters<Browser['newContext']>[0]): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext(opts);
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page) };
}
