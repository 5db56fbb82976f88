// page: the admin page in Chromium with a task of 1,000,000 stored lines (quick: 100,000): time
// to the first lines painted, the whole log held and scrolled from top to bottom (frame times
// with vsync off, so that a frame's time is its own), the JS heap; then a live burst of 50,000
// lines/s for 10 s (quick: 2 s): how far behind the page ends, and its frame times at 60 Hz. The
// baseline, in the same run: the usage guide's own page (one DOM node per line) in the same burst.
// Run alone: node bench/scenarios/page.mjs [--quick]   (needs `npm run build` first)
/* global document, requestAnimationFrame -- used in code that runs in the page */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { writeLines } from '../lib/agent-writer.mjs';
import { launchChromium, recordFrames } from '../lib/chromium.mjs';
import { MB, createLatencyRecorder, round, row } from '../lib/measure.mjs';
import { writePaced } from '../lib/paced-writer.mjs';

const SCENARIO = 'page';
const BURST_RATE = 50_000;
const SCROLL_FRAMES = 300;
/** How long the guide's page is given to catch up after its burst. */
const GUIDE_WAIT_MS = 15_000;
const here = dirname(fileURLToPath(import.meta.url));

function p95(times) {
  const recorder = createLatencyRecorder();
  for (const t of times) recorder.record(t);
  return round(recorder.percentile(95), 1);
}

/** Waits until the page holds `lines` lines; resolves with performance.now() in the page then. */
async function waitForHeld(page, lines, timeout) {
  const handle = await page.waitForFunction(
    (want) => (Number(document.getElementById('logContainer')?.dataset.lines) >= want ? performance.now() : false),
    lines,
    { timeout, polling: 50 },
  );
  return handle.jsonValue();
}

async function firstLinesMark(page) {
  await page.waitForSelector('#logContainer .log-entry', { timeout: 30_000 });
  return page.evaluate(() => performance.getEntriesByName('keruta:first-lines')[0]?.startTime ?? Number.NaN);
}

/** Scrolls the log from top to bottom in `frames` frames; returns the frame times and the last seq drawn. */
function scrollThrough(page, frames, mode) {
  return page.evaluate(
    async ({ frames: count, mode: how }) => {
      const box = document.getElementById('logContainer');
      const frame = () => new Promise((done) => requestAnimationFrame(done));
      box.scrollTop = 0;
      for (let i = 0; i < 5; i++) await frame();
      const range = box.scrollHeight - box.clientHeight;
      const times = [];
      let last = await frame();
      for (let i = 1; i <= count; i++) {
        box.scrollTop = how === 'drag' ? (range * i) / count : box.scrollTop + box.clientHeight;
        const now = await frame();
        times.push(now - last);
        last = now;
      }
      await frame();
      await frame();
      const seqs = [...box.querySelectorAll('.log-entry')].map((r) => Number(r.dataset.seq));
      return { times, lastSeq: Math.max(...seqs), rows: seqs.length };
    },
    { frames, mode },
  );
}

/** The usage guide's page (its class and HTML, pointed at `host`), served from a port of its own. */
async function serveGuidePage(host) {
  const markdown = await readFile(resolve(here, '../../../shared/spec/usage-guide.ja.md'), 'utf8');
  const blocks = (language) => [...markdown.matchAll(new RegExp('^```' + language + '\\s*\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]);
  const clientClass = blocks('javascript').find((b) => b.includes('class LogStreamingClient'));
  const html = blocks('html').find((b) => b.includes('<!DOCTYPE html>') && b.includes('logContainer'));
  if (clientClass === undefined || html === undefined) throw new Error('the usage guide has no LogStreamingClient class or page');
  const point = (code) => code.replaceAll('keruta-api:8080', host);
  const body = point(html).replace('<body>', `<body>\n<script>\n${point(clientClass)}\n</script>`);
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body));
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((done) => {
      server.closeAllConnections();
      server.close(done);
    }),
  };
}

/** Resolves with the promise's value, or `fallback` when it has not settled within `ms`. */
function within(promise, ms, fallback) {
  return Promise.race([promise.catch(() => fallback), new Promise((done) => setTimeout(() => done(fallback), ms))]);
}

