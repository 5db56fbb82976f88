// history: a task of 10,000,000 stored lines (quick: 1,000,000) in keruta-api's SQLite store;
// pages of 1,000 over HTTP at random page numbers and by `afterSeq` cursors, p50/p99/max
// against the 20 ms target. Every page is checked: 1,000 entries of consecutive seqs from the
// one asked for. The baseline, measured in the same run: the same pages read straight from the
// SQLite file by keyset (no HTTP, no JSON) — the floor a server on this store can reach.
// Run alone: node bench/scenarios/history.mjs [--quick]   (needs `npm run build` first)
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { spawnServer } from '@keruta/testing';
import { HISTORY_TASK, historyDataDir } from '../lib/history-db.mjs';
import { createLatencyRecorder, ratioRow, round, row, rssOf, seededRandom } from '../lib/measure.mjs';

const SCENARIO = 'history';
const PAGE = 1000;
const TARGET_MS = 20;

function getJson(agent, url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const elapsed = performance.now() - started;
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${url}`));
        else resolve({ elapsed, body: Buffer.concat(chunks) });
      });
    });
    const started = performance.now();
    req.on('error', reject);
    req.end();
  });
}

export async function run({ quick = false } = {}) {
  const total = quick ? 1_000_000 : 10_000_000;
  const samples = quick ? 300 : 1000;
  const { dataDir, buildMs } = await historyDataDir(total);
  const server = await spawnServer({ dataDir });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let faults = 0;
  const check = (body, firstSeq) => {
    const content = JSON.parse(body.toString()).content;
    const good = content.length === PAGE && content.every((e, i) => e.seq === firstSeq + i);
    if (!good) faults += 1;
  };
  try {
    const pages = Math.floor(total / PAGE);
    const random = seededRandom(7);
    for (let i = 0; i < 20; i++) await getJson(agent, `${server.apiUrl}/tasks/${HISTORY_TASK}/logs?size=${PAGE}&page=${i}`);
    const byPage = createLatencyRecorder();
    const byAfterSeq = createLatencyRecorder();
    for (let i = 0; i < samples; i++) {
      const page = Math.floor(random() * pages);
      const a = await getJson(agent, `${server.apiUrl}/tasks/${HISTORY_TASK}/logs?size=${PAGE}&page=${page}`);
      byPage.record(a.elapsed);
      check(a.body, page * PAGE + 1);
      const afterSeq = Math.floor(random() * (total - PAGE));
      const b = await getJson(agent, `${server.apiUrl}/tasks/${HISTORY_TASK}/logs?size=${PAGE}&afterSeq=${afterSeq}`);
      byAfterSeq.record(b.elapsed);
      check(b.body, afterSeq + 1);
    }
    agent.destroy();
    const floor = directReads(join(dataDir, 'keruta.db'), total, samples);
    const rows = [
      row(SCENARIO, `task of ${total} lines built straight into SQLite (setup)`, round(buildMs / 1000, 1), 's'),
    ];
    for (const [name, recorder] of [['page by number', byPage], ['page by afterSeq', byAfterSeq]]) {
      const p99 = recorder.percentile(99);
      rows.push(
        row(SCENARIO, `${name} (${PAGE} lines over HTTP), p50`, round(recorder.percentile(50)), 'ms'),
        row(SCENARIO, `${name}, p99`, round(p99), 'ms', { target: `<= ${TARGET_MS} ms`, pass: p99 <= TARGET_MS }),
        row(SCENARIO, `${name}, max`, round(recorder.max), 'ms'),
      );
    }
    rows.push(
      row(SCENARIO, `same pages read straight from SQLite by keyset (baseline), p50`, round(floor.percentile(50)), 'ms'),
      ratioRow(SCENARIO, 'HTTP page by afterSeq p50 ÷ straight SQLite read p50', byAfterSeq.percentile(50), floor.percentile(50)),
      row(SCENARIO, 'pages with a missing, extra or out-of-order line', faults, 'pages', { target: '0', pass: faults === 0 }),
    );
    return rows;
  } catch (error) {
    // Say what the server was doing: a request that fails is a broken run, not a slow one.
    throw new Error(`${String(error?.message ?? error)}; keruta-api ${rssOf(server.pid ?? 0) > 0 ? 'still running' : 'gone'}; its log ends: ${server.stderr.slice(-600)}`, { cause: error });
  } finally {
    agent.destroy();
    await server.stop();
  }
}

/** The floor: the same random pages read by keyset with better-sqlite3, in this process. */
function directReads(path, total, samples) {
  const db = new Database(path, { readonly: true });
  try {
    const statement = db.prepare('SELECT * FROM logs WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?');
    const random = seededRandom(11);
    const latency = createLatencyRecorder();
    for (let i = 0; i < samples + 20; i++) {
      const afterSeq = Math.floor(random() * (total - PAGE));
      const started = performance.now();
      statement.all(HISTORY_TASK, afterSeq, PAGE);
      if (i >= 20) latency.record(performance.now() - started);
    }
    return latency;
  } finally {
    db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
