// The page against a keruta-api that wants credentials (JWT): without a token it says why it
// shows nothing; with `?token=` it streams, lists tasks and downloads with the token, which never
// stays in the address bar.
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, waitForRows } from './page-helpers.js';

const SECRET = 'page-auth-secret-of-32-characters';

function token(scope: string): Promise<string> {
  return new SignJWT({ scope }).setProtectedHeader({ alg: 'HS256' }).setSubject('page-test').setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET));
}

describe('admin page: authentication', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ config: { auth: { mode: 'jwt', jwtSecret: SECRET } } }), launchBrowser()]);
    const response = await fetch(`${server.apiUrl}/tasks/secret-task/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('logs:write')}`, 'content-type': 'application/json' },
      body: JSON.stringify([
        { source: 'stdout', level: 'INFO', message: 'only for readers' },
        { source: 'stderr', level: 'ERROR', message: 'a secret error' },
      ]),
    });
    expect(response.ok).toBe(true);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is served without credentials, and says that the stream and the task list need them', async () => {
    const { page } = await browser.newPage();
    await page.goto(`${server.baseUrl}/?taskId=secret-task`);
    await page.waitForFunction(() => document.getElementById('connection')?.textContent?.includes('UNAUTHORIZED'), undefined, { timeout: 15_000 });
    await page.waitForSelector('#taskListError:not([hidden])');
    expect(await page.textContent('#taskListError')).toContain('Cannot list tasks');
    expect(await page.$$('#logContainer .log-entry')).toHaveLength(0);
    await page.close();
  });

  it('streams, lists tasks and downloads with ?token=, which leaves the address bar at once', async () => {
    const { page, errors } = await browser.newPage();
    const jwt = await token('logs:read');
    await openLogPage(page, `${server.baseUrl}/?taskId=secret-task&token=${jwt}`);
    expect(page.url()).not.toContain(jwt);
    await waitForRows(page, 2);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['only for readers', 'a secret error']);
    await page.waitForSelector('#taskList li');
    expect(await page.textContent('#taskList')).toContain('secret-task');

    // A link cannot carry the token: the download is fetched with it and saved from memory.
    expect(await page.getAttribute('#downloadTxt', 'href')).not.toContain('token');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloadTxt')]);
    const text = await readFile((await download.path()) ?? '', 'utf8');
    expect(text).toContain('[STDOUT] [INFO] only for readers');
    expect(text).toContain('[STDERR] [ERROR] a secret error');
    expect(download.suggestedFilename()).toBe('secret-task_logs.txt');

    // The token stays with the tab: a reload still streams.
    await page.reload();
    await page.waitForSelector('#logContainer[data-history="loaded"]');
    await waitForRows(page, 2);
    expect(errors).toEqual([]);
    await page.close();
  });
});
