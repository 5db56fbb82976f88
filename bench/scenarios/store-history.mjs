// Fills a SQLite store with a long task history and times the pages the admin page reads from it.
// Run alone: node bench/scenarios/store-history.mjs [--quick]   (needs `npm run build` first)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createSqliteLogStore } from '@keruta/storage';
import { createLatencyRecorder, round, row, seededRandom } from '../lib/measure.mjs';

const SCENARIO = 'store-history';
const TASK_ID = 'history';
const BATCH = 1_000;
const PAGE_SIZE = 1_000;
const SAMPLES = 1_000;
const BASELINE_SAMPLES = 100;
/** A history page out of a million lines. */
const PAGE_P99_TARGET_MS = 20;
/** 200,000 lines in batches of 1,000 well under a second. */
const APPEND_TARGET_LINES_PER_S = 200_000;
const T0 = Date.parse('2024-05-01T00:00:00.000Z');

export async function run({ quick = false } = {}) {
  const total = quick ? 200_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'keruta-bench-history-'));
  const path = join(dir, 'keruta.db');
  const store = createSqliteLogStore({ path });
  try {
    const appendNs = await fill(store, total);
    const linesPerSecond = Math.round(total / (Number(appendNs) / 1e9));
    const pages = Math.ceil(total / PAGE_SIZE);

    const byPage = await timeQueries(store, (random) => ({ page: Math.floor(random() * pages), size: PAGE_SIZE }));
    const byAfterSeq = await timeQueries(store, (random) => ({
      page: 0,
      size: PAGE_SIZE,
      afterSeq: Math.floor(random() * (total - PAGE_SIZE)),
    }));
    // The baseline: the same pages read the obvious way, LIMIT … OFFSET, on the same file.
    const byOffset = timeOffsetBaseline(path, pages);

    return [
      row(SCENARIO, `append of ${total} lines in batches of ${BATCH}`, linesPerSecond, 'lines/s', {
        target: `>= ${APPEND_TARGET_LINES_PER_S}`,
        pass: linesPerSecond >= APPEND_TARGET_LINES_PER_S,
      }),
      row(SCENARIO, 'append, total time in the store', round(Number(appendNs) / 1e6), 'ms'),
      ...latencyRows(`page of ${PAGE_SIZE} by number`, byPage, true),
      ...latencyRows(`page of ${PAGE_SIZE} by afterSeq`, byAfterSeq, true),
      ...latencyRows(`page of ${PAGE_SIZE} by OFFSET (baseline)`, byOffset, false),
      row(SCENARIO, 'OFFSET p50 / page-by-number p50', round(byOffset.percentile(50) / byPage.percentile(50)), 'x'),
    ];
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Appends `total` lines of 100 bytes, as an agent sends them; returns the time inside append. */
async function fill(store, total) {
  let spent = 0n;
  let runSeq = 0;
  while (runSeq < total) {
    const batch = [];
    for (let i = 0; i < BATCH && runSeq < total; i++) {
      runSeq += 1;
      const timeMs = T0 + runSeq;
      batch.push({
        source: runSeq % 10 === 0 ? 'stderr' : 'stdout',
        level: runSeq % 50 === 0 ? 'WARN' : 'INFO',
        message: messageOf(runSeq),
        metadata: {},
        timeMs,
        timestamp: new Date(timeMs).toISOString(),
        runId: 'bench-run',
        runSeq,
      });
    }
    const start = process.hrtime.bigint();
    await store.append(TASK_ID, batch);
    spent += process.hrtime.bigint() - start;
  }
  return spent;
}

function messageOf(n) {
  const head = `step ${n} compiled module-${n % 997} in ${n % 89} ms `;
  return head.padEnd(100, 'x');
}

async function timeQueries(store, queryOf) {
  const random = seededRandom(42);
  for (let i = 0; i < 20; i++) await store.queryLogs(TASK_ID, queryOf(random)); // JIT and cache warm-up
  const latency = createLatencyRecorder();
  for (let i = 0; i < SAMPLES; i++) {
    const query = queryOf(random);
    const start = process.hrtime.bigint();
    const page = await store.queryLogs(TASK_ID, query);
    latency.record(Number(process.hrtime.bigint() - start) / 1e6);
    if (page === undefined || page.content.length === 0) throw new Error(`empty page for ${JSON.stringify(query)}`);
  }
  return latency;
}

function timeOffsetBaseline(path, pages) {
  const db = new Database(path, { readonly: true });
  try {
    const statement = db.prepare('SELECT * FROM logs WHERE task_id = ? ORDER BY seq LIMIT ? OFFSET ?');
    const random = seededRandom(7);
    const latency = createLatencyRecorder();
    for (let i = 0; i < BASELINE_SAMPLES; i++) {
      const offset = Math.floor(random() * pages) * PAGE_SIZE;
      const start = process.hrtime.bigint();
      statement.all(TASK_ID, PAGE_SIZE, offset);
      latency.record(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return latency;
  } finally {
    db.close();
  }
}

function latencyRows(name, latency, withTarget) {
  const p99 = round(latency.percentile(99));
  const target = withTarget ? { target: `<= ${PAGE_P99_TARGET_MS} ms`, pass: p99 <= PAGE_P99_TARGET_MS } : {};
  return [
    row(SCENARIO, `${name}, p50`, round(latency.percentile(50)), 'ms'),
    row(SCENARIO, `${name}, p99`, p99, 'ms', target),
    row(SCENARIO, `${name}, max`, round(latency.max), 'ms'),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await run({ quick: process.argv.includes('--quick') });
  console.table(rows);
  if (rows.some((r) => r.pass === false)) process.exitCode = 1;
}
