// "Search all tasks" in the task panel, in real Chromium against a real keruta-api: the lines of
// every task holding the text, newest first, as text (never HTML), each a link to its line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage } from './page-helpers.js';
import { postEntries } from './writer.js';

describe('admin page: search all tasks', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the matching lines of every task, newest first, as text, each a link to its line', async () => {
    await postEntries(server.apiUrl, 'build-7', [
      { source: 'stdout', level: 'INFO', message: 'compiling' },
      { source: 'stderr', level: 'ERROR', message: '\u001b[31merror\u001b[0m: <img src=x onerror=alert(1)> cannot find module' },
    ]);
    await postEntries(server.apiUrl, 'build-8', [{ source: 'stderr', level: 'ERROR', message: 'ERROR: Cannot find module "left-pad"' }]);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=build-8`);
    const results = async () =>
      page.$$eval('#taskSearchResults li', (items) => items.map((li) => ({ href: li.querySelector('a')?.getAttribute('href'), text: li.querySelector('.search-line')?.textContent })));
    // The index takes a line in just after it is stored: search again until both are there.
    const deadline = Date.now() + 20_000;
    let found: Awaited<ReturnType<typeof results>> = [];
    while (found.length < 2 && Date.now() < deadline) {
      await page.fill('#taskSearchInput', 'cannot find module');
      await page.press('#taskSearchInput', 'Enter');
      await page.waitForFunction(() => !/Searching/.test(document.getElementById('taskSearchStatus')?.textContent ?? 'Searching'));
      found = await results();
    }
    expect(found).toEqual([
      { href: '?taskId=build-8#L1', text: 'ERROR: Cannot find module "left-pad"' },
      { href: '?taskId=build-7#L2', text: 'error: <img src=x onerror=alert(1)> cannot find module' },
    ]);
    expect(await page.$$('#taskSearchResults img')).toHaveLength(0);
    expect(await page.textContent('#taskSearchStatus')).toBe('2 lines');

    await page.fill('#taskSearchInput', 'no line says this');
    await page.press('#taskSearchInput', 'Enter');
    await page.waitForFunction(() => /No line holds/.test(document.getElementById('taskSearchStatus')?.textContent ?? ''));
    expect(await results()).toEqual([]);

    await page.fill('#taskSearchInput', 'cannot find module');
    await page.press('#taskSearchInput', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#taskSearchResults li').length === 2);
    await page.click('#taskSearchResults li:last-child a');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('taskId') === 'build-7' && location.hash === '#L2');
    await page.waitForSelector('.log-entry[data-seq="2"]');
    expect(errors).toEqual([]);
  });
});
