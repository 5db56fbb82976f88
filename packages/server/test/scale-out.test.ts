// Two keruta-api processes on one PostgreSQL database and one Redis, as the README's "Scaling
// out" recipe runs them: writers on one instance, subscribers on the other, and the failures a
// deployment meets — an instance killed, database sessions ended, Redis connections killed —
// with the lost and duplicate counts printed (all 0).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  TEST_REDIS_URL,
  createTestDatabase,
  readJson,
  redisAnswers,
  spawnServer,
  warnRedisMissing,
  type SpawnedServer,
  type TestDatabase,
} from '@keruta/testing';
import { sleep, startWriter } from '@keruta/testing/base';
import { startSubscriber, type Subscriber } from './resilient-subscriber.js';

const PREFIX = `keruta:test:${randomUUID()}:`;
const redisUp = await redisAnswers();
if (!redisUp) warnRedisMissing('scale-out.test.ts');
const db: TestDatabase | undefined = redisUp ? await createTestDatabase('scale-out.test.ts') : undefined;

/** A seeded generator, so that a failing run can be repeated. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Every stored entry of a task by keyset pages: seqs and (runId, runSeq) pairs. */
async function stored(server: SpawnedServer, taskId: string): Promise<{ seqs: number[]; keys: string[] }> {
  const seqs: number[] = [];
  const keys: string[] = [];
  for (let after = 0; ; ) {
    const page = await readJson(fetch(`${server.apiUrl}/tasks/${taskId}/logs?size=1000&afterSeq=${after}`));
    const content = (page.content ?? []) as { seq: number; runId: string; runSeq: number }[];
    if (content.length === 0) return { seqs, keys };
    for (const e of content) {
      seqs.push(e.seq);
      keys.push(`${e.runId}:${e.runSeq}`);
    }
    after = content[content.length - 1]!.seq;
  }
}

/** Lost and duplicate counts of a stored task against the lines its writers sent. */
function storeTally(result: { seqs: number[]; keys: string[] }, expected: number) {
  const distinct = new Set(result.keys).size;
  const contiguous = result.seqs.every((seq, i) => seq === i + 1);
  return { lost: expected - distinct, duplicates: result.keys.length - distinct, contiguous };
}

function subscriberTallies(subscribers: readonly Subscriber[], last: number) {
  const tallies = subscribers.map((s) => s.tally(last));
  return {
    subscribers: subscribers.length,
    lost: tallies.reduce((n, t) => n + t.lost, 0),
    duplicates: tallies.reduce((n, t) => n + t.duplicates, 0),
    outOfOrder: tallies.filter((t) => !t.inOrder).length,
    reconnects: subscribers.reduce((n, s) => n + s.reconnects, 0),
  };
}

/** Kills the Redis connections of this file's instances; returns how many. */
async function killRedisClients(): Promise<number> {
  const admin = new Redis(TEST_REDIS_URL);
  try {
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const ids = list
      .split('\n')
      .filter((row) => / name=(\S*)/.exec(row)?.[1]?.startsWith(PREFIX) === true)
      .map((row) => /(?:^| )id=(\d+)/.exec(row)?.[1])
      .filter((id): id is string => id !== undefined);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);
    return ids.length;
  } finally {
    admin.disconnect();
  }
}

