// export: the history task of 10,000,000 stored lines (quick: 1,000,000) downloaded whole from
// keruta-api as json and as csv; lines/s against 300,000 and keruta-api's peak RSS against
// 200 MB (flat: the export is streamed, never built in memory). It reuses the history
// scenario's task when both run (the quick run shares its 1,000,000 lines). Every download is checked:
// each seq exactly once, in order. The baseline, in the same run: the same rows read straight
// from the SQLite file and turned into JSON lines in this process (no HTTP) — the floor.
// Run alone: node bench/scenarios/export.mjs [--quick]   (needs `npm run build` first)
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { spawnServer } from '@keruta/testing';
import { HISTORY_TASK, historyDataDir } from '../lib/history-db.mjs';
import { createLineSplitter } from '../lib/script.mjs';
import { MB, ratioRow, round, row, rssOf, samplePeakRss } from '../lib/measure.mjs';

const SCENARIO = 'export';
const TARGET_LINES_PER_S = 300_000;
const BASELINE_ROWS = 1_000_000;

/**
 * Downloads the export, finding each entry's seq as it streams by: `"seq":N` in json (one entry
 * per line), the second column in csv. Returns the time and whether every seq came once, in order.
 */
function download(url, format) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let expected = 1;
    let faults = 0;
    let bytes = 0;
    let header = format === 'csv';
    const onLine = (line) => {
      let seq;
      if (format === 'csv') {
        if (header) {
          header = false;
          return;
        }
        const comma = line.indexOf(',');
        seq = Number(line.slice(comma + 1, line.indexOf(',', comma + 1)));
      } else {
        const at = line.indexOf('"seq":');
        if (at === -1) return; // `[` and `]`
        seq = Number(line.slice(at + 6, line.indexOf(',', at)));
      }
      if (seq !== expected) faults += 1;
      expected = seq + 1;
    };
    const req = request(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${url}`));
      const split = createLineSplitter(onLine);
      res.on('data', (chunk) => {
        bytes += chunk.length;
        split(chunk);
      });
      res.on('end', () => resolve({ ms: performance.now() - started, lines: expected - 1, faults, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run({ quick = false } = {}) {
  const total = quick ? 1_000_000 : 10_000_000;
  const { dataDir } = await historyDataDir(total);
  const server = await spawnServer({ dataDir });
  const rows = [];
  try {
    const floor = baselineLinesPerSecond(join(dataDir, 'keruta.db'), Math.min(total, BASELINE_ROWS));
    for (const format of ['json', 'csv']) {
      const idle = rssOf(server.pid);
      const rss = samplePeakRss(server.pid, 50);
      const result = await download(`${server.apiUrl}/tasks/${HISTORY_TASK}/logs/export?format=${format}`, format);
      const peak = rss.stop();
      const rate = Math.round(result.lines / (result.ms / 1000));
      const faults = result.faults + (total - result.lines);
      rows.push(
        row(SCENARIO, `${format}: ${total} lines (${round(result.bytes / MB, 0)} MB) downloaded`, round(result.ms / 1000, 2), 's'),
        row(SCENARIO, `${format}: lines/s`, rate, 'lines/s', { target: `>= ${TARGET_LINES_PER_S}`, pass: rate >= TARGET_LINES_PER_S }),
        row(SCENARIO, `${format}: keruta-api RSS before → peak`, `${round(idle / MB, 0)} → ${round(peak / MB, 1)}`, 'MB', { target: '<= 200 MB', pass: peak <= 200 * MB }),
        row(SCENARIO, `${format}: lines missing, repeated or out of order`, faults, 'lines', { target: '0', pass: faults === 0 }),
      );
      if (format === 'json') {
        rows.push(
          row(SCENARIO, 'rows read straight from SQLite as JSON lines, no HTTP (baseline)', Math.round(floor), 'lines/s'),
          ratioRow(SCENARIO, 'json export rate ÷ baseline rate', rate, floor),
        );
      }
    }
    return rows;
  } finally {
    await server.stop();
  }
}

/** The floor: the task's first `count` rows iterated with better-sqlite3 and stringified. */
function baselineLinesPerSecond(path, count) {
  const db = new Database(path, { readonly: true });
  try {
    const started = performance.now();
    let bytes = 0;
    for (const r of db.prepare('SELECT * FROM logs WHERE task_id = ? AND seq <= ? ORDER BY seq').iterate(HISTORY_TASK, count)) {
      bytes += JSON.stringify(r).length;
    }
    if (bytes === 0) throw new Error('baseline read nothing');
    return count / ((performance.now() - started) / 1000);
  } finally {
    db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
