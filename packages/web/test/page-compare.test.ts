// "Compare" on the page: a failed run against the last succeeded run of its job, as a unified
// diff per section; picking a line of this run goes to it in the log. Real Chromium, real server.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRequest } from '@keruta/protocol';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage } from './page-helpers.js';
import { postEntries } from './writer.js';

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots/page-compare.png');

function run(n: number, tests: string[], exitCode: number): LogRequest[] {
  const t0 = Date.parse(`2026-01-0${n}T09:00:00.000Z`);
  const lines: [LogRequest['source'], LogRequest['level'], string, Record<string, unknown>?][] = [
    ['agent', 'INFO', 'started', { event: 'started' }],
    ['stdout', 'INFO', `runner ci-${n}a7f3e9 at 2026-01-0${n}T09:00:00Z`],
    ['stdout', 'INFO', '::group::Install'],
    ['stdout', 'INFO', `added ${410 + n} packages in ${3 + n}.2s`],
    ['stdout', 'INFO', '::endgroup::'],
    ['stdout', 'INFO', '::group::Build'],
    ['stdout', 'INFO', `tsc -b: ${12 + n} projects in ${900 + n} ms`],
    ['stdout', 'INFO', '::endgroup::'],
    ['stdout', 'INFO', '::group::Test'],
    ...tests.map((text): [LogRequest['source'], LogRequest['level'], string] => ['stdout', /FAIL|Error/.test(text) ? 'ERROR' : 'INFO', text]),
    ['stdout', 'INFO', '::endgroup::'],
    ['agent', exitCode === 0 ? 'INFO' : 'ERROR', `exited with code ${exitCode}`, { event: 'exited', exitCode }],
  ];
  return lines.map(([source, level, message, metadata], i) => ({ source, level, message, timestamp: new Date(t0 + i * 700).toISOString(), ...(metadata === undefined ? {} : { metadata }) }));
}

describe('admin page: compare with the last good run', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
    await postEntries(server.apiUrl, 'build-1841', run(1, ['✓ parser.test.ts (41 tests) 210ms', '✓ lexer.test.ts (12 tests) 35ms', 'Tests  53 passed (53)'], 0));
    await postEntries(
      server.apiUrl,
      'build-1842',
      run(2, ['✓ parser.test.ts (41 tests) 198ms', 'FAIL lexer.test.ts > reads a quoted string', "AssertionError: expected 'a\\\"b' to be 'a\"b'", 'Tests  1 failed | 52 passed (53)'], 1),
    );
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows what differs from the last succeeded run, by section, and goes to a line when picked', async () => {
    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 720 });
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842`);
    await page.click('#compareBtn');
    await page.waitForFunction(() => /against build-1841/.test(document.getElementById('compareTitle')?.textContent ?? ''));
    expect(await page.textContent('#compareTitle')).toBe('build-1842 against build-1841: +3 −2 lines in 1 of 5 sections');
    const changes = await page.$$eval('#compareList .diff-line:not(.diff-same)', (rows) =>
      rows.map((r) => `${r.querySelector('.op')?.textContent}${r.querySelector('.msg')?.textContent}`),
    );
    expect(changes).toEqual([
      '−✓ lexer.test.ts (12 tests) 35ms',
      '−Tests  53 passed (53)',
      '+FAIL lexer.test.ts > reads a quoted string',
      "+AssertionError: expected 'a\\\"b' to be 'a\"b'",
      '+Tests  1 failed | 52 passed (53)',
    ]);
    // Install and Build differ only in numbers and durations: no changed lines.
    const heads = await page.$$eval('#compareList .diff-head .name', (nodes) => nodes.map((n) => n.textContent));
    expect(heads).toEqual(['(outside sections)', 'Install', 'Build', 'Test', '(outside sections)']);
    if (process.env['KERUTA_SCREENSHOTS'] === '1') {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.waitForTimeout(300);
      await page.screenshot({ path: SCREENSHOT });
    }
    await page.click('#compareList .diff-line.diff-added >> nth=0');
    await page.waitForSelector('#logContainer .log-entry.target[data-seq="11"]', { timeout: 15_000 });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('compares with the run typed in, and says why when it cannot', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=build-1842`);
    await page.click('#compareBtn');
    await page.waitForFunction(() => /against build-1841/.test(document.getElementById('compareTitle')?.textContent ?? ''));
    await page.fill('#compareWith', 'build-9999');
    await page.click('#compareForm button[type="submit"]');
    await page.waitForFunction(() => /Cannot compare: .*build-9999/.test(document.getElementById('compareTitle')?.textContent ?? ''));
    expect(errors).toEqual([]);
    await page.close();
  });
});
