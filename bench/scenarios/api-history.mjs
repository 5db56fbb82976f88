// History pages over HTTP from a task of a million stored lines: random page numbers and
// afterSeq cursors of 1,000 entries, p50/p99 against PROTOCOL's 20 ms.
// Run alone: node bench/scenarios/api-history.mjs [--quick]   (needs `npm run build` first)
import { request, Agent } from 'node:http';
import { pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { writeLines } from '../lib/agent-writer.mjs';
import { createLatencyRecorder, round, row } from '../lib/measure.mjs';

const SCENARIO = 'api-history';
const PAGE = 1000;

function get(agent, url) {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode} for ${url}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run({ quick = false } = {}) {
  const total = quick ? 200_000 : 1_000_000;
  const samples = quick ? 200 : 1000;
  const server = await spawnServer();
  try {
    await writeLines({ wsUrl: server.wsUrl, taskId: 'history', total, batchSize: 5000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const byPage = createLatencyRecorder();
    const byAfterSeq = createLatencyRecorder();
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 20; i++) await get(agent, `${server.apiUrl}/tasks/history/logs?size=${PAGE}&page=${i}`);
    for (let i = 0; i < samples; i++) {
      const page = Math.floor(random() * (total / PAGE));
      let t = performance.now();
      await get(agent, `${server.apiUrl}/tasks/history/logs?size=${PAGE}&page=${page}`);
      byPage.record(performance.now() - t);
      const afterSeq = Math.floor(random() * (total - PAGE));
      t = performance.now();
      await get(agent, `${server.apiUrl}/tasks/history/logs?size=${PAGE}&afterSeq=${afterSeq}`);
      byAfterSeq.record(performance.now() - t);
    }
    agent.destroy();
    const rows = [];
    for (const [name, recorder] of [['page by number', byPage], ['page by afterSeq', byAfterSeq]]) {
      const p99 = recorder.percentile(99);
      rows.push(row(SCENARIO, `${name} of ${PAGE} from ${total} lines, p50`, round(recorder.percentile(50)), 'ms'));
      rows.push(row(SCENARIO, `${name} of ${PAGE} from ${total} lines, p99`, round(p99), 'ms', { target: '<= 20 ms', pass: p99 <= 20 }));
    }
    return rows;
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
