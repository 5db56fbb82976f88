// The agent path end to end inside keruta-api: lines of 100 bytes in batches of 1,000 over the
// WebSocket, stored in SQLite and acknowledged, while one batch subscriber receives them all.
// Run alone: node bench/scenarios/api-ingest.mjs [--quick]   (needs `npm run build` first)
import { pathToFileURL } from 'node:url';
import { spawnServer } from '@keruta/testing';
import { subscribe, writeLines } from '../lib/agent-writer.mjs';
import { MB, round, row, rssOf, samplePeakRss } from '../lib/measure.mjs';

const SCENARIO = 'api-ingest';

export async function run({ quick = false } = {}) {
  const total = quick ? 50_000 : 200_000;
  const server = await spawnServer();
  try {
    const idleRss = rssOf(server.pid);
    const subscriber = await subscribe({ wsUrl: server.wsUrl, taskId: 'ingest' });
    const rss = samplePeakRss(server.pid);
    const started = performance.now();
    const ackedMs = await writeLines({ wsUrl: server.wsUrl, taskId: 'ingest', total });
    await subscriber.waitFor(total);
    const deliveredMs = subscriber.lastArrival - started;
    const peak = rss.stop();
    subscriber.close();
    const lost = total - subscriber.received;
    return [
      row(SCENARIO, `${total} lines stored and acked`, round(ackedMs, 0), 'ms'),
      row(SCENARIO, 'throughput, stored and acked', Math.round(total / (ackedMs / 1000)), 'lines/s'),
      row(SCENARIO, 'last line on the subscriber', round(deliveredMs, 0), 'ms'),
      row(SCENARIO, 'lost or out of order', lost + subscriber.disorder, 'lines', { target: '0', pass: lost + subscriber.disorder === 0 }),
      row(SCENARIO, 'keruta-api RSS idle', round(idleRss / MB, 1), 'MB'),
      row(SCENARIO, 'keruta-api peak RSS', round(peak / MB, 1), 'MB', { target: '<= 200 MB', pass: peak <= 200 * MB }),
    ];
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
