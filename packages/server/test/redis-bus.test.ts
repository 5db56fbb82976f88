// Two keruta-api instances in this process on one store and one Redis: live entries cross from
// one to the other, and a message the bus loses — the last one of a burst, or everything while
// Redis is killed or away — still reaches every subscriber, with no gap and no duplicate.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { parseLogRequest, type LogEntry, type SubscribedMessage } from '@keruta/protocol';
import {
  TEST_REDIS_URL,
  connectClient,
  freePort,
  makeTempDir,
  readJson,
  redisAnswers,
  startServer,
  warnRedisMissing,
  type RecordingClient,
  type TempDir,
  type TestServer,
} from '@keruta/testing';
import { sleep, waitUntil } from '@keruta/testing/base';

const PREFIX = `keruta:test:${randomUUID()}:`;
const redisUp = await redisAnswers();
if (!redisUp) warnRedisMissing('redis-bus.test.ts');

function busUrl(base = TEST_REDIS_URL): string {
  return `${base}?channelPrefix=${encodeURIComponent(PREFIX)}`;
}

function line(n: number, runId = 'run-1') {
  return { source: 'stdout', level: 'INFO', message: `line ${n}`, runId, runSeq: n };
}

/** Two servers on one SQLite file and one bus URL. */
async function twoInstances(dir: TempDir, url = busUrl()): Promise<[TestServer, TestServer]> {
  const config = { busUrl: url };
  return [await startServer({ dataDir: dir.path, config }), await startServer({ dataDir: dir.path, config })];
}

async function subscribe(server: TestServer, taskId: string, options: Record<string, unknown> = {}): Promise<RecordingClient> {
  const client = await connectClient(`${server.wsUrl}/${taskId}`);
  client.send({ type: 'subscribe', options: { batch: true, ...options } });
  await client.waitFor<SubscribedMessage>((m) => m.type === 'subscribed');
  return client;
}

/** Lost and duplicate counts of `entries` against the range first..last. */
function tally(entries: readonly LogEntry[], first: number, last: number) {
  const seqs = entries.map((e) => e.seq);
  const unique = new Set(seqs);
  let lost = 0;
  for (let seq = first; seq <= last; seq++) if (!unique.has(seq)) lost += 1;
  const inOrder = seqs.every((seq, i) => i === 0 || seq === (seqs[i - 1] ?? 0) + 1);
  return { lost, duplicates: seqs.length - unique.size, inOrder };
}

