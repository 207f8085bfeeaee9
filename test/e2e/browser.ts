// Debian's Chromium, headless, driven by playwright-core through its executablePath: no browser is
// downloaded. Each launch has a fresh profile directory (its --user-data-dir), removed at close.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { TOOL_PATHS } from '../support/tools.js';

export interface HeadlessBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** `ignoreHTTPSErrors`: the cluster's CA is its own (the browser's trust store does not know it). */
export async function launchChromium(): Promise<HeadlessBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'skiff-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: TOOL_PATHS.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
