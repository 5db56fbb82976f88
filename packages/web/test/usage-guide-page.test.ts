// The usage guide's own page, verbatim: its LogStreamingClient class and its HTML page are taken
// from the guide at test time (shared/spec/usage-guide.ja.md, beside the repository), with only
// `keruta-api:8080` replaced by the test server's address, served from another origin (listed in
// the server's allowed origins), and opened in Chromium while an agent-less writer posts lines. Then the same checks on our page.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, waitForRows } from './page-helpers.js';
import { postEntries } from './writer.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const guidePath = resolve(repoRoot, '../shared/spec/usage-guide.ja.md');

/** The guide's fenced code blocks of one language. */
function codeBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = [];
  const fence = new RegExp('^```' + language + '\\s*\\n([\\s\\S]*?)^```', 'gm');
  for (let m = fence.exec(markdown); m !== null; m = fence.exec(markdown)) blocks.push(m[1] ?? '');
  return blocks;
}

/** The guide's page with its client class in a script before the page's own, pointed at `host`. */
async function guidePage(host: string): Promise<string> {
  const markdown = await readFile(guidePath, 'utf8');
  const clientClass = codeBlocks(markdown, 'javascript').find((block) => block.includes('class LogStreamingClient'));
  const page = codeBlocks(markdown, 'html').find((block) => block.includes('<!DOCTYPE html>') && block.includes('logContainer'));
  if (clientClass === undefined || page === undefined) throw new Error(`the usage guide (${guidePath}) has no LogStreamingClient class or HTML page`);
  const point = (code: string) => code.replaceAll('keruta-api:8080', host);
  return point(page).replace('<body>', `<body>\n<script>\n${point(clientClass)}\n</script>`);
}

const EXPECTED_LINES = [
  { source: 'stdout', level: 'DEBUG', message: 'guide debug line' },
  { source: 'stdout', level: 'INFO', message: 'guide info line' },
  { source: 'stderr', level: 'WARN', message: 'guide warning' },
  { source: 'stderr', level: 'ERROR', message: 'guide error' },
  { source: 'agent', level: 'INFO', message: 'guide agent line' },
] as const;

/** The guide's colours, as getComputedStyle reports them. */
const GUIDE_COLOURS = { DEBUG: 'rgb(33, 150, 243)', INFO: 'rgb(76, 175, 80)', WARN: 'rgb(255, 152, 0)', ERROR: 'rgb(244, 67, 54)' };
const ERROR_BACKGROUND = 'rgba(244, 67, 54, 0.1)';

async function readEntries(page: Page) {
  return page.$$eval('#logContainer .log-entry', (nodes) =>
    nodes.map((node) => ({ className: node.className, text: node.textContent, color: getComputedStyle(node).color, background: getComputedStyle(node).backgroundColor })),
  );
}

async function counters(page: Page) {
  return page.evaluate(() => ['totalLogs', 'infoCount', 'warnCount', 'errorCount'].map((id) => document.getElementById(id)?.textContent));
}

describe("the usage guide's page, verbatim, and ours", () => {
  let server: TestServer;
  let browser: TestBrowser;
  let guideServer: Server;
  let guideUrl: string;

  beforeAll(async () => {
    let html = '';
    guideServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(html);
    });
    await new Promise<void>((done) => guideServer.listen(0, '127.0.0.1', done));
    const address = guideServer.address();
    const guideOrigin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    guideUrl = `${guideOrigin}/`;
    // Served from this machine, as a user's dev server would: keruta-api's defaults let it in.
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
    html = await guidePage(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await browser?.close();
    guideServer?.closeAllConnections();
    await new Promise((done) => guideServer?.close(done));
    await server?.close();
  });

  it('the guide page shows the lines with its level colours and counters', async () => {
    const { page, errors } = await browser.newPage();
    const subscribed = page.waitForEvent('console', { predicate: (message) => message.text().includes('ログストリーミング購読開始'), timeout: 15_000 });
    await page.goto(`${guideUrl}?taskId=guide-task`);
    await subscribed;
    await postEntries(server.apiUrl, 'guide-task', [...EXPECTED_LINES]);
    await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry').length === 5);

    const entries = await readEntries(page);
    expect(entries.map((e) => e.text?.replace(/^\[[^\]]+\] /, ''))).toEqual(EXPECTED_LINES.map((l) => `[${l.source.toUpperCase()}] [${l.level}] ${l.message}`));
    expect(entries.map((e) => e.className)).toEqual(EXPECTED_LINES.map((l) => `log-entry level-${l.level}`));
    expect(entries.map((e) => e.color)).toEqual(EXPECTED_LINES.map((l) => GUIDE_COLOURS[l.level]));
    expect(entries[3]?.background).toBe(ERROR_BACKGROUND);
    expect(await counters(page)).toEqual(['5', '2', '1', '1']);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('our page shows the same lines with the same colours and counters', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=guide-task`);
    await waitForRows(page, 5);
    await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry').length === 5);

    const entries = await readEntries(page);
    expect(entries.map((e) => e.className.split(' ').slice(0, 2).join(' '))).toEqual(EXPECTED_LINES.map((l) => `log-entry level-${l.level}`));
    for (const [i, line] of EXPECTED_LINES.entries()) expect(entries[i]?.text).toContain(`${line.source.toUpperCase()}${line.level}${line.message}`);
    expect(entries.map((e) => e.color)).toEqual(EXPECTED_LINES.map((l) => GUIDE_COLOURS[l.level]));
    expect(entries[3]?.background).toBe(ERROR_BACKGROUND);
    expect(await counters(page)).toEqual(['5', '2', '1', '1']);
    expect(await page.textContent('#debugCount')).toBe('1');

    // Live lines too, as on the guide's page.
    await postEntries(server.apiUrl, 'guide-task', [{ source: 'stdout', level: 'ERROR', message: 'one more' }]);
    await waitForRows(page, 6);
    expect(await counters(page)).toEqual(['6', '2', '1', '2']);
    expect(errors).toEqual([]);
    await page.close();
  });
});