/** Kills the Redis connections whose name starts with `namePrefix`; returns how many. */
async function killRedisClients(namePrefix: string, url = TEST_REDIS_URL): Promise<number> {
  const admin = new Redis(url);
  try {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const ids = list
      .split('\n')
      .filter((row) => / name=(\S*)/.exec(row)?.[1]?.startsWith(namePrefix) === true)
      .map((row) => / ?id=(\d+)/.exec(row)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const lines = text.split('\n').filter((l) => l.startsWith(name) && !l.startsWith('#'));
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function writeLines(server: TestServer, taskId: string, from: number, to: number, batch = 500): Promise<void> {
  await using agent = await connectClient(`${server.wsUrl}/${taskId}`);
  for (let first = from; first <= to; first += batch) {
    const entries = Array.from({ length: Math.min(batch, to - first + 1) }, (_, i) => line(first + i));
    agent.send({ type: 'logs', batchId: `b${first}`, entries });
    await agent.waitFor((m) => m.type === 'ack' && m.batchId === `b${first}`, 20_000);
  }
}

describe.skipIf(!redisUp)('Redis bus between two keruta-api instances', () => {
  let dir: TempDir;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    dir = await makeTempDir();
    [a, b] = await twoInstances(dir);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dir?.remove();
  });

  it('brings an entry posted to instance A to a subscriber on instance B, and reports the bus lag', async () => {
    await using client = await subscribe(b, 'cross');
    await b.server.bus.settled();
    const posted = await fetch(`${a.apiUrl}/tasks/cross/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'stdout', level: 'INFO', message: 'hello from A' }) });
    expect(posted.status).toBe(201);
    await client.waitForEntries(1, 5000);
    expect(client.entries.map((e) => [e.seq, e.message])).toEqual([[1, 'hello from A']]);
    expect(await metric(b, 'keruta_bus_lag_seconds_count')).toBeGreaterThanOrEqual(1);
  });

  it('delivers the last batch even when the bus never carried it, from the store, within about a second', async () => {
    await using client = await subscribe(b, 'lost-last');
    await writeLines(a, 'lost-last', 1, 100);
    await client.waitForEntries(100);
    // Stored through A's store without a publish: exactly what a lost Redis message leaves behind.
    const now = Date.now();
    await a.server.store.append('lost-last', [101, 102, 103].map((n) => parseLogRequest(line(n), { maxMessageLength: 8192, now })));
    const started = Date.now();
    await client.waitForEntries(103, 5000);
    expect(Date.now() - started).toBeLessThan(2500);
    await sleep(1200);
    expect(tally(client.entries, 1, 103)).toEqual({ lost: 0, duplicates: 0, inOrder: true });
    expect(client.entries).toHaveLength(103);
    expect(await metric(b, 'keruta_bus_store_ahead_total')).toBeGreaterThanOrEqual(1);
  });

  it('fills a gap the bus left in the middle as soon as a later batch arrives', async () => {
    await using client = await subscribe(b, 'lost-middle');
    await writeLines(a, 'lost-middle', 1, 50);
    await client.waitForEntries(50);
    await a.server.store.append('lost-middle', [51, 52].map((n) => parseLogRequest(line(n), { maxMessageLength: 8192, now: Date.now() })));
    await writeLines(a, 'lost-middle', 53, 60);
    await client.waitForEntries(60, 5000);
    expect(tally(client.entries, 1, 60)).toEqual({ lost: 0, duplicates: 0, inOrder: true });
  });

  it('loses nothing and repeats nothing when Redis kills both instances\' connections mid-stream', async () => {
    const subscribers = [await subscribe(b, 'killed'), await subscribe(b, 'killed', { since: 0 }), await subscribe(a, 'killed', { tail: 10 })];
    const writing = writeLines(a, 'killed', 1, 20_000, 250);
    let killed = 0;
    for (let round = 0; round < 3; round++) {
      await sleep(150);
      killed += await killRedisClients(PREFIX);
    }
    await writing;
    for (const client of subscribers) await client.waitForEntries(20_000, 15_000);
    await sleep(1200);
    const counts = subscribers.map((client) => tally(client.entries, 1, 20_000));
    console.log(`CLIENT KILL of ${killed} bus connections mid-stream: ${JSON.stringify(counts)}`);
    expect(killed).toBeGreaterThanOrEqual(4);
    for (const count of counts) expect(count).toEqual({ lost: 0, duplicates: 0, inOrder: true });
    for (const client of subscribers) expect(client.entries).toHaveLength(20_000);
    for (const client of subscribers) await client.close();
    // ioredis reconnects on its own; /health says so again.
    for (const server of [a, b]) {
      await expect.poll(async () => (await fetch(`${server.baseUrl}/health`)).status, { timeout: 5000 }).toBe(200);
    }
  });
});

describe.skipIf(!redisUp)('A Redis that goes away and comes back', () => {
  let redis: ChildProcess | undefined;
  let port: number;
  const startRedis = async (): Promise<void> => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = child;
    const url = `redis://127.0.0.1:${port}`;
    await waitUntil(() => redisAnswers(url), `redis-server on port ${port}`);
  };
  const stopRedis = async (): Promise<void> => {
    const child = redis;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGKILL');
    });
  };
  beforeAll(async () => {
    port = await freePort();
    await startRedis();
  });
  afterAll(stopRedis);

  it('keeps both instances serving: health turns unhealthy, subscribers on B still get every entry from the store, and all recovers', async () => {
    await using dir = await makeTempDir();
    const [a, b] = await twoInstances(dir, busUrl(`redis://127.0.0.1:${port}`));
    try {
      await using client = await subscribe(b, 'outage');
      await b.server.bus.settled();
      await writeLines(a, 'outage', 1, 1000);
      await client.waitForEntries(1000);

      await stopRedis();
      for (const server of [a, b]) {
        await expect.poll(async () => (await fetch(`${server.baseUrl}/health`)).status, { timeout: 5000 }).toBe(503);
        const health = await readJson(fetch(`${server.baseUrl}/health`));
        expect(health).toMatchObject({ status: 'unhealthy', checks: { store: { status: 'up' }, bus: { status: 'down' } } });
      }
      // Writes go on and are acknowledged; B's subscriber finds them in the store.
      await writeLines(a, 'outage', 1001, 3000);
      await client.waitForEntries(3000, 10_000);

      await startRedis();
      for (const server of [a, b]) {
        await expect.poll(async () => (await fetch(`${server.baseUrl}/health`)).status, { timeout: 10_000 }).toBe(200);
      }
      await b.server.bus.settled();
      const before = Date.now();
      await writeLines(a, 'outage', 3001, 3010);
      await client.waitForEntries(3010, 5000);
      // Live again through the bus, not a poll away.
      expect(Date.now() - before).toBeLessThan(900);
      await sleep(1200);
      expect(tally(client.entries, 1, 3010)).toEqual({ lost: 0, duplicates: 0, inOrder: true });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
