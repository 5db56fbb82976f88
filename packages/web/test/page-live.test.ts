// The admin page in real Chromium against a real keruta-api: it is served under a strict CSP,
// shows live lines with the usage guide's colours and counters, keeps every line while paused,
// resets every counter on clear, filters by source and level, and never runs log text as HTML.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, readCounters, waitForConnection, waitForLines, waitForRows } from './page-helpers.js';
import { numberedLines, postEntries } from './writer.js';

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

describe('admin page: live view', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is served at / with a strict Content-Security-Policy, nosniff, and no inline script or style', async () => {
    const response = await fetch(`${server.baseUrl}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    const scripts = html.match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\bsrc="/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<\s]/);
    expect(html).not.toMatch(/<style\b|\sstyle="|\son[a-z]+="/i);

    const script = /<script\b[^>]*\bsrc="\.?\/?([^"]+)"/.exec(html)?.[1];
    const asset = await fetch(`${server.baseUrl}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');

    // Paths that are not the page's files keep the API's JSON 404.
    const unknown = await fetch(`${server.baseUrl}/no-such-file.js`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('INVALID_MESSAGE_FORMAT');
  });

  it('shows live lines as they are written, coloured by level, with source tag, timestamps and counters', async () => {
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=live-colours`);
    await waitForConnection(page, 'live');
    await postEntries(server.apiUrl, 'live-colours', [
      { source: 'stdout', level: 'DEBUG', message: 'a debug line' },
      { source: 'stdout', level: 'INFO', message: 'an info line' },
      { source: 'stderr', level: 'WARN', message: 'a warning' },
      { source: 'stderr', level: 'ERROR', message: 'an error' },
      { source: 'agent', level: 'INFO', message: 'agent says hi' },
    ]);
    await waitForRows(page, 5);
    await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry').length === 5);

    const rows = await page.$$eval('#logContainer .log-entry', (nodes) =>
      nodes.map((node) => ({
        className: node.className,
        text: node.querySelector('.msg')?.textContent,
        source: node.querySelector('.src')?.textContent,
        time: node.querySelector('.ts')?.textContent,
        color: getComputedStyle(node).color,
        background: getComputedStyle(node).backgroundColor,
      })),
    );
    expect(rows.map((r) => r.text)).toEqual(['a debug line', 'an info line', 'a warning', 'an error', 'agent says hi']);
    expect(rows.map((r) => r.source)).toEqual(['STDOUT', 'STDOUT', 'STDERR', 'STDERR', 'AGENT']);
    for (const row of rows) expect(row.time).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    // The usage guide's colours (dark theme).
    expect(rows.map((r) => r.color)).toEqual(['rgb(33, 150, 243)', 'rgb(76, 175, 80)', 'rgb(255, 152, 0)', 'rgb(244, 67, 54)', 'rgb(76, 175, 80)']);
    expect(rows[3]?.background).toBe('rgba(244, 67, 54, 0.1)');
    expect(rows[3]?.className).toContain('level-ERROR');
    expect(await readCounters(page)).toEqual({ total: 5, DEBUG: 1, INFO: 2, WARN: 1, ERROR: 1 });

    await page.click('#showTimestamp');
    await page.waitForFunction(() => document.querySelector('#logContainer .log-entry .ts') === null);
    await page.keyboard.press('t');
    await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry .ts').length === 5);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('keeps every line that arrives while paused and shows them, in order, on resume', async () => {
    const { page, errors } = await browser.newPage();
    const taskId = 'pause-keeps';
    await postEntries(server.apiUrl, taskId, numberedLines(1, 10));
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 10);

    await page.click('.pause-btn');
    expect(await page.isVisible('.resume-btn')).toBe(true);
    expect(await page.isVisible('.pause-btn')).toBe(false);
    await postEntries(server.apiUrl, taskId, numberedLines(11, 40));
    await postEntries(server.apiUrl, taskId, numberedLines(51, 50));
    await waitForLines(page, 100);
    await page.waitForFunction(() => document.getElementById('waitingCount')?.textContent === '90');
    // Nothing new is shown or counted while paused.
    expect(await page.getAttribute('#logContainer', 'data-rows')).toBe('10');
    expect((await readCounters(page)).total).toBe(10);

    await page.keyboard.press('p');
    await waitForRows(page, 100);
    expect(await page.isVisible('.pause-btn')).toBe(true);
    const shown = await readAllRows(page);
    expect(shown.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(shown.map((r) => r.text)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i + 1}`));
    expect((await readCounters(page)).total).toBe(100);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('clears the view and resets every counter, then shows only the lines that come after', async () => {
    const { page, errors } = await browser.newPage();
    const taskId = 'clear-all';
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'DEBUG', message: 'd' },
      { source: 'stdout', level: 'INFO', message: 'i' },
      { source: 'stderr', level: 'WARN', message: 'w' },
      { source: 'stderr', level: 'ERROR', message: 'e' },
    ]);
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 4);
    expect(await readCounters(page)).toEqual({ total: 4, DEBUG: 1, INFO: 1, WARN: 1, ERROR: 1 });

    await page.click('.clear-btn');
    await waitForRows(page, 0);
    expect(await readCounters(page)).toEqual({ total: 0, DEBUG: 0, INFO: 0, WARN: 0, ERROR: 0 });
    expect(await page.$$('#logContainer .log-entry')).toHaveLength(0);

    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: 'after clear 1' },
      { source: 'stderr', level: 'ERROR', message: 'after clear 2' },
    ]);
    await waitForRows(page, 2);
    expect(await readCounters(page)).toEqual({ total: 2, DEBUG: 0, INFO: 1, WARN: 0, ERROR: 1 });
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['after clear 1', 'after clear 2']);
    // Scrolled to the top, the cleared lines do not come back as "older" ones.
    await page.keyboard.press('g');
    await page.waitForTimeout(300);
    expect(await page.getAttribute('#logContainer', 'data-lines')).toBe('2');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('filters by source and level, from the checkboxes and from the address', async () => {
    const { page, errors } = await browser.newPage();
    const taskId = 'filters';
    const sources = ['stdout', 'stderr', 'agent'] as const;
    const levels = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
    const entries = sources.flatMap((source) => levels.map((level) => ({ source, level, message: `${source} ${level}` })));
    await postEntries(server.apiUrl, taskId, entries);
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 12);

    await page.uncheck('#sourceFilter input[value="stderr"]');
    await waitForRows(page, 8);
    await page.uncheck('#levelFilter input[value="DEBUG"]');
    await page.uncheck('#levelFilter input[value="INFO"]');
    await waitForRows(page, 4);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['stdout WARN', 'stdout ERROR', 'agent WARN', 'agent ERROR']);
    // Counters count what arrived, whatever the filters show.
    expect((await readCounters(page)).total).toBe(12);

    await page.goto(`${server.baseUrl}/?taskId=${taskId}&source=stderr&level=ERROR,WARN`);
    await waitForRows(page, 2);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['stderr WARN', 'stderr ERROR']);
    expect(await page.isChecked('#sourceFilter input[value="stdout"]')).toBe(false);
    expect(await page.isChecked('#levelFilter input[value="ERROR"]')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows <script> and <img onerror> in log text as text and never runs them', async () => {
    const { page, errors } = await browser.newPage();
    const taskId = 'xss';
    const payloads = [
      '<script>window.__pwned = "script"</script>',
      '<img src=x onerror="window.__pwned = \'img\'">',
      '"><svg onload="window.__pwned=\'svg\'"><b>bold?</b>',
      '::group::<img src=x onerror="window.__pwned=\'group\'">',
      '::endgroup::',
      '\u001b[31m<img src=x onerror="window.__pwned=\'ansi\'">\u001b[0m',
      'invoice_\u202eexe.pdf and \u2066isolated\u2069',
      '\u001b]8;;javascript:window.__pwned=\'osc8\'\u001b\\click me\u001b]8;;\u001b\\ \u001b]0;title\u0007done',
    ];
    await postEntries(server.apiUrl, taskId, payloads.map((message) => ({ source: 'stdout', level: 'ERROR', message })));
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await page.click('#unfoldAllBtn');
    await waitForRows(page, 7);
    await page.waitForTimeout(300);
    const texts = (await readAllRows(page)).map((r) => r.text);
    expect(texts.slice(0, 5)).toEqual([
      payloads[0],
      payloads[1],
      payloads[2],
      '<img src=x onerror="window.__pwned=\'group\'">',
      '<img src=x onerror="window.__pwned=\'ansi\'">',
    ]);
    // Right-to-left overrides and isolates are shown, not obeyed; terminal links and titles are text.
    expect(texts[5]).toBe('invoice_\ufffdexe.pdf and \ufffdisolated\ufffd');
    expect(texts[6]).toContain('click me');
    const hrefs = await page.$$eval('#logContainer a', (links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.filter((href) => !/^#L\d+$/.test(href))).toEqual([]);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(await page.$$('#logContainer img, #logContainer svg, #logContainer script, #logContainer b')).toHaveLength(0);
    expect(await page.isVisible('text=<script>window.__pwned = "script"</script>')).toBe(true);

    // The same payloads as search results from the server.
    await page.fill('#searchInput', 'pwned');
    await page.click('#serverSearchBtn');
    await page.waitForSelector('#serverResultsList li');
    expect(await page.$$('#serverResultsList img, #serverResultsList svg, #serverResultsList script')).toHaveLength(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('follows the system theme, and the theme button picks dark or light and remembers it', async () => {
    const { page, errors } = await browser.newPage();
    const taskId = 'themes';
    await postEntries(server.apiUrl, taskId, [{ source: 'stdout', level: 'INFO', message: 'an info line' }]);
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 1);
    const look = () =>
      page.$eval('.log-entry', (row) => ({ color: getComputedStyle(row).color, background: getComputedStyle(document.getElementById('logContainer') as HTMLElement).backgroundColor, theme: document.documentElement.dataset['theme'] }));
    // This browser prefers dark: the guide's colours on the guide's #1e1e1e.
    expect(await look()).toEqual({ color: 'rgb(76, 175, 80)', background: 'rgb(30, 30, 30)', theme: undefined });
    await page.click('#themeBtn');
    expect((await look()).theme).toBe('dark');
    await page.click('#themeBtn');
    expect(await look()).toEqual({ color: 'rgb(46, 125, 50)', background: 'rgb(250, 250, 250)', theme: 'light' });
    await page.reload();
    await waitForRows(page, 1);
    expect((await look()).theme).toBe('light');
    await page.goto(`${server.baseUrl}/?taskId=${taskId}&theme=dark`);
    await waitForRows(page, 1);
    expect((await look()).color).toBe('rgb(76, 175, 80)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('takes ?token= out of the address bar, keeps it for the tab, and sends it with the WebSocket', async () => {
    const { page } = await browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await openLogPage(page, `${server.baseUrl}/?taskId=token-task&token=secret-token-1`);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    expect(new URL(page.url()).searchParams.get('taskId')).toBe('token-task');
    expect(await page.evaluate(() => sessionStorage.getItem('keruta.token'))).toBe('secret-token-1');
    expect(sockets.some((url) => new URL(url).searchParams.get('token') === 'secret-token-1')).toBe(true);
    await page.close();
  });
});
