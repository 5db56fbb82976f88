// Finding the failure: a failed task opens at its first error (section unfolded, line marked);
// n/N and the buttons go from error to error over the whole stored log; the minimap, section
// durations, the sticky section header and the "Failures only" view. Real Chromium, real server.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRequest } from '@keruta/protocol';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage } from './page-helpers.js';
import { postEntries } from './writer.js';

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots/page-first-failure.png');
const T0 = Date.parse('2026-01-05T09:00:00.000Z');

/** 3,000 lines in 30 sections of 100 (header, 98 lines, end), 50 ms apart; errors where `errorAt` says. */
function buildLog(errorAt: ReadonlyMap<number, string>): LogRequest[] {
  const lines: LogRequest[] = [{ source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } }];
  for (let step = 0; step < 30; step += 1) {
    lines.push({ source: 'stdout', level: 'INFO', message: `::group::Step ${step + 1}` });
    for (let i = 0; i < 98; i += 1) {
      const seq = lines.length + 1;
      const error = errorAt.get(seq);
      lines.push({ source: 'stdout', level: error === undefined ? 'INFO' : 'ERROR', message: error ?? `step ${step + 1} work ${i + 1}` });
    }
    lines.push({ source: 'stdout', level: 'INFO', message: '::endgroup::' });
  }
  lines.push({ source: 'agent', level: 'ERROR', message: 'exited with code 1', metadata: { event: 'exited', exitCode: 1 } });
  return lines.map((line, i) => ({ ...line, timestamp: new Date(T0 + i * 50).toISOString() }));
}

const ERRORS = new Map([
  [1250, 'FAIL src/parser.test.ts > parses a quoted string'],
  [1251, "AssertionError: expected 'a\\\"b' to be 'a\"b'"],
  [2450, 'error TS2322: Type string is not assignable to type number'],
]);
/** The agent's exit line is an ERROR too. */
const ALL_ERRORS = [1250, 1251, 2450, 3002];

async function targetSeq(page: import('playwright-core').Page): Promise<number> {
  await page.waitForSelector('#logContainer .log-entry.target', { timeout: 15_000 });
  return Number(await page.getAttribute('#logContainer .log-entry.target', 'data-seq'));
}

async function waitForTarget(page: import('playwright-core').Page, seq: number): Promise<void> {
  await page.waitForSelector(`#logContainer .log-entry.target[data-seq="${seq}"]`, { timeout: 20_000 });
}

