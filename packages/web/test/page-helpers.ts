/// <reference lib="dom" />
// What the page's tests read from it: the rows of the virtualised list (scrolled through from top
// to bottom, since only the rows in view exist), the counters, and the list's state attributes.
import type { Page } from 'playwright-core';

export interface ShownRow {
  seq: number;
  text: string;
}

/** Opens the page and waits until its history is loaded. */
export async function openLogPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('#logContainer[data-history="loaded"]', { timeout: 15_000 });
}

/** Waits until the page holds at least `lines` lines (and has shown them, unless paused). */
export async function waitForLines(page: Page, lines: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (want) => Number(document.getElementById('logContainer')?.dataset['lines']) >= want,
    lines,
    { timeout, polling: 50 },
  );
}

/** Waits until the list has exactly `rows` rows. */
export async function waitForRows(page: Page, rows: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (want) => Number(document.getElementById('logContainer')?.dataset['rows']) === want,
    rows,
    { timeout, polling: 50 },
  );
}

/** Every row of the list, read by scrolling it from top to bottom. */
export async function readAllRows(page: Page): Promise<ShownRow[]> {
  // A tab behind another gets an animation frame about once a second: read from the front.
  await page.bringToFront();
  return page.evaluate(async () => {
    const box = document.getElementById('logContainer') as HTMLElement;
    const frames = () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())));
    box.scrollTop = 0;
    await frames();
    const seen = new Map<number, string>();
    for (let guard = 0; guard < 100_000; guard++) {
      for (const row of box.querySelectorAll<HTMLElement>('.log-entry')) {
        seen.set(Number(row.dataset['seq']), row.querySelector('.msg')?.textContent ?? '');
      }
      if (box.scrollTop + box.clientHeight >= box.scrollHeight - 1) break;
      box.scrollTop += Math.max(20, box.clientHeight - 40);
      await frames();
    }
    return [...seen].map(([seq, text]) => ({ seq, text }));
  });
}

/** The rows in the DOM now (those in view). */
export async function rowsInView(page: Page): Promise<ShownRow[]> {
  return page.$$eval('#logContainer .log-entry', (rows) =>
    rows.map((row) => ({ seq: Number((row as HTMLElement).dataset['seq']), text: row.querySelector('.msg')?.textContent ?? '' })),
  );
}

export interface CounterValues {
  total: number;
  DEBUG: number;
  INFO: number;
  WARN: number;
  ERROR: number;
}

export async function readCounters(page: Page): Promise<CounterValues> {
  return page.evaluate(() => {
    const read = (id: string) => Number((document.getElementById(id)?.textContent ?? '').replace(/,/g, ''));
    return { total: read('totalLogs'), DEBUG: read('debugCount'), INFO: read('infoCount'), WARN: read('warnCount'), ERROR: read('errorCount') };
  });
}

/** Waits until the connection badge says `text` (e.g. "live"). */
export async function waitForConnection(page: Page, text: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction((want) => document.getElementById('connection')?.textContent === want, text, { timeout, polling: 50 });
}
