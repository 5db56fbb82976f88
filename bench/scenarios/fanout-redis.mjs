// fan-out through Redis: a 20,000-line burst written through instance A reaches 100 subscribers
// on instance B (two keruta-api processes on one PostgreSQL database and one Redis), against the
// same burst to 100 subscribers of a single instance on the same database with the memory bus,
// measured in the same run, rounds interleaved. Target: B no slower than 1.5× the single instance.
// Without PostgreSQL both sides share one SQLite file instead (the rows say so).
// Run alone: node bench/scenarios/fanout-redis.mjs [--quick]   (needs `npm run build` first)
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { TEST_REDIS_URL, createTestDatabase, makeTempDir, redisAnswers, spawnServer } from '@keruta/testing';
import { writeLines } from '../lib/agent-writer.mjs';
import { cpuMsOf, ratioRow, round, row } from '../lib/measure.mjs';

const SCENARIO = 'fanout-redis';
const SUBSCRIBERS = 100;
/** Threads the subscribers are spread over, so that one client thread is not what is measured. */
const SUBSCRIBER_THREADS = 2;
const SEQ_KEY = Buffer.from('"seq":');
const LOGS_FRAME = Buffer.from('{"type":"logs"');

/** A clock that threads share (performance.now() is per thread). */
const now = () => performance.timeOrigin + performance.now();

/**
 * A live batch subscriber that reads only the seqs out of each frame's bytes (no decoding, no
 * JSON.parse of every entry): the bench measures the servers, not the client's parser.
 */
async function subscribe(wsUrl, taskId) {
  const ws = new WebSocket(`${wsUrl}/${taskId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const state = { received: 0, faults: 0, expected: 0, lastArrival: 0 };
  let onSubscribed;
  const subscribed = new Promise((resolve) => (onSubscribed = resolve));
  ws.on('message', (data) => {
    if (data.subarray(0, LOGS_FRAME.length).equals(LOGS_FRAME)) {
      for (let at = data.indexOf(SEQ_KEY); at !== -1; at = data.indexOf(SEQ_KEY, at + SEQ_KEY.length)) {
        let seq = 0;
        for (let i = at + SEQ_KEY.length; data[i] >= 0x30 && data[i] <= 0x39; i++) seq = seq * 10 + data[i] - 0x30;
        if (seq !== state.expected) state.faults += 1;
        state.expected = seq + 1;
        state.received += 1;
      }
      state.lastArrival = now();
      return;
    }
    const message = JSON.parse(data.toString());
    if (message.type === 'subscribed') {
      state.expected = message.lastSeq + 1;
      onSubscribed();
    }
  });
  ws.send(JSON.stringify({ type: 'subscribe', options: { batch: true } }));
  await subscribed;
  return { state, close: () => ws.terminate() };
}

/** In a subscriber thread: `count` subscribers, ready when subscribed, done when all have `total`. */
async function runSubscriberThread({ wsUrl, taskId, count, total }) {
  const subscribers = await Promise.all(Array.from({ length: count }, () => subscribe(wsUrl, taskId)));
  parentPort.postMessage({ type: 'ready' });
  const deadline = Date.now() + 120_000;
  while (subscribers.some((s) => s.state.received < total) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  parentPort.postMessage({
    type: 'done',
    lastArrival: Math.max(...subscribers.map((s) => s.state.lastArrival)),
    faults: subscribers.reduce((n, s) => n + s.state.faults + Math.abs(total - s.state.received), 0),
  });
  for (const s of subscribers) s.close();
}

/**
 * One burst: subscribers on `readFrom` first (in their own threads), then `total` lines through
 * `writeTo`; the CPU the serving processes used meanwhile.
 */
async function burst({ writeTo, readFrom, total }) {
  const taskId = `burst-${randomUUID().slice(0, 8)}`;
  const threads = Array.from({ length: SUBSCRIBER_THREADS }, () => {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { wsUrl: readFrom.wsUrl, taskId, count: SUBSCRIBERS / SUBSCRIBER_THREADS, total },
    });
    const message = (type) => new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== type) return;
        worker.off('message', onMessage);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return { ready: message('ready'), done: message('done') };
  });
  await Promise.all(threads.map((t) => t.ready));
  const servers = [...new Set([writeTo, readFrom])];
  const cpuBefore = servers.map((server) => cpuMsOf(server.pid));
  const started = now();
  const ackedMs = await writeLines({ wsUrl: writeTo.wsUrl, taskId, total });
  const results = await Promise.all(threads.map((t) => t.done));
  const lastMs = Math.max(...results.map((r) => r.lastArrival)) - started;
  const faults = results.reduce((n, r) => n + r.faults, 0);
  const cpuMs = servers.reduce((sum, server, i) => sum + cpuMsOf(server.pid) - cpuBefore[i], 0);
  return { lastMs, ackedMs, faults, cpuMs };
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
  const loadAtStart = loadavg()[0];
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
      row(SCENARIO, 'CPU of keruta-api per burst: the single instance (median)', round(median(singles.map((r) => r.cpuMs)), 0), 'ms'),
      row(SCENARIO, 'CPU of keruta-api per burst: A + B (median)', round(median(crosses.map((r) => r.cpuMs)), 0), 'ms'),
      row(SCENARIO, 'load average (1 min) at the start and the end: the wall clock also measures neighbours', `${round(loadAtStart, 1)} → ${round(loadavg()[0], 1)}`, ''),
    ];
  } finally {
    for (const server of servers) await server.stop();
    await dir.remove();
    await db?.drop();
  }
}

if (!isMainThread) {
  await runSubscriberThread(workerData);
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
