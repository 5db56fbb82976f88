// The admin page in real Chromium against a real keruta-api, showing terminal output as a terminal
// would: vitest's and jest's badges readable in both themes, OSC 8 hyperlinks as safe links,
// concealed text hidden, titles and cursor sequences left out, controls as muted glyphs, and a
// cut line marked where it starts. With KERUTA_SCREENSHOTS=1 the last test also saves
// docs/screenshots/page-terminal.png (dark) and page-terminal-light.png.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogRequest } from '@keruta/protocol';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, waitForRows } from './page-helpers.js';
import { postEntries } from './writer.js';

const ESC = '\u001b';
const ST = `${ESC}\\`;
const BEL = '\u0007';
const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots/page-terminal.png');

// As vitest prints them: c.bgRed(c.bold(' FAIL ')), and the same on green; jest: chalk.reset.inverse.bold.red(' FAIL ').
const VITEST_FAIL = `${ESC}[41m${ESC}[1m FAIL ${ESC}[22m${ESC}[49m`;
const VITEST_PASS = `${ESC}[42m${ESC}[1m PASS ${ESC}[22m${ESC}[49m`;
const JEST_FAIL = `${ESC}[0m${ESC}[7m${ESC}[1m${ESC}[31m FAIL ${ESC}[39m${ESC}[22m${ESC}[27m${ESC}[0m`;
const dim = (text: string) => `${ESC}[2m${text}${ESC}[22m`;
const link = (url: string, text: string, end = ST) => `${ESC}]8;;${url}${end}${text}${ESC}]8;;${end}`;
const LS_COLOR = `${ESC}[0m${ESC}[01;34mdocs${ESC}[0m  ${ESC}[01;32mbuild.sh${ESC}[0m  README.md  ${ESC}[01;36mlatest${ESC}[0m  ${ESC}[01;31mdist.tar.gz${ESC}[0m  ${ESC}[01;35mlogo.png${ESC}[0m  ${ESC}[30;42mshared${ESC}[0m  ${ESC}[40;33;01mtty0${ESC}[0m`;

interface RunLook {
  text: string;
  color: string;
  background: string;
}

/** Colour and background of every styled run in view, as the browser computed them. */
async function runLooks(page: Page): Promise<RunLook[]> {
  return page.$$eval('#logContainer .msg span, #logContainer .msg', (nodes) =>
    nodes.map((node) => {
      const css = getComputedStyle(node);
      return { text: node.textContent ?? '', color: css.color, background: css.backgroundColor };
    }),
  );
}

/** WCAG contrast of two computed colours: `rgb(…)`, or `color(srgb …)` for a color-mix(). */
function contrast(a: string, b: string): number {
  const luminance = (css: string): number => {
    const scale = css.startsWith('color(srgb') ? 1 : 255;
    const [r, g, b2] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
      const c = Number(v) / scale;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b2 ?? 0);
  };
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

