/** What the SDK's tests with media set up: a scratch folder of media made with ffmpeg, the server, a site of another origin, Chromium. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { CHROMIUM, launchMediaBrowser } from './browser.ts';
import { startTestServer, type TestServer } from './server.ts';
import { serveStatic, type StaticServer } from './static.ts';

export interface MediaBed {
  dir: string;
  s: TestServer;
  site: StaticServer;
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** `make` fills the scratch folder the site serves (with /usr/bin/ffmpeg); `pages` are the site's pages, made once the server runs. */
export async function mediaBed(make: (dir: string) => void, pages: (s: TestServer) => Record<string, () => string>): Promise<MediaBed> {
  for (const bin of [CHROMIUM, '/usr/bin/ffmpeg']) assert.ok(existsSync(bin), `${bin} is missing: apt-get install chromium ffmpeg`);
  const dir = mkdtempSync(join(tmpdir(), 'reelstat-media-'));
  make(dir);
  const s = await startTestServer();
  const site = await serveStatic(dir, pages(s));
  const { browser, context } = await launchMediaBrowser();
  return {
    dir, s, site, browser, context,
    async close() {
      await context.close();
      await browser.close();
      await site.close();
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