describe('admin page: the first failure and the errors of the whole log', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
    await postEntries(server.apiUrl, 'build-1842', buildLog(ERRORS));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens a failed task at its first failure, its section unfolded and the line marked in view', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842`);
    await waitForTarget(page, 1250);
    const inView = await page.evaluate(() => {
      const box = document.getElementById('logContainer')!.getBoundingClientRect();
      const row = document.querySelector('#logContainer .log-entry.target')!.getBoundingClientRect();
      return row.top >= box.top && row.bottom <= box.bottom;
    });
    expect(inView).toBe(true);
    // The section holding it is open: its other lines are rows too.
    expect(await page.isVisible('#logContainer .log-entry[data-seq="1251"]')).toBe(true);
    expect(await page.textContent('#errorPosition')).toBe('error 1 / 4');
    expect(await page.getAttribute('#errorMinimap', 'data-marks')).toBe('4');
    if (process.env['KERUTA_SCREENSHOTS'] === '1') {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.waitForTimeout(300);
      await page.screenshot({ path: SCREENSHOT });
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('goes from error to error with n and N and the buttons, also to errors the page does not hold', async () => {
    const { page, errors } = await browser.newPage();
    // Only the last 300 lines are loaded: the errors at 1250 and 2450 are not in the page.
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842&tail=300`);
    await page.waitForFunction(() => /4 errors/.test(document.getElementById('errorPosition')?.textContent ?? ''));
    // At the end of the log (where the page opens it), the next error is the last one.
    await page.focus('#logContainer');
    await page.keyboard.press('n');
    await waitForTarget(page, 3002);
    await page.keyboard.press('n');
    // Past the last error it wraps to the first, far back in the log.
    await waitForTarget(page, 1250);
    await page.keyboard.press('n');
    await waitForTarget(page, 1251);
    await page.click('#nextErrorBtn');
    await waitForTarget(page, 2450);
    expect(await page.textContent('#errorPosition')).toBe('error 3 / 4');
    await page.keyboard.press('N');
    await waitForTarget(page, 1251);
    await page.click('#prevErrorBtn');
    await waitForTarget(page, 1250);
    expect(ALL_ERRORS).toContain(await targetSeq(page));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows section durations, keeps the header of the section in view on top, and draws the minimap', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842#L1300`);
    await waitForTarget(page, 1300);
    // Step 14's header is seq 1302, its end 1401: 99 lines of 50 ms.
    await page.waitForSelector('#logContainer .group-header[data-seq="1302"] .dur');
    expect(await page.textContent('#logContainer .group-header[data-seq="1302"] .dur')).toBe('5.0 s');
    // The top row is inside section 13, whose header is scrolled away: the sticky header shows it.
    await page.evaluate(() => {
      const box = document.getElementById('logContainer')!;
      box.scrollTop -= 20 * 10;
    });
    await page.waitForSelector('#stickySection:not([hidden])');
    expect(await page.textContent('#stickySection .msg')).toBe('Step 13');
    expect(await page.getAttribute('#stickySection', 'class')).toContain('section-failed');
    expect(await page.textContent('#stickySection .dur')).toBe('5.0 s');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lists only the failures with the lines around them, and goes to one when picked', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842&tail=100`);
    await page.click('#failuresBtn');
    await page.waitForFunction(() => /4 failures with ±3 lines/.test(document.getElementById('failuresTitle')?.textContent ?? ''));
    const failures = await page.$$eval('#failuresList .failure', (rows) => rows.map((r) => Number((r as HTMLElement).dataset['seq'])));
    expect(failures).toEqual(ALL_ERRORS);
    // 1250 and 1251 share a window: 1247…1254.
    const windows = await page.$$eval('#failuresList .failure-window', (blocks) => blocks.map((b) => b.querySelectorAll('.result').length));
    expect(windows).toEqual([8, 7, 4]);
    await page.click('#failuresList .failure[data-seq="2450"]');
    await waitForTarget(page, 2450);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows errors and sections as they arrive', async () => {
    const { page, errors } = await browser.newPage();
    await postEntries(server.apiUrl, 'live-7', [{ source: 'stdout', level: 'INFO', message: 'warming up' }]);
    await openLogPage(page, `${server.baseUrl}/?taskId=live-7`);
    await page.waitForFunction(() => document.getElementById('errorPosition')?.textContent === 'no errors');
    await postEntries(server.apiUrl, 'live-7', [
      { source: 'stdout', level: 'INFO', message: '::group::Lint', timestamp: new Date(T0).toISOString() },
      { source: 'stdout', level: 'ERROR', message: 'src/a.ts:1:1 no-unused-vars', timestamp: new Date(T0 + 100).toISOString() },
      { source: 'stdout', level: 'INFO', message: '::endgroup::', timestamp: new Date(T0 + 2500).toISOString() },
    ]);
    await page.waitForFunction(() => document.getElementById('errorPosition')?.textContent === '1 error', undefined, { timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('#logContainer .group-header[data-seq="2"] .dur')?.textContent === '2.5 s', undefined, { timeout: 15_000 });
    await postEntries(server.apiUrl, 'live-7', [{ source: 'stderr', level: 'ERROR', message: 'lint failed' }]);
    await page.waitForFunction(() => document.getElementById('errorPosition')?.textContent === '2 errors', undefined, { timeout: 15_000 });
    await page.focus('#logContainer');
    await page.keyboard.press('N');
    await waitForTarget(page, 5);
    expect(await page.getAttribute('#errorMinimap', 'data-marks')).toBe('2');
    expect(errors).toEqual([]);
    await page.close();
  });
});