/**
 * A live burst at BURST_RATE into `taskId` while `page` watches: frame times at 60 Hz and the lag
 * between the last line sent and the page showing it (undefined when not shown within `waitMs`).
 */
async function burst({ page, server, taskId, seconds, shown, waitMs }) {
  const frames = await recordFrames(page);
  const written = await writePaced({ wsUrl: server.wsUrl, taskId, ratePerSecond: BURST_RATE, seconds });
  const shownAt = await within(
    page.waitForFunction(shown, written.total, { timeout: waitMs, polling: 20 }).then((handle) => handle.jsonValue()),
    waitMs + 5000,
    undefined,
  );
  // A page that cannot keep up may not even answer: then its frames are not known.
  const times = await within(frames.stop(), 10_000, undefined);
  return {
    ...written,
    lagMs: shownAt === undefined ? undefined : Math.max(0, shownAt - written.lastSentAt),
    // The part of the lag that is the page's: after keruta-api had stored and acknowledged the last line.
    afterAckMs: shownAt === undefined ? undefined : Math.max(0, shownAt - written.ackedAt),
    frameP95: times === undefined || times.length === 0 ? undefined : p95(times),
    frameMax: times === undefined || times.length === 0 ? undefined : round(Math.max(...times), 1),
  };
}

export async function run({ quick = false } = {}) {
  const total = quick ? 100_000 : 1_000_000;
  const burstSeconds = quick ? 2 : 10;
  const guideSeconds = 1;
  const rows = [];
  const server = await spawnServer();
  try {
    const fillMs = await writeLines({ wsUrl: server.wsUrl, taskId: 'page-bench', total });
    rows.push(row(SCENARIO, `${total.toLocaleString('en-US')} stored lines written`, round(fillMs / 1000, 1), 's'));

    const smooth = await launchChromium({ unlimitedFrames: true });
    try {
      const { page } = smooth;
      // The page as it opens: the last 100,000 lines, then live.
      await page.goto(`${server.baseUrl}/?taskId=page-bench`);
      const firstPaint = await firstLinesMark(page);
      rows.push(row(SCENARIO, 'first lines painted after navigation', round(firstPaint, 0), 'ms', { target: '<= 1500 ms', pass: firstPaint <= 1500 }));
      const tail = Math.min(total, 100_000);
      const tailLoaded = await waitForHeld(page, tail, 60_000);
      rows.push(row(SCENARIO, `history shown (last ${tail.toLocaleString('en-US')} lines)`, round(tailLoaded, 0), 'ms'));
      rows.push(row(SCENARIO, `JS heap, ${tail.toLocaleString('en-US')} lines held`, round((await smooth.heapUsed()) / MB, 1), 'MB'));

      // The whole log in the page (?since=0), scrolled from the first line to the last.
      await page.goto(`${server.baseUrl}/?taskId=page-bench&since=0`);
      const wholeFirstPaint = await firstLinesMark(page);
      rows.push(row(SCENARIO, 'first lines painted, whole log (?since=0)', round(wholeFirstPaint, 0), 'ms', { target: '<= 1500 ms', pass: wholeFirstPaint <= 1500 }));
      const wholeLoaded = await waitForHeld(page, total, 300_000);
      rows.push(row(SCENARIO, `whole log held (${total.toLocaleString('en-US')} lines)`, round(wholeLoaded / 1000, 1), 's'));
      const heap = await smooth.heapUsed();
      rows.push(row(SCENARIO, `JS heap, ${total.toLocaleString('en-US')} lines held`, round(heap / MB, 1), 'MB', { target: '<= 300 MB', pass: heap <= 300 * MB }));
      const drag = await scrollThrough(page, SCROLL_FRAMES, 'drag');
      const dragP95 = p95(drag.times);
      rows.push(row(SCENARIO, `scroll top → bottom in ${SCROLL_FRAMES} frames (scrollbar drag), frame p95`, dragP95, 'ms', { target: '<= 16 ms', pass: dragP95 <= 16 && drag.lastSeq === total }));
      const pages = await scrollThrough(page, SCROLL_FRAMES, 'page');
      rows.push(row(SCENARIO, `scroll a page a frame from the top (${SCROLL_FRAMES} frames), frame p95`, p95(pages.times), 'ms', { target: '<= 16 ms', pass: p95(pages.times) <= 16 }));
      rows.push(row(SCENARIO, 'rows in the DOM while scrolling', drag.rows, 'rows'));
    } finally {
      await smooth.close();
    }

    const live = await launchChromium();
    const guide = await serveGuidePage(`127.0.0.1:${server.port}`);
    try {
      const { page } = live;
      await page.goto(`${server.baseUrl}/?taskId=page-burst`);
      await page.waitForFunction(() => document.getElementById('connection')?.textContent === 'live');
      const ours = await burst({
        page,
        server,
        taskId: 'page-burst',
        seconds: burstSeconds,
        shown: (want) => (document.getElementById('logContainer')?.dataset.lastSeq === String(want) ? performance.timeOrigin + performance.now() : false),
        waitMs: 120_000,
      });
      const held = Number(await page.getAttribute('#logContainer', 'data-lines'));
      const label = `live burst ${BURST_RATE.toLocaleString('en-US')} lines/s for ${burstSeconds} s`;
      rows.push(row(SCENARIO, `${label}: lag at the end`, ours.lagMs === undefined ? 'not caught up' : round(ours.lagMs, 0), 'ms', { target: '<= 1000 ms', pass: ours.lagMs !== undefined && ours.lagMs <= 1000 }));
      rows.push(row(SCENARIO, `${label}: lag after keruta-api acked the last line`, ours.afterAckMs === undefined ? 'not caught up' : round(ours.afterAckMs, 0), 'ms'));
      rows.push(row(SCENARIO, `${label}: frame p95 (60 Hz)`, ours.frameP95 ?? 'unknown', 'ms', { target: '<= 33 ms', pass: ours.frameP95 !== undefined && ours.frameP95 <= 33 }));
      rows.push(row(SCENARIO, `${label}: longest frame`, ours.frameMax, 'ms'));
      rows.push(row(SCENARIO, `${label}: lines lost or repeated`, ours.total - held, 'lines', { target: '0', pass: held === ours.total }));
      rows.push(row(SCENARIO, `${label}: writer behind schedule`, round(ours.behindMs, 0), 'ms'));
      rows.push(row(SCENARIO, `${label}: JS heap after`, round((await live.heapUsed()) / MB, 1), 'MB'));

      // Baseline: the usage guide's page in the same burst, for a shorter time (it slows down as it grows).
      const subscribed = page.waitForEvent('console', { predicate: (m) => m.text().includes('ログストリーミング購読開始'), timeout: 15_000 });
      await page.goto(`${guide.url}?taskId=page-burst-guide`);
      await subscribed;
      const baseline = await burst({
        page,
        server,
        taskId: 'page-burst-guide',
        seconds: guideSeconds,
        shown: (want) => (document.getElementById('totalLogs')?.textContent === String(want) ? performance.timeOrigin + performance.now() : false),
        waitMs: GUIDE_WAIT_MS,
      });
      const baseLabel = `usage guide's page, same rate for ${guideSeconds} s`;
      const notCaughtUp = `not caught up ${GUIDE_WAIT_MS / 1000} s later`;
      rows.push(row(SCENARIO, `${baseLabel}: lag at the end`, baseline.lagMs === undefined ? notCaughtUp : round(baseline.lagMs, 0), 'ms'));
      rows.push(row(SCENARIO, `${baseLabel}: frame p95 (60 Hz)`, baseline.frameP95 ?? 'page unresponsive', 'ms'));
      if (baseline.frameP95 !== undefined && ours.frameP95 !== undefined) {
        rows.push(row(SCENARIO, 'burst frame p95: ours ÷ the guide page', round(ours.frameP95 / baseline.frameP95, 2), '×'));
      }
      if (baseline.lagMs !== undefined && ours.lagMs !== undefined) {
        rows.push(row(SCENARIO, 'burst lag at the end: ours ÷ the guide page', round(ours.lagMs / Math.max(1, baseline.lagMs), 2), '×'));
      }
    } finally {
      await guide.close();
      await live.close();
    }
    return rows;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
