// fan-out through Redis: a 20,000-line burst written through instance A reaches 100 subscribers
// on instance B (two keruta-api processes on one PostgreSQL database and one Redis), against the
// same burst to 100 subscribers of a single instance on the same database with the memory bus,
// measured in the same run, rounds interleaved. Target: B no slower than 1.5× the single instance.
// Without PostgreSQL both sides share one SQLite file instead (the rows say so).
// Run alone: node bench/scenarios/fanout-redis.mjs [--quick]   (needs `npm run build` first)
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { TEST_REDIS_URL, createTestDatabase, makeTempDir, redisAnswers, spawnServer } from '@keruta/testing';
import { writeLines } from '../lib/agent-writer.mjs';
import { ratioRow, round, row } from '../lib/measure.mjs';

const SCENARIO = 'fanout-redis';
const SUBSCRIBERS = 100;

/**
 * A live batch subscriber that reads only the seqs out of each frame (no JSON.parse of every
 * entry): the bench measures the servers, not this process's parser.
 */
async function subscribe(wsUrl, taskId) {
  const ws = new WebSocket(`${wsUrl}/${taskId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const state = { received: 0, faults: 0, expected: 0, lastArrival: 0 };
  let onSubscribed;
  const subscribed = new Promise((resolve) => (onSubscribed = resolve));
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('{"type":"subscribed"')) {
      state.expected = JSON.parse(text).lastSeq + 1;
      onSubscribed();
      return;
    }
    if (!text.startsWith('{"type":"logs"')) return;
    for (let at = text.indexOf('"seq":'); at !== -1; at = text.indexOf('"seq":', at + 6)) {
      const seq = Number.parseInt(text.slice(at + 6, at + 20), 10);
      if (seq !== state.expected) state.faults += 1;
      state.expected = seq + 1;
      state.received += 1;
    }
    state.lastArrival = performance.now();
  });
  ws.send(JSON.stringify({ type: 'subscribe', options: { batch: true } }));
  await subscribed;
  return { state, close: () => ws.terminate() };
}

/** One burst: subscribers on `readFrom` first, then `total` lines through `writeTo`. */
async function burst({ writeTo, readFrom, total }) {
  const taskId = `burst-${randomUUID().slice(0, 8)}`;
  const subscribers = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => subscribe(readFrom.wsUrl, taskId)));
  const started = performance.now();
  const ackedMs = await writeLines({ wsUrl: writeTo.wsUrl, taskId, total });
  const deadline = Date.now() + 120_000;
  while (subscribers.some((s) => s.state.received < total) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  const lastMs = Math.max(...subscribers.map((s) => s.state.lastArrival)) - started;
  const faults = subscribers.reduce((n, s) => n + s.state.faults + Math.abs(total - s.state.received), 0);
  for (const s of subscribers) s.close();
  return { lastMs, ackedMs, faults };
}

async function busLagMean(server) {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  const count = value('keruta_bus_lag_seconds_count');
  return count === 0 ? undefined : (value('keruta_bus_lag_seconds_sum') / count) * 1000;
}

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

export async function run({ quick = false } = {}) {
  const total = quick ? 5_000 : 20_000;
  const rounds = quick ? 1 : 3;
  if (!(await redisAnswers())) {
    return [row(SCENARIO, 'skipped: no Redis answers at 127.0.0.1:6379', 'n/a', '')];
  }
  const db = await createTestDatabase('bench fanout-redis');
  const dir = await makeTempDir('keruta-bench-');
  const store = db === undefined ? 'one SQLite file' : 'PostgreSQL';
  const env = (busUrl) => ({
    ...(db === undefined ? {} : { KERUTA_DATABASE_URL: db.url }),
    KERUTA_BUS_URL: busUrl,
    KERUTA_LOG_LEVEL: 'warn',
  });
  const redisUrl = `${TEST_REDIS_URL}?channelPrefix=${encodeURIComponent(`keruta:bench:${randomUUID()}:`)}`;
  const servers = [];
  try {
    const single = await spawnServer({ dataDir: dir.path, env: env('memory') });
    servers.push(single);
    const a = await spawnServer({ dataDir: dir.path, env: env(redisUrl) });
    servers.push(a);
    const b = await spawnServer({ dataDir: dir.path, env: env(redisUrl) });
    servers.push(b);
    // One unmeasured burst each, so that both sides run warm code.
    await burst({ writeTo: single, readFrom: single, total: 1000 });
    await burst({ writeTo: a, readFrom: b, total: 1000 });
    const singles = [];
    const crosses = [];
    for (let i = 0; i < rounds; i++) {
      singles.push(await burst({ writeTo: single, readFrom: single, total }));
      crosses.push(await burst({ writeTo: a, readFrom: b, total }));
    }
    const singleMs = median(singles.map((r) => r.lastMs));
    const crossMs = median(crosses.map((r) => r.lastMs));
    const faults = [...singles, ...crosses].reduce((n, r) => n + r.faults, 0);
    const lag = await busLagMean(b);
    return [
      row(SCENARIO, `${total} lines to ${SUBSCRIBERS} subscribers of one instance (${store}, memory bus), first sent → last received`, round(singleMs, 0), 'ms'),
      row(SCENARIO, `${total} lines through A to ${SUBSCRIBERS} subscribers on B (${store}, Redis bus), first sent → last received`, round(crossMs, 0), 'ms'),
      ratioRow(SCENARIO, 'two instances over Redis ÷ one instance (median of rounds)', crossMs, singleMs, { limit: 1.5 }),
      row(SCENARIO, 'lines lost, duplicated or out of order (all subscribers, all rounds)', faults, 'lines', { target: '0', pass: faults === 0 }),
      row(SCENARIO, 'stored and acknowledged through A (median)', round(median(crosses.map((r) => r.ackedMs)), 0), 'ms'),
      row(SCENARIO, 'bus lag on B, publish on A → receipt on B (mean)', lag === undefined ? 'n/a' : round(lag, 2), 'ms'),
    ];
  } finally {
    for (const server of servers) await server.stop();
    await dir.remove();
    await db?.drop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