describe('admin page: terminal output', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows vitest's FAIL and PASS badges and jest's inverse ones in the theme's text colour, readable (4.5:1) in both themes, never in the level's colour", async () => {
    const taskId = 'badges';
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: `${VITEST_FAIL} src/store.test.ts > keeps lines` },
      { source: 'stdout', level: 'INFO', message: `${VITEST_PASS} src/range.test.ts` },
      { source: 'stderr', level: 'ERROR', message: `${JEST_FAIL} test/jest.test.js` },
      { source: 'stdout', level: 'INFO', message: LS_COLOR },
    ]);
    const { page, errors } = await browser.newPage();
    const themes = [
      { theme: 'dark', text: 'rgb(255, 255, 255)', logBg: 'rgb(30, 30, 30)', red: 'rgb(198, 40, 40)', green: 'rgb(46, 125, 50)', level: 'rgb(76, 175, 80)' },
      { theme: 'light', text: 'rgb(31, 35, 40)', logBg: 'rgb(250, 250, 250)', red: 'rgb(255, 129, 130)', green: 'rgb(111, 221, 139)', level: 'rgb(46, 125, 50)' },
    ];
    for (const want of themes) {
      await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&theme=${want.theme}`);
      await waitForRows(page, 4);
      await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry').length === 4);
      const looks = await runLooks(page);
      const [fail, pass, jest] = looks.filter((l) => l.text === ' FAIL ' || l.text === ' PASS ');
      expect({ theme: want.theme, fail, pass }).toEqual({
        theme: want.theme,
        fail: { text: ' FAIL ', color: want.text, background: want.red },
        pass: { text: ' PASS ', color: want.text, background: want.green },
      });
      // ls's black on green (other-writable directories) and yellow on black (devices) read too.
      const ls = ['shared', 'tty0'].map((text) => looks.find((l) => l.text === text));
      for (const badge of [fail, pass, jest, ...ls]) {
        expect(contrast(badge?.color ?? '', badge?.background ?? ''), `${want.theme}: ${badge?.text}`).toBeGreaterThanOrEqual(4.5);
      }
      for (const badge of [fail, pass, jest]) expect(badge?.color).not.toBe(want.level);
      // Jest's inverse: the text takes the log's background, the background the red.
      expect(jest?.color).toBe(want.logBg);
      // The rest of a styled line is on the terminal's default foreground too.
      expect(looks.find((l) => l.text === `${' FAIL '} src/store.test.ts > keeps lines`)?.color).toBe(want.text);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('makes OSC 8 hyperlinks to http(s) addresses real links that open in a new tab without opener or referrer, and leaves any other scheme as text', async () => {
    const taskId = 'links';
    const target = `${server.baseUrl}/api/v1/tasks`;
    const payload = '<img src=x onerror="window.__pwned=1">';
    const messages = [
      `docs: ${link(target, 'the task list')} and ${link('https://example.test/a?b=1&c=<2>', `${ESC}[1mbold${ESC}[0m part`, BEL)}.`,
      `${link('javascript:window.__pwned=2', 'js link')} ${link('data:text/html,<script>window.__pwned=3</script>', 'data link')} ${link('file:///etc/passwd', 'file link')}`,
      `${link(`https://example.test/${payload}`, payload)}`,
    ];
    await postEntries(server.apiUrl, taskId, messages.map((message) => ({ source: 'stdout', level: 'INFO', message })));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 3);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual([
      'docs: the task list and bold part.',
      'js link data link file link',
      payload,
    ]);
    const links = await page.$$eval('#logContainer .msg a', (anchors) =>
      anchors.map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target'), text: a.textContent })),
    );
    expect(links).toEqual([
      { href: target, rel: 'noopener noreferrer', target: '_blank', text: 'the task list' },
      // One link for the runs inside it, whatever their style.
      { href: 'https://example.test/a?b=1&c=%3C2%3E', rel: 'noopener noreferrer', target: '_blank', text: 'bold part' },
      { href: 'https://example.test/%3Cimg%20src=x%20onerror=%22window.__pwned=1%22%3E', rel: 'noopener noreferrer', target: '_blank', text: payload },
    ]);
    expect(await page.$$('#logContainer img, #logContainer script')).toHaveLength(0);

    // Followed, the link opens a tab that cannot reach back to the page and is not told where it came from.
    const [tab] = await Promise.all([browser.context.waitForEvent('page'), page.click('#logContainer .msg a >> nth=0')]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe(target);
    expect(await tab.evaluate(() => ({ opener: window.opener, referrer: document.referrer }))).toEqual({ opener: null, referrer: '' });
    await tab.close();
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('hides concealed text, leaves out titles, escape strings and cursor and erase sequences, applies backspace, and shows BEL, DEL and C1 controls as muted ^G glyphs', async () => {
    const taskId = 'controls';
    const messages = [
      `login: admin password: ${ESC}[8mhunter2${ESC}[28m ok`,
      `${ESC}]0;window title${BEL}${ESC}]2;other title${ST}${ESC}Pq#0;2;0;0;0${ST}${ESC}_Gf=24${ST}${ESC}[2J${ESC}[H${ESC}[1A${ESC}[2K${ESC}[1Gclean${ESC}[K line${ESC}[?25h`,
      'typo\b\b\bpo fixed, _\bu_\bn_\bd_\be_\br_\bl_\bi_\bn_\be_\bd',
      `ding${BEL} rubout\u007f csi\u009b end`,
    ];
    await postEntries(server.apiUrl, taskId, messages.map((message) => ({ source: 'stdout', level: 'INFO', message })));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 4);
    const title = await page.title();
    expect((await readAllRows(page)).map((r) => r.text)).toEqual([
      'login: admin password:         ok',
      'clean line',
      'tpo fixed, underlined',
      'ding^G rubout^? csiM-^[ end',
    ]);
    expect(await page.content()).not.toContain('hunter2');
    expect(await page.title()).toBe(title);
    expect(await page.title()).not.toContain('window title');
    const glyphs = await page.$$eval('#logContainer .msg .ctrl', (spans) =>
      spans.map((s) => ({ text: s.textContent, title: s.getAttribute('title'), color: getComputedStyle(s).color, rowColor: getComputedStyle(s.closest('.log-entry') as Element).color })),
    );
    expect(glyphs.map((g) => [g.text, g.title])).toEqual([
      ['^G', 'control character BEL, U+0007'],
      ['^?', 'control character DEL, U+007F'],
      ['M-^[', 'control character CSI, U+009B'],
    ]);
    // Muted: the theme's muted colour, not the line's.
    for (const glyph of glyphs) expect(glyph.color).toBe('rgb(145, 152, 161)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('marks a cut line at its start with `cut: 1,048,576 chars`, seen without scrolling sideways, and `cut` when the length is not known', async () => {
    const taskId = 'cut-lines';
    const entries: LogRequest[] = [
      { source: 'stdout', level: 'INFO', message: `${'a'.repeat(8191)}Z`, metadata: { truncated: true, originalLength: 1_048_576 } },
      // Longer than keruta-api keeps: it cuts the line itself.
      { source: 'stdout', level: 'INFO', message: 'b'.repeat(9000) },
      { source: 'stdout', level: 'INFO', message: 'a whole line' },
    ];
    await postEntries(server.apiUrl, taskId, entries);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 3);
    await page.waitForFunction(() => document.querySelectorAll('#logContainer .log-entry').length === 3);
    const marks = await page.$$eval('#logContainer .log-entry', (rows) => {
      const box = (document.getElementById('logContainer') as HTMLElement).getBoundingClientRect();
      return rows.map((row) => {
        const mark = row.querySelector<HTMLElement>('.cut');
        if (mark === null) return null;
        const at = mark.getBoundingClientRect();
        return { text: mark.textContent, title: mark.title, inView: at.left >= box.left && at.right <= box.right, beforeText: (mark.compareDocumentPosition(row.querySelector('.msg') as Node) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0 };
      });
    });
    expect(marks[0]).toEqual({ text: 'cut: 1,048,576 chars', title: 'This line had 1,048,576 characters; only the first 8,192 were kept, the rest was cut off.', inView: true, beforeText: true });
    // Whether keruta-api also says how long the line was (metadata.originalLength) or not.
    expect(marks[1]?.text).toMatch(/^cut(: 9,000 chars)?$/);
    expect(marks[1]).toMatchObject({ inView: true, beforeText: true });
    expect(marks[1]?.title).toContain('first 8,192');
    expect(marks[2]).toBeNull();
    expect(await page.$eval('#logContainer', (box) => box.scrollLeft)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows vitest badges, a hyperlink, ls --color and a cut line together, in view', async () => {
    const taskId = 'vitest-run-512';
    const now = Date.now() - 60_000;
    const lines: [LogRequest['source'], LogRequest['level'], string, Record<string, unknown>?][] = [
      ['agent', 'INFO', 'started npx vitest run (pid 48211)', { event: 'started', processId: 48211 }],
      ['stdout', 'INFO', `$ ls --color=always`],
      ['stdout', 'INFO', LS_COLOR],
      ['stdout', 'INFO', `${ESC}[1m${ESC}[30m${ESC}[46m RUN ${ESC}[49m${ESC}[39m${ESC}[22m ${ESC}[36mv4.1.12 ${ESC}[39m${ESC}[90m/srv/ci/keruta${ESC}[39m`],
      ['stdout', 'INFO', ` ${ESC}[32m✓${ESC}[39m packages/web/test/line-store.test.ts ${dim('(8 tests)')}${ESC}[32m 978${dim('ms')}${ESC}[39m`],
      ['stdout', 'INFO', ` ${ESC}[31m✗${ESC}[39m packages/web/test/page-live.test.ts ${dim('(7 tests | 1 failed)')}`],
      ['stdout', 'ERROR', `${VITEST_FAIL} packages/web/test/page-live.test.ts ${ESC}[2m>${ESC}[22m admin page ${ESC}[2m>${ESC}[22m keeps every line while paused`],
      ['stdout', 'ERROR', `${ESC}[31mAssertionError${ESC}[39m: expected ${ESC}[32m100${ESC}[39m to be ${ESC}[31m99${ESC}[39m`],
      ['stdout', 'INFO', `${VITEST_PASS} packages/web/test/terminal-text.test.ts ${dim('(12 tests)')}`],
      ['stderr', 'ERROR', `${JEST_FAIL} test/legacy.test.js (jest)`],
      ['stdout', 'INFO', `Docs: ${link('https://vitest.dev/guide/cli', `${ESC}[4mhttps://vitest.dev/guide/cli${ESC}[24m`)} — ${link('https://github.com/keruta/keruta/issues/12', 'issue 12')}`],
      ['stdout', 'INFO', `password: ${ESC}[8mhunter2${ESC}[28m (concealed)   bell${BEL} and backspace: ab\bc`],
      ['stdout', 'WARN', `{"event":"bulk","rows":[${'1,'.repeat(4084)}`, { truncated: true, originalLength: 1_048_576 }],
      ['stdout', 'INFO', ` ${ESC}[2mTest Files ${ESC}[22m ${ESC}[1m${ESC}[31m1 failed${ESC}[39m${ESC}[22m${ESC}[2m | ${ESC}[22m${ESC}[1m${ESC}[32m11 passed${ESC}[39m${ESC}[22m${ESC}[90m (12)${ESC}[39m`],
      ['agent', 'WARN', 'exited with code 1 after 41.2 s', { event: 'exited', exitCode: 1 }],
    ];
    await postEntries(server.apiUrl, taskId, lines.map(([source, level, message, metadata], i) => ({ source, level, message, timestamp: new Date(now + i * 1700).toISOString(), ...(metadata === undefined ? {} : { metadata }) })));
    const { page, errors } = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 560 });
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, lines.length);
    await page.waitForFunction((want) => document.querySelectorAll('#logContainer .log-entry').length === want, lines.length);
    // Everything the screenshot is for is in view at once.
    for (const selector of ['.msg span:text-is(" FAIL ")', '.msg span:text-is(" PASS ")', '.msg a.term-link', '.msg span:text-is("docs")', '.cut']) {
      expect(await page.isVisible(`#logContainer ${selector} >> nth=0`), selector).toBe(true);
    }
    if (process.env['KERUTA_SCREENSHOTS'] === '1') {
      await mkdir(dirname(SCREENSHOT), { recursive: true });
      await page.hover('#logContainer .msg a.term-link >> nth=0');
      await page.waitForTimeout(200);
      await page.screenshot({ path: SCREENSHOT });
      await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&theme=light`);
      await waitForRows(page, lines.length);
      await page.waitForTimeout(300);
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-light.png') });
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
