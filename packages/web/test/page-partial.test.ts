// The admin page in real Chromium against a real keruta-api: the line a script is still writing
// (`partial` messages, as keruta-agent sends them) shows as a muted row at the end of the live log,
// rewritten in place with "\r" applied, and becomes one stored line when the line is complete.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, makeTempDir, startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, waitForConnection, waitForRows } from './page-helpers.js';

const RUN = '7e4b1f0a-2222-4c3d-8e9f-0a1b2c3d4e5f';
const partial = (lineNumber: number, text: string, source = 'stdout') => ({
  type: 'partial',
  source,
  runId: RUN,
  lineNumber,
  text,
  timestamp: new Date().toISOString(),
});
const stored = (runSeq: number, lineNumber: number, message: string, extra: Record<string, unknown> = {}) => ({
  source: 'stdout',
  level: 'INFO',
  message,
  runId: RUN,
  runSeq,
  lineNumber,
  ...extra,
});

describe('admin page: lines being written', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a progress bar as a pending row updated in place, which becomes one stored line when the line ends', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=pending-bar`);
    await waitForConnection(page, 'live');
    await using agent = await connectClient(`${server.wsUrl}/pending-bar`);
    agent.send({ type: 'logs', batchId: 'b1', entries: [stored(1, 1, 'starting')] });
    await waitForRows(page, 1);
    const pendingText = () => page.$$eval('#pendingLines .pending-line .msg', (nodes) => nodes.map((n) => n.textContent));
    const waitForPending = (text: string) =>
      page.waitForFunction((want) => document.querySelector('#pendingLines .pending-line .msg')?.textContent === want, text, { timeout: 15_000, polling: 20 });

    agent.send(partial(2, 'progress 10%'));
    await waitForPending('progress 10%');
    // Marked, to tell that later states rewrite this row rather than add rows.
    await page.$eval('#pendingLines .pending-line', (row) => row.setAttribute('data-first', 'yes'));
    const look = await page.$eval('#pendingLines .pending-line', (row) => ({
      visible: (row as HTMLElement).offsetHeight > 0,
      belowLog: row.getBoundingClientRect().top >= (document.getElementById('logContainer') as HTMLElement).getBoundingClientRect().bottom - 1,
      style: getComputedStyle(row).fontStyle,
      source: row.querySelector('.src')?.textContent,
    }));
    expect(look).toEqual({ visible: true, belowLog: true, style: 'italic', source: 'STDOUT' });

    agent.send(partial(2, 'progress 50%'));
    await waitForPending('progress 50%');
    // "\r" is applied as storage applies it: the text after it overwrites from column 0.
    agent.send(partial(2, 'progress 90%\rDone'));
    await waitForPending('Doneress 90%');
    expect(await page.$$eval('#pendingLines .pending-line', (rows) => rows.map((r) => r.getAttribute('data-first')))).toEqual(['yes']);

    // The source filter hides a line being written as it hides the stored lines of that source.
    await page.uncheck('#sourceFilter input[value=stdout]');
    await page.waitForSelector('#pendingLines', { state: 'hidden', timeout: 15_000 });
    await page.check('#sourceFilter input[value=stdout]');
    await page.waitForSelector('#pendingLines .pending-line', { state: 'visible', timeout: 15_000 });

    agent.send({ type: 'logs', batchId: 'b2', entries: [stored(2, 2, 'progress 100%')] });
    await waitForRows(page, 2);
    await page.waitForSelector('#pendingLines', { state: 'hidden', timeout: 15_000 });
    expect(await pendingText()).toEqual([]);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['starting', 'progress 100%']);

    // A partial of a line already stored (late, or from before a reconnect) is not shown again.
    agent.send(partial(2, 'progress 95%'));
    await sleep(300);
    expect(await pendingText()).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows a real keruta-agent\'s progress bar moving, then the one stored line "progress 100%"', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=pending-agent`);
    await waitForConnection(page, 'live');
    // Every state the pending row shows, as the page draws it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seenPending: string[] }).seenPending = seen;
      const box = document.getElementById('pendingLines') as HTMLElement;
      new MutationObserver(() => {
        const text = box.querySelector('.pending-line .msg')?.textContent;
        if (text !== undefined && text !== null && seen.at(-1) !== text) seen.push(text);
      }).observe(box, { subtree: true, childList: true, characterData: true });
    });
    await using temp = await makeTempDir('keruta-page-agent-');
    const script = join(temp.path, 'bar.sh');
    writeFileSync(script, "#!/bin/sh\nprintf 'progress 10%%'; sleep 0.7; printf '\\rprogress 50%%'; sleep 0.7; printf '\\rprogress 100%%\\n'\n");
    chmodSync(script, 0o755);
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('KERUTA_')));
    const agent = spawn(process.execPath, [resolve(import.meta.dirname, '../../agent/dist/cli.js'), 'execute', '--task-id', 'pending-agent', '--script', script], {
      env: { ...env, KERUTA_WEBSOCKET_URL: server.wsUrl, KERUTA_API_URL: server.apiUrl, KERUTA_LOG_SPOOL_DIR: join(temp.path, 'spool') },
      stdio: 'ignore',
    });
    expect(await new Promise((done) => agent.once('exit', done))).toBe(0);
    await page.waitForFunction(
      () => [...document.querySelectorAll('#logContainer .log-entry .msg')].some((n) => n.textContent === 'progress 100%'),
      undefined,
      { timeout: 15_000 },
    );
    await page.waitForSelector('#pendingLines', { state: 'hidden', timeout: 15_000 });
    const seen = await page.evaluate(() => (window as unknown as { seenPending: string[] }).seenPending);
    console.log(`pending row states seen: ${JSON.stringify(seen)}`);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    for (const text of seen) expect(['progress 10%', 'progress 50%']).toContain(text);
    const rows = (await readAllRows(page)).map((r) => r.text);
    expect(rows.filter((text) => text.startsWith('progress'))).toEqual(['progress 100%']);
    expect(errors).toEqual([]);
  });

  it('drops the pending rows when the task ends', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=pending-end`);
    await waitForConnection(page, 'live');
    await using agent = await connectClient(`${server.wsUrl}/pending-end`);
    agent.send({ type: 'logs', batchId: 'b1', entries: [stored(1, 1, 'starting'), { source: 'agent', level: 'INFO', message: 'started', runId: RUN, runSeq: 2, lineNumber: 1, metadata: { event: 'started' } }] });
    await waitForRows(page, 2);
    agent.send(partial(1, 'Waiting for the lock', 'stderr'));
    agent.send(partial(2, 'Downloading 40%'));
    await page.waitForFunction(() => document.querySelectorAll('#pendingLines .pending-line').length === 2, undefined, { timeout: 15_000 });
    agent.send({ type: 'logs', batchId: 'b2', entries: [{ source: 'agent', level: 'INFO', message: 'exited', runId: RUN, runSeq: 3, lineNumber: 2, metadata: { event: 'exited', exitCode: 0 } }] });
    await page.waitForSelector('#pendingLines', { state: 'hidden', timeout: 15_000 });
    expect(errors).toEqual([]);
  });
  it('shows the moving bar in one pending row under stored rows with their level badges (docs/screenshots/page-pending-line.png)', async () => {
    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 1100, height: 440 });
    await openLogPage(page, `${server.baseUrl}/?taskId=pending-shot`);
    await waitForConnection(page, 'live');
    await using agent = await connectClient(`${server.wsUrl}/pending-shot`);
    const levels = [
      ['INFO', '$ npm ci'],
      ['DEBUG', 'resolved 812 packages from the lockfile'],
      ['WARN', 'npm warn deprecated inflight@1.0.6: not supported'],
      ['INFO', 'added 812 packages in 14s'],
      ['ERROR', 'gyp ERR! build error: retrying with prebuilt binaries'],
      ['INFO', '$ ./scripts/fetch-assets.sh'],
    ] as const;
    agent.send({ type: 'logs', batchId: 's1', entries: levels.map(([level, message], i) => stored(i + 1, i + 1, message, { level })) });
    await waitForRows(page, levels.length);
    const bar = (percent: number) => `Downloading assets [${'#'.repeat(percent / 5).padEnd(20, '.')}] ${percent}%  ${(percent * 0.42).toFixed(1)} MB`;
    const waitForPending = (text: string) =>
      page.waitForFunction((want) => document.querySelector('#pendingLines .pending-line .msg')?.textContent === want, text, { timeout: 15_000, polling: 20 });
    for (const percent of [10, 35, 60]) {
      agent.send(partial(levels.length + 1, bar(percent)));
      await waitForPending(bar(percent));
      if (percent === 10) await page.$eval('#pendingLines .pending-line', (row) => row.setAttribute('data-first', 'yes'));
    }
    // One row, rewritten: the same element all along, under the stored rows, whose level badges show.
    expect(await page.$$eval('#pendingLines .pending-line', (rows) => rows.map((r) => r.getAttribute('data-first')))).toEqual(['yes']);
    expect(await page.$$eval('#logContainer .log-entry .lvl', (badges) => badges.map((b) => b.textContent))).toEqual(levels.map(([level]) => level));
    expect(await page.isVisible('#pendingLines .pending-line')).toBe(true);
    if (process.env['KERUTA_SCREENSHOTS'] === '1') {
      const path = resolve(import.meta.dirname, '../../../docs/screenshots/page-pending-line.png');
      mkdirSync(dirname(path), { recursive: true });
      await page.screenshot({ path });
    }
    agent.send({ type: 'logs', batchId: 's2', entries: [stored(levels.length + 1, levels.length + 1, bar(100))] });
    await waitForRows(page, levels.length + 1);
    await page.waitForSelector('#pendingLines', { state: 'hidden', timeout: 15_000 });
    expect(errors).toEqual([]);
    await page.close();
  });
});