describe.skipIf(db === undefined)('two keruta-api instances on one PostgreSQL and one Redis', () => {
  let a: SpawnedServer;
  let b: SpawnedServer;
  const spawn = () =>
    spawnServer({
      env: {
        KERUTA_DATABASE_URL: db!.url,
        KERUTA_BUS_URL: `${TEST_REDIS_URL}?channelPrefix=${encodeURIComponent(PREFIX)}`,
        KERUTA_LOG_LEVEL: 'warn',
      },
    });
  beforeAll(async () => {
    [a, b] = await Promise.all([spawn(), spawn()]);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  it('gives 50 subscribers on B, joining at random moments with since or tail, exactly the contiguous range of 100,000 lines written through A', { timeout: 90_000 }, async () => {
    const TOTAL = 100_000;
    const taskId = 'fan-out';
    const next = random(7);
    const writer = startWriter({ wsUrls: [a.wsUrl], taskId, runId: 'fan-out-run', total: TOTAL, batchSize: 1000, inFlight: 2 });
    const joining = Array.from({ length: 50 }, async (_, i) => {
      await sleep(next() * 3000);
      // Resuming clients: a since up to 5,000 lines back, or a tail of up to 2,000.
      const since = Math.max(0, writer.written - Math.floor(next() * 5000));
      return i % 3 === 0
        ? startSubscriber({ url: b.wsUrl, taskId, tail: Math.floor(next() * 2000) })
        : startSubscriber({ url: b.wsUrl, taskId, since });
    });
    const subscribers = await Promise.all(joining);
    await writer.done;
    await Promise.all(subscribers.map((s) => s.waitFor(TOTAL, 60_000)));
    await sleep(1200);
    const live = subscriberTallies(subscribers, TOTAL);
    const store = storeTally(await stored(b, taskId), TOTAL);
    const joinedAt = subscribers.map((s) => s.first ?? 0).sort((x, y) => x - y);
    console.log(
      `100,000 lines through A, 50 subscribers on B (first seqs ${joinedAt[0]}…${joinedAt[joinedAt.length - 1]}): ` +
        `${JSON.stringify(live)}; store ${JSON.stringify(store)}`,
    );
    for (const s of subscribers) s.close();
    expect(live).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
    expect(store).toEqual({ lost: 0, duplicates: 0, contiguous: true });
    // The joins really were spread over the write.
    expect(new Set(joinedAt).size).toBeGreaterThan(10);
  });

  it('keeps seq contiguous and every line once when two writers append to one task through different instances', async () => {
    const taskId = 'two-writers';
    const subscribers = [await startSubscriber({ url: a.wsUrl, taskId, since: 0 }), await startSubscriber({ url: b.wsUrl, taskId, since: 0 })];
    const writers = [
      startWriter({ wsUrls: [a.wsUrl], taskId, runId: 'via-a', total: 20_000, batchSize: 250 }),
      startWriter({ wsUrls: [b.wsUrl], taskId, runId: 'via-b', total: 20_000, batchSize: 250 }),
    ];
    await Promise.all(writers.map((w) => w.done));
    await Promise.all(subscribers.map((s) => s.waitFor(40_000)));
    await sleep(1200);
    const store = storeTally(await stored(a, taskId), 40_000);
    const live = subscriberTallies(subscribers, 40_000);
    console.log(`two writers, 20,000 lines each through A and B: store ${JSON.stringify(store)}; subscribers ${JSON.stringify(live)}`);
    for (const s of subscribers) s.close();
    expect(store).toEqual({ lost: 0, duplicates: 0, contiguous: true });
    expect(live).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('loses and repeats nothing when A is killed with SIGKILL mid-stream and the writer moves to B', async () => {
    const taskId = 'a-killed';
    const TOTAL = 40_000;
    const subscribers = await Promise.all([0, 1, 2].map(() => startSubscriber({ url: b.wsUrl, taskId, since: 0 })));
    const writer = startWriter({ wsUrls: [a.wsUrl, b.wsUrl], taskId, runId: 'killed-run', total: TOTAL, batchSize: 500 });
    while (writer.written < 10_000) await sleep(5);
    await a.kill('SIGKILL');
    await writer.done;
    await Promise.all(subscribers.map((s) => s.waitFor(TOTAL)));
    await sleep(1200);
    const store = storeTally(await stored(b, taskId), TOTAL);
    const live = subscriberTallies(subscribers, TOTAL);
    console.log(
      `SIGKILL of A after ${10_000}+ acked lines: writer reconnected ${writer.reconnects}×, resent ${writer.resent} batches; ` +
        `store ${JSON.stringify(store)}; subscribers on B ${JSON.stringify(live)}`,
    );
    for (const s of subscribers) s.close();
    await a.restart();
    expect(writer.reconnects).toBeGreaterThanOrEqual(1);
    expect(store).toEqual({ lost: 0, duplicates: 0, contiguous: true });
    expect(live).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
  });

  it('loses and repeats nothing when PostgreSQL sessions are terminated and Redis connections killed mid-stream', async () => {
    const taskId = 'connections-killed';
    const TOTAL = 40_000;
    const subscribers = await Promise.all([
      startSubscriber({ url: b.wsUrl, taskId, since: 0 }),
      startSubscriber({ url: b.wsUrl, taskId, tail: 100 }),
      startSubscriber({ url: a.wsUrl, taskId, since: 0 }),
    ]);
    const writer = startWriter({ wsUrls: [a.wsUrl], taskId, runId: 'cut-run', total: TOTAL, batchSize: 250 });
    let terminated = 0;
    let killed = 0;
    for (const at of [8_000, 16_000, 24_000]) {
      while (writer.written < at) await sleep(2);
      terminated += await db!.terminateConnections();
      killed += await killRedisClients();
    }
    await writer.done;
    await Promise.all(subscribers.map((s) => s.waitFor(TOTAL)));
    await sleep(1200);
    const store = storeTally(await stored(b, taskId), TOTAL);
    const live = subscriberTallies(subscribers, TOTAL);
    console.log(
      `pg_terminate_backend on ${terminated} sessions and CLIENT KILL on ${killed} Redis connections, 3 times mid-stream: ` +
        `writer resent ${writer.resent} batches; store ${JSON.stringify(store)}; subscribers ${JSON.stringify(live)}`,
    );
    for (const s of subscribers) s.close();
    expect(terminated).toBeGreaterThan(0);
    expect(killed).toBeGreaterThanOrEqual(4);
    expect(store).toEqual({ lost: 0, duplicates: 0, contiguous: true });
    expect(live).toMatchObject({ lost: 0, duplicates: 0, outOfOrder: 0 });
    for (const server of [a, b]) expect((await fetch(`${server.baseUrl}/health`)).status).toBe(200);
  });
});
