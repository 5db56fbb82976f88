// What an operator relies on: the /metrics families for scaling out, and a PostgreSQL store that
// goes away and comes back while keruta-api keeps running, answers with coded errors meanwhile,
// and recovers on its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorMessage, SubscribedMessage } from '@keruta/protocol';
import {
  TEST_REDIS_URL,
  connectClient,
  createTestDatabase,
  readJson,
  redisAnswers,
  startServer,
  warnRedisMissing,
  type RecordingClient,
  type TestDatabase,
} from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const redisUp = await redisAnswers();
if (!redisUp) warnRedisMissing('operations.test.ts');

async function metricsText(baseUrl: string): Promise<string> {
  return (await fetch(`${baseUrl}/metrics`)).text();
}

function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function closeCode(client: RecordingClient): Promise<number> {
  return new Promise((resolve) => client.ws.once('close', (code) => resolve(code)));
}

describe('/metrics', () => {
  it('counts subscribers, agent events, ingest per second and store latency, and has the bus lag histogram', async () => {
    await using server = await startServer();
    await using subscriber = await connectClient(`${server.wsUrl}/metered`);
    subscriber.send({ type: 'subscribe', options: {} });
    await subscriber.waitFor((m) => m.type === 'subscribed');
    const entries = [
      { source: 'agent', level: 'WARN', message: 'keeping lines on disk', metadata: { event: 'spooled' } },
      ...Array.from({ length: 99 }, (_, i) => ({ source: 'stdout', level: 'INFO', message: `line ${i}` })),
    ];
    expect((await fetch(`${server.apiUrl}/tasks/metered/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entries) })).status).toBe(201);
    // The rate covers whole seconds that have ended.
    await sleep(1100);
    const text = await metricsText(server.baseUrl);
    expect(sample(text, 'keruta_subscribers ')).toBe(1);
    expect(sample(text, 'keruta_entries_appended_total{path="rest"}')).toBe(100);
    expect(sample(text, 'keruta_agent_events_total{event="spooled"}')).toBe(1);
    expect(sample(text, 'keruta_ingest_entries_per_second ')).toBe(10);
    expect(sample(text, 'keruta_store_latency_seconds_count{operation="append"}')).toBe(1);
    expect(sample(text, 'keruta_bus_lag_seconds_count ')).toBe(0);
    expect(sample(text, 'keruta_bus_store_ahead_total ')).toBe(0);
    expect(sample(text, 'keruta_ingest_failures_total')).toBeUndefined();
  });
});

describe('a PostgreSQL store that goes away and comes back', () => {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase('operations.test.ts');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps the server running, answers DATABASE_ERROR and WEBSOCKET_CONNECTION_FAILED meanwhile, and recovers on its own', async (context) => {
    if (db === undefined) return context.skip();
    const database = db;
    await using server = await startServer({ config: { databaseUrl: database.url, ...(redisUp ? { busUrl: TEST_REDIS_URL } : {}) } });
    const post = (message: string) =>
      fetch(`${server.apiUrl}/tasks/outage/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'stdout', level: 'INFO', message }) });
    expect((await post('before')).status).toBe(201);
    await using agent = await connectClient(`${server.wsUrl}/outage`);

    await database.allowConnections(false);
    await database.terminateConnections();

    const refused = await post('during');
    expect(refused.status).toBe(500);
    expect(await readJson(refused)).toMatchObject({ code: 'DATABASE_ERROR' });
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(503);
    expect(await readJson(health)).toMatchObject({ status: 'unhealthy', checks: { store: { status: 'down' }, bus: { status: 'up' } } });
    // An agent's batch is refused, not acknowledged, and its connection closed: the agent keeps
    // the batch and sends it again on a new connection.
    const agentClosed = closeCode(agent);
    agent.send({ type: 'logs', batchId: 'during', entries: [{ source: 'stdout', level: 'INFO', message: 'during', runId: 'r', runSeq: 1 }] });
    const batchError = await agent.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(batchError).toMatchObject({ code: 'DATABASE_ERROR', batchId: 'during' });
    expect(await agentClosed).toBe(1011);
    expect(agent.messages.some((m) => m.type === 'ack')).toBe(false);
    // A subscriber is told to come back later (1013), which every client does with backoff.
    const subscriber = await connectClient(`${server.wsUrl}/outage`);
    const closed = closeCode(subscriber);
    subscriber.send({ type: 'subscribe', options: { since: 0 } });
    expect(await closed).toBe(1013);
    expect(subscriber.messages).toContainEqual(expect.objectContaining({ type: 'error', code: 'WEBSOCKET_CONNECTION_FAILED' }));
    expect(await metricsText(server.baseUrl)).toMatch(/keruta_ingest_failures_total\{path="rest"\} 1/);

    await database.allowConnections(true);
    await expect.poll(async () => (await fetch(`${server.baseUrl}/health`)).status, { timeout: 10_000 }).toBe(200);
    expect((await post('after')).status).toBe(201);
    await using agentAgain = await connectClient(`${server.wsUrl}/outage`);
    agentAgain.send({ type: 'logs', batchId: 'again', entries: [{ source: 'stdout', level: 'INFO', message: 'during', runId: 'r', runSeq: 1 }] });
    await agentAgain.waitFor((m) => m.type === 'ack' && m.batchId === 'again');
    await using back = await connectClient(`${server.wsUrl}/outage`);
    back.send({ type: 'subscribe', options: { since: 0 } });
    const subscribed = await back.waitFor<SubscribedMessage>((m) => m.type === 'subscribed');
    expect(subscribed.lastSeq).toBe(3);
    await back.waitForEntries(3);
    expect(back.entries.map((e) => e.message)).toEqual(['before', 'after', 'during']);
  });
});
