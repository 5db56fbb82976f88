// History and live, and the ways into a long log: the seam between the stored lines and the live
// ones (every line once, in order, while a writer keeps writing), older lines loaded on demand at
// the top, line links (#L123), and downloads of the whole log through the export endpoint.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { startWriter, waitUntil } from '@keruta/testing/base';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, rowsInView, waitForRows } from './page-helpers.js';
import { numberedLines, postEntries } from './writer.js';

async function postMany(apiUrl: string, taskId: string, total: number): Promise<void> {
  for (let from = 1; from <= total; from += 10_000) await postEntries(apiUrl, taskId, numberedLines(from, Math.min(10_000, total - from + 1)));
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('admin page: history, older lines, links and downloads', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows history then live lines with no gap and no duplicate while a writer keeps posting', async () => {
    const taskId = 'seam';
    const writer = startWriter({ apiUrl: server.apiUrl, taskId, batchSize: 15, pauseMs: 10 });
    await waitUntil(() => writer.written >= 500, '500 lines written');
    const whole = await browser.newPage();
    const tail = await browser.newPage();
    // A tall page: fewer steps to read every row.
    await whole.page.setViewportSize({ width: 1280, height: 2400 });
    await Promise.all([openLogPage(whole.page, `${server.baseUrl}/?taskId=${taskId}&since=0`), openLogPage(tail.page, `${server.baseUrl}/?taskId=${taskId}&tail=100`)]);
    // The writer goes on past the seam for a while, then stops.
    const atOpen = writer.written;
    await waitUntil(() => writer.written >= atOpen + 1000, '1000 lines past the seam');
    const total = await writer.stop();
    const lastShown = (last: number) => document.getElementById('logContainer')?.dataset['lastSeq'] === String(last);
    await Promise.all([whole.page.waitForFunction(lastShown, total), tail.page.waitForFunction(lastShown, total)]);

    const all = await readAllRows(whole.page);
    expect(all.map((r) => r.seq)).toEqual(range(1, total));
    expect(all.map((r) => r.text)).toEqual(range(1, total).map((n) => `line ${n}`));

    // The last 100 lines when the page opened, then every line after them.
    const fromTail = await readAllRows(tail.page);
    const first = fromTail[0]?.seq ?? 0;
    expect(first).toBeGreaterThan(1);
    expect(fromTail.map((r) => r.seq)).toEqual(range(first, total));
    expect(fromTail.map((r) => r.text)).toEqual(range(first, total).map((n) => `line ${n}`));
    expect([...whole.errors, ...tail.errors]).toEqual([]);
    await whole.page.close();
    await tail.page.close();
  });

  it('loads older lines when scrolled to the top, keeping the place, until the start of the log', async () => {
    const taskId = 'older';
    await postMany(server.apiUrl, taskId, 25_000);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&tail=1000`);
    await waitForRows(page, 1000);
    expect(await page.getAttribute('#logContainer', 'data-first-seq')).toBe('24001');
    expect(await page.textContent('#historyText')).toContain('scroll to the top for older lines');

    for (const expectedFirst of ['14001', '4001', '1']) {
      await page.keyboard.press('g');
      await page.waitForFunction((want) => document.getElementById('logContainer')?.dataset['firstSeq'] === want, expectedFirst, { timeout: 15_000 });
      // The lines that were at the top are still in view: the list kept its place.
      const inView = (await rowsInView(page)).map((r) => r.seq);
      expect(inView[0]).toBeGreaterThan(Number(expectedFirst));
      expect(inView).toEqual(range(inView[0] ?? 0, (inView[0] ?? 0) + inView.length - 1));
    }
    await page.waitForFunction(() => document.getElementById('historyText')?.textContent?.includes('start of the log'));
    expect(await page.getAttribute('#logContainer', 'data-lines')).toBe('25000');
    await page.keyboard.press('g');
    await page.waitForTimeout(200);
    const top = await rowsInView(page);
    expect(top[0]).toEqual({ seq: 1, text: 'line 1' });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('links every line (#L<seq>): opening a link scrolls to the line and marks it, near or far', async () => {
    const taskId = 'links';
    await postMany(server.apiUrl, taskId, 30_000);
    const { page, errors } = await browser.newPage();

    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}#L150`);
    await page.waitForSelector('.log-entry.target');
    expect(await page.getAttribute('.log-entry.target', 'data-seq')).toBe('150');
    expect(await page.textContent('.log-entry.target .msg')).toBe('line 150');
    expect(await page.isVisible('.log-entry.target')).toBe(true);

    // A click on a line number links that line.
    await page.click('.log-entry[data-seq="155"] a.ln');
    await page.waitForSelector('.log-entry.target[data-seq="155"]');
    expect(new URL(page.url()).hash).toBe('#L155');

    // A line far above the lines held: the page starts again from there.
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&tail=100`);
    expect(await page.getAttribute('#logContainer', 'data-first-seq')).toBe('29901');
    await page.evaluate(() => {
      window.location.hash = '#L7';
    });
    await page.waitForSelector('.log-entry.target[data-seq="7"]', { timeout: 15_000 });
    expect(await page.textContent('.log-entry.target .msg')).toBe('line 7');

    // A line a little above them: older lines are loaded up to it.
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&tail=100`);
    await page.evaluate(() => {
      window.location.hash = '#L25000';
    });
    await page.waitForSelector('.log-entry.target[data-seq="25000"]', { timeout: 15_000 });
    const firstSeq = Number(await page.getAttribute('#logContainer', 'data-first-seq'));
    expect(firstSeq).toBeLessThanOrEqual(25_000);
    expect(firstSeq).toBeGreaterThan(1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('downloads the whole log as JSON, CSV and text through the export endpoint', async () => {
    const taskId = 'download';
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: 'first, with a comma' },
      { source: 'stderr', level: 'ERROR', message: 'second "quoted"' },
      { source: 'agent', level: 'WARN', message: 'third' },
    ]);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 3);

    const hrefs = await page.$$eval('.downloads a', (links) => links.map((a) => (a as HTMLAnchorElement).href));
    expect(hrefs.map((h) => new URL(h).pathname + new URL(h).search)).toEqual([
      `/api/v1/tasks/${taskId}/logs/export?format=json`,
      `/api/v1/tasks/${taskId}/logs/export?format=csv`,
      `/api/v1/tasks/${taskId}/logs/export?format=txt`,
    ]);
    const [json, csv, txt] = await Promise.all(hrefs.map(async (href) => (await fetch(href)).text()));
    const entries = JSON.parse(json ?? '') as { seq: number; message: string }[];
    expect(entries.map((e) => [e.seq, e.message])).toEqual([[1, 'first, with a comma'], [2, 'second "quoted"'], [3, 'third']]);
    expect(csv?.split('\r\n')[0]).toBe('id,seq,taskId,timestamp,source,level,lineNumber,message');
    expect(csv).toContain(',stdout,INFO,1,"first, with a comma"\r\n');
    expect(csv).toContain('"second ""quoted"""');
    expect(txt?.trimEnd().split('\n').map((line) => line.replace(/^\[[^\]]+\] /, ''))).toEqual([
      '[STDOUT] [INFO] first, with a comma',
      '[STDERR] [ERROR] second "quoted"',
      '[AGENT] [WARN] third',
    ]);

    // A click saves the same file.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloadCsv')]);
    expect(download.suggestedFilename()).toBe(`${taskId}_logs.csv`);
    expect(await readFile((await download.path()) ?? '', 'utf8')).toBe(csv);
    expect(errors).toEqual([]);
    await page.close();
  });
});
