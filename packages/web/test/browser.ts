/// <reference lib="dom" />
// Real Chromium for the admin page's tests: Debian's /usr/bin/chromium driven by playwright-core,
// one browser per test file with a fresh profile, a page per test. Errors thrown in a page are
// collected, so that a test can say none happened.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, makeTempDir } from '@keruta/testing';

export interface TestPage {
  readonly page: Page;
  /** Uncaught errors of the page, in order. */
  readonly errors: string[];
}

export interface TestBrowser extends AsyncDisposable {
  readonly context: BrowserContext;
  newPage(): Promise<TestPage>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { colorScheme?: 'dark' | 'light'; viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const profile = await makeTempDir('keruta-chromium-');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
    colorScheme: options.colorScheme ?? 'dark',
    viewport: options.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: true,
  });
  // The persistent context opens with a blank tab of its own.
  for (const page of context.pages()) await page.close();
  const close = async (): Promise<void> => {
    await context.close();
    await profile.remove();
  };
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      return { page, errors };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
