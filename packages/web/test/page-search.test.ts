// Finding things in a log: the search over the loaded lines (highlighted matches, next and
// previous, keyboard), the server-side search over the whole log, ANSI colours, folding
// `::group::` sections, and the keyboard shortcuts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '@keruta/testing';
import { launchBrowser, type TestBrowser } from './browser.js';
import { openLogPage, readAllRows, waitForRows } from './page-helpers.js';
import { numberedLines, postEntries } from './writer.js';

describe('admin page: search, ANSI, sections and shortcuts', () => {
  let server: TestServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser({ colorScheme: 'dark' })]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('highlights every match of the loaded lines and moves between them with Enter, n and N', async () => {
    const taskId = 'search';
    const lines = numberedLines(1, 600, (n) => (n % 100 === 0 ? `step ${n}: Needle found, needle again` : `step ${n}: hay`));
    await postEntries(server.apiUrl, taskId, lines);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 600);

    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('searchInput');
    await page.keyboard.type('needle');
    // Typing goes to the first match after the top of the view: auto-scroll had the view at the end.
    await page.waitForFunction(() => /\/ 6$/.test(document.getElementById('searchCount')?.textContent ?? ''));
    const current = async () => ({
      seq: await page.getAttribute('.log-entry.current-match', 'data-seq'),
      count: await page.textContent('#searchCount'),
    });
    const first = await current();
    const marks = await page.$$eval('.log-entry.current-match mark.match', (nodes) => nodes.map((n) => n.textContent));
    expect(marks).toEqual(['Needle', 'needle']);

    await page.keyboard.press('Enter');
    const second = await current();
    expect(Number(second.seq)).toBe(Number(first.seq) === 600 ? 100 : Number(first.seq) + 100);
    await page.keyboard.press('Shift+Enter');
    expect(await current()).toEqual(first);

    // Out of the box, n and N do the same.
    await page.keyboard.press('Escape');
    await page.click('#showTimestamp');
    await page.keyboard.press('g');
    await page.keyboard.press('n');
    expect(await current()).toEqual({ seq: '100', count: '1 / 6' });
    await page.keyboard.press('n');
    expect(await current()).toEqual({ seq: '200', count: '2 / 6' });
    await page.keyboard.press('N');
    await page.keyboard.press('N');
    expect(await current()).toEqual({ seq: '600', count: '6 / 6' });
    await page.click('#searchPrev');
    expect(await current()).toEqual({ seq: '500', count: '5 / 6' });
    expect(await page.isVisible('.log-entry.current-match')).toBe(true);
    // Rows without a match have no mark.
    expect(await page.$$eval('.log-entry[data-seq="499"] mark', (nodes) => nodes.length)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('searches the whole stored log on the server, beyond the lines the page holds, and goes to a result', async () => {
    const taskId = 'server-search';
    await postEntries(server.apiUrl, taskId, numberedLines(1, 5000, (n) => (n === 42 || n === 4321 ? `rare token ${n}` : `common ${n}`)));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&tail=500`);
    await waitForRows(page, 500);
    await page.fill('#searchInput', 'rare token');
    await page.waitForFunction(() => document.getElementById('searchCount')?.textContent === 'no match');

    await page.click('#serverSearchBtn');
    await page.waitForSelector('#serverResultsList li');
    expect(await page.textContent('#serverResultsTitle')).toBe('2 lines in the whole log match “rare token”');
    const results = await page.$$eval('#serverResultsList .result', (nodes) =>
      nodes.map((n) => ({ seq: (n as HTMLElement).dataset['seq'], text: n.querySelector('.msg')?.textContent, marked: n.querySelector('mark')?.textContent })),
    );
    expect(results).toEqual([
      { seq: '42', text: 'rare token 42', marked: 'rare token' },
      { seq: '4321', text: 'rare token 4321', marked: 'rare token' },
    ]);
    await page.click('#serverResultsList .result[data-seq="42"]');
    await page.waitForSelector('.log-entry.target[data-seq="42"]', { timeout: 15_000 });
    expect(await page.textContent('.log-entry.target .msg')).toBe('rare token 42');
    expect(new URL(page.url()).hash).toBe('#L42');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lists server search results a hundred at a time, reading on with the cursor the server answers', async () => {
    const taskId = 'server-search-more';
    await postEntries(server.apiUrl, taskId, numberedLines(1, 1000, (n) => (n % 4 === 0 ? `needle ${n}` : `hay ${n}`)));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}&tail=10`);
    await waitForRows(page, 10);
    await page.fill('#searchInput', 'needle');
    await page.click('#serverSearchBtn');
    await page.waitForFunction(() => document.querySelectorAll('#serverResultsList li').length === 100);
    expect(await page.textContent('#serverResultsTitle')).toBe('250 lines in the whole log match “needle” (showing 100)');
    await page.click('#serverResultsMore');
    await page.waitForFunction(() => document.querySelectorAll('#serverResultsList li').length === 200);
    await page.click('#serverResultsMore');
    await page.waitForFunction(() => document.querySelectorAll('#serverResultsList li').length === 250);
    const seqs = await page.$$eval('#serverResultsList .result', (nodes) => nodes.map((n) => Number((n as HTMLElement).dataset['seq'])));
    expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => (i + 1) * 4));
    expect(await page.isHidden('#serverResultsMore')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows ANSI colours and styles as coloured text, without the escape codes', async () => {
    const taskId = 'ansi';
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: 'plain \u001b[31mred\u001b[0m \u001b[1;32mbold green\u001b[0m \u001b[4munder\u001b[0m' },
      { source: 'stdout', level: 'INFO', message: '\u001b[38;5;208mpalette orange\u001b[0m \u001b[38;2;10;20;30mtrue colour\u001b[0m \u001b[44mblue back\u001b[0m' },
      { source: 'stdout', level: 'INFO', message: '\u001b[2K\u001b[1Gprogress 100%' },
    ]);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 3);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual([
      'plain red bold green under',
      'palette orange true colour blue back',
      'progress 100%',
    ]);
    const styles = await page.$$eval('.log-entry .msg span', (spans) =>
      spans.map((s) => {
        const css = getComputedStyle(s);
        return { text: s.textContent, color: css.color, weight: css.fontWeight, decoration: css.textDecorationLine, background: css.backgroundColor };
      }),
    );
    const style = (text: string) => styles.find((s) => s.text === text);
    expect(style('red')?.color).toBe('rgb(255, 107, 107)');
    expect(style('bold green')).toMatchObject({ color: 'rgb(95, 211, 95)', weight: '700' });
    expect(style('under')?.decoration).toBe('underline');
    expect(style('palette orange')?.color).toBe('rgb(255, 135, 0)');
    expect(style('true colour')?.color).toBe('rgb(10, 20, 30)');
    // Backgrounds take the theme's background shades, on which its text reads.
    expect(style('blue back')?.background).toBe('rgb(31, 95, 191)');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('folds ::group:: sections once they end, and opens and closes them by click and by [ and ]', async () => {
    const taskId = 'sections';
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: 'before' },
      { source: 'stdout', level: 'INFO', message: '::group::Install dependencies' },
      { source: 'stdout', level: 'INFO', message: 'added 1 package' },
      { source: 'stdout', level: 'INFO', message: 'added 2 packages' },
      { source: 'stdout', level: 'INFO', message: '::endgroup::' },
      { source: 'stdout', level: 'INFO', message: '::group::Run tests' },
      { source: 'stdout', level: 'INFO', message: 'test 1 ok' },
    ]);
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    // The finished section is folded; the running one stays open.
    await waitForRows(page, 4);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['before', 'Install dependencies', 'Run tests', 'test 1 ok']);
    expect(await page.getAttribute('.group-header[data-seq="2"]', 'aria-expanded')).toBe('false');
    expect(await page.getAttribute('.group-header[data-seq="6"]', 'aria-expanded')).toBe('true');

    // When it ends, it folds.
    await postEntries(server.apiUrl, taskId, [
      { source: 'stdout', level: 'INFO', message: 'test 2 ok' },
      { source: 'stdout', level: 'INFO', message: '::endgroup::' },
      { source: 'stdout', level: 'INFO', message: 'after' },
    ]);
    await waitForRows(page, 4);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['before', 'Install dependencies', 'Run tests', 'after']);

    await page.click('.group-header[data-seq="2"] .msg');
    await waitForRows(page, 6);
    expect((await readAllRows(page)).map((r) => r.text)).toEqual(['before', 'Install dependencies', 'added 1 package', 'added 2 packages', 'Run tests', 'after']);
    expect(await page.getAttribute('.group-header[data-seq="2"]', 'aria-expanded')).toBe('true');
    await page.click('.group-header[data-seq="2"] .msg');
    await waitForRows(page, 4);

    await page.keyboard.press(']');
    await waitForRows(page, 8);
    await page.keyboard.press('[');
    await waitForRows(page, 4);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('answers the keyboard: ? shows the help, p pauses, g and G go to the top and the bottom', async () => {
    const taskId = 'keys';
    await postEntries(server.apiUrl, taskId, numberedLines(1, 300));
    const { page, errors } = await browser.newPage();
    await openLogPage(page, `${server.baseUrl}/?taskId=${taskId}`);
    await waitForRows(page, 300);
    const firstInView = () => page.$eval('.log-entry', (row) => (row as HTMLElement).dataset['seq']);

    await page.keyboard.press('?');
    expect(await page.isVisible('#helpDialog')).toBe(true);
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#helpDialog')).toBe(false);

    expect(Number(await firstInView())).toBeGreaterThan(200);
    await page.keyboard.press('g');
    await page.waitForFunction(() => (document.querySelector('.log-entry') as HTMLElement | null)?.dataset['seq'] === '1');
    expect(await page.isChecked('#autoScroll')).toBe(false);
    await page.keyboard.press('G');
    await page.waitForFunction(() => [...document.querySelectorAll('.log-entry')].some((row) => (row as HTMLElement).dataset['seq'] === '300'));
    expect(await page.isChecked('#autoScroll')).toBe(true);

    await page.keyboard.press('p');
    expect(await page.isVisible('.resume-btn')).toBe(true);
    await page.keyboard.press('p');
    expect(await page.isVisible('.pause-btn')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
