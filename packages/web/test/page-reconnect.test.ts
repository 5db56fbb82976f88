// The page across a restart of keruta-api (a real child process, killed with SIGKILL and started
// again on the same port and data): it shows that it is reconnecting, comes back by itself, and
// ends with every line once, in order — those written while it was away included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, waitForConnection } from './page-helpers.js';
import { numberedLines, postEntries } from './writer.js';

describe('admin page: reconnect', () => {
  let server: SpawnedServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([spawnServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('reconnects after the server restarts and loses or repeats no line', async () => {
    const taskId = 'restart';
    await postEntries(server.apiUrl, taskId, numberedLines(1, 200));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForConnection(page, 'live');
    await page.waitForFunction(() => document.getElementById('logContainer')?.dataset['lastSeq'] === '200');

    await server.kill();
    await page.waitForFunction(() => document.getElementById('connection')?.textContent?.startsWith('reconnecting'), undefined, { timeout: 15_000 });
    expect(await page.getAttribute('#connection', 'data-state')).toBe('reconnecting');

    await server.restart();
    // Written while the page is still away: it must fetch them with `since` when it is back.
    await postEntries(server.apiUrl, taskId, numberedLines(201, 150));
    await waitForConnection(page, 'live', 30_000);
    await postEntries(server.apiUrl, taskId, numberedLines(351, 50));
    await page.waitForFunction(() => document.getElementById('logContainer')?.dataset['lastSeq'] === '400', undefined, { timeout: 15_000 });

    const rows = await readAllRows(page);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(rows.map((r) => r.text)).toEqual(Array.from({ length: 400 }, (_, i) => `line ${i + 1}`));
    expect(await page.textContent('#totalLogs')).toBe('400');
    expect(errors).toEqual([]);
    await page.close();
  });
});
