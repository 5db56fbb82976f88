// search: GET /api/v1/search over a task of 10,000,000 stored lines (quick: 200,000). keruta-api
// starts on a store its search index has never seen, so its indexing thread takes in every line
// first (timed: lines/s, and the index file's bytes per line beside the text's); then the first
// page (100 results, newest first) of searches that match often, rarely and never, and a regular
// expression, p50/p99 against the 200 ms target. Every answer is checked against the lines'
// known text.
// Run alone: node bench/scenarios/search.mjs [--quick]   (needs `npm run build` first)
import { statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { historyDataDir, historyMessage } from '../lib/history-db.mjs';
import { createLatencyRecorder, round, row } from '../lib/measure.mjs';

const SCENARIO = 'search';
const TARGET_MS = 200;

function getJson(agent, url) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${url}: ${Buffer.concat(chunks)}`));
        else resolve({ elapsed: performance.now() - started, body: JSON.parse(Buffer.concat(chunks).toString()) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const fileBytes = (path) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

export async function run({ quick = false } = {}) {
  const total = quick ? 200_000 : 10_000_000;
  const samples = quick ? 20 : 50;
  const { dataDir } = await historyDataDir(total);
  const server = await spawnServer({ dataDir });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const started = performance.now();
    for (;;) {
      const { body } = await getJson(agent, `${server.apiUrl}/search?q=${encodeURIComponent('no such text')}`);
      if (body.pending === 0 && body.results.length === 0) {
        // Pending 0 before the thread's first report: make sure it has taken the task in.
        const probe = await getJson(agent, `${server.apiUrl}/search?q=${encodeURIComponent(historyMessage(total).slice(0, 30))}&limit=1`);
        if (probe.body.results.length === 1) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const indexMs = performance.now() - started;
    const index = join(dataDir, 'keruta.db.search');
    const indexBytes = fileBytes(index) + fileBytes(`${index}-wal`);
    // Texts of historyMessage(n): `step N compiled module-(N % 997) in (N % 89) ms xxx…`.
    const queries = [
      { name: 'matches every line ("compiled module")', q: 'compiled module', regex: false, check: () => true },
      { name: 'matches 1 line in 88,733 ("module-996 in 88 ms")', q: 'module-996 in 88 ms', regex: false, check: (m) => m.includes('module-996 in 88 ms') },
      { name: 'matches no line ("no such text")', q: 'no such text', regex: false, check: () => false },
      { name: 'regular expression ("module-99[0-6] in 8\\d ms")', q: 'module-99[0-6] in 8\\d ms', regex: true, check: (m) => /module-99[0-6] in 8\d ms/.test(m) },
    ];
    const rows = [
      row(SCENARIO, `indexing ${total} stored lines on keruta-api's start`, round(total / (indexMs / 1000), 0), 'lines/s'),
      row(SCENARIO, 'search index bytes per line (the text: 100)', round(indexBytes / total, 1), 'B'),
    ];
    let faults = 0;
    for (const query of queries) {
      const recorder = createLatencyRecorder();
      const url = `${server.apiUrl}/search?q=${encodeURIComponent(query.q)}&regex=${query.regex}&limit=100`;
      let found = 0;
      for (let i = 0; i < samples; i++) {
        const { elapsed, body } = await getJson(agent, url);
        recorder.record(elapsed);
        found = body.results.length;
        if (!body.results.every((r) => query.check(r.message))) faults += 1;
      }
      const p99 = recorder.percentile(99);
      rows.push(
        row(SCENARIO, `first page, ${query.name}: ${found} results, p50`, round(recorder.percentile(50)), 'ms'),
        row(SCENARIO, `first page, ${query.name}, p99`, round(p99), 'ms', { target: `<= ${TARGET_MS} ms`, pass: p99 <= TARGET_MS }),
      );
    }
    rows.push(row(SCENARIO, 'answers holding a line that does not match', faults, 'answers', { target: '0', pass: faults === 0 }));
    return rows;
  } finally {
    agent.destroy();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
