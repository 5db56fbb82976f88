// The seam: history then live with no gap and no duplicate, for subscribers that join while a
// writer appends at full speed.
import { describe, expect, it } from 'vitest';
import { connectClient, startServer, type RecordingClient } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';
import type { SubscribedMessage } from '@keruta/protocol';

const TOTAL = 60_000;
const BATCH = 500;

function line(seq: number) {
  return { source: 'stdout', level: 'INFO', message: `line ${seq} ${'x'.repeat(80)}`, runId: 'seam-run', runSeq: seq };
}

async function writeAll(agent: RecordingClient, total: number): Promise<void> {
  for (let first = 1; first <= total; first += BATCH) {
    const entries = Array.from({ length: Math.min(BATCH, total - first + 1) }, (_, i) => line(first + i));
    agent.send({ type: 'logs', batchId: `b${first}`, entries });
    // Let subscribers join between batches, as they would against a real agent.
    if ((first - 1) % (BATCH * 4) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === total, 60_000);
}

function expectContiguous(seqs: number[], first: number, last: number): void {
  const expected = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const missing = expected.length - new Set(seqs).size;
  const duplicates = seqs.length - new Set(seqs).size;
  expect({ missing, duplicates, count: seqs.length }).toEqual({ missing: 0, duplicates: 0, count: expected.length });
  expect(seqs).toEqual(expected);
}

describe('WebSocket seam between history and live', () => {
  it('gives each of 20 subscribers that join at random moments with since/tail exactly the contiguous seq range it asked for', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/seam`);
    const subscribers: { client: RecordingClient; since?: number; tail?: number }[] = [];
    const writing = writeAll(agent, TOTAL);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20; i++) {
      await sleep(random() * 40);
      const client = await connectClient(`${server.wsUrl}/seam`);
      const batch = i % 2 === 0;
      if (i % 3 === 0) {
        const tail = Math.floor(random() * 5000);
        client.send({ type: 'subscribe', options: { tail, batch } });
        subscribers.push({ client, tail });
      } else {
        const since = Math.floor(random() * TOTAL * 0.5);
        client.send({ type: 'subscribe', options: { since, batch } });
        subscribers.push({ client, since });
      }
    }
    await writing;
    for (const { client, since, tail } of subscribers) {
      const subscribed = await client.waitFor<SubscribedMessage>((m) => m.type === 'subscribed');
      const first = since !== undefined ? since + 1 : Math.max(1, subscribed.lastSeq - (tail ?? 0) + 1);
      await client.waitForEntries(TOTAL - first + 1, 30_000);
      await sleep(20);
      expectContiguous(
        client.entries.map((e) => e.seq),
        first,
        TOTAL,
      );
      await client.close();
    }
  });

  it('sends only live lines to a subscriber without since or tail, starting right after the lastSeq it was told', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/live`);
    const writing = writeAll(agent, 20_000);
    await sleep(30);
    await using client = await connectClient(`${server.wsUrl}/live`);
    client.send({ type: 'subscribe', taskId: 'live', options: { sources: ['stdout', 'stderr', 'agent'], levels: ['DEBUG', 'INFO', 'WARN', 'ERROR'], realtime: true } });
    const subscribed = await client.waitFor<SubscribedMessage>((m) => m.type === 'subscribed');
    await writing;
    await client.waitForEntries(20_000 - subscribed.lastSeq);
    expectContiguous(client.entries.map((e) => e.seq), subscribed.lastSeq + 1, 20_000);
  });

  it('applies source and level filters to history and live alike, in seq order without duplicates', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/filtered`);
    const levels = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
    const sources = ['stdout', 'stderr'] as const;
    const entry = (seq: number) => ({
      source: sources[seq % 2],
      level: levels[seq % 4],
      message: `m${seq}`,
      runId: 'f',
      runSeq: seq,
    });
    agent.send({ type: 'logs', batchId: 'a', entries: Array.from({ length: 1000 }, (_, i) => entry(i + 1)) });
    await agent.waitFor((m) => m.type === 'ack' && m.batchId === 'a');
    await using client = await connectClient(`${server.wsUrl}/filtered`);
    client.send({ type: 'subscribe', options: { since: 0, sources: ['stderr'], levels: ['WARN', 'ERROR'], batch: true } });
    await client.waitFor((m) => m.type === 'subscribed');
    agent.send({ type: 'logs', batchId: 'b', entries: Array.from({ length: 1000 }, (_, i) => entry(i + 1001)) });
    // stderr = odd seqs; WARN/ERROR = seq % 4 in {2,3}; both = seq % 4 == 3.
    const expected = Array.from({ length: 2000 }, (_, i) => i + 1).filter((s) => s % 4 === 3);
    await client.waitForEntries(expected.length);
    expect(client.entries.map((e) => e.seq)).toEqual(expected);
    expect(client.entries.every((e) => e.source === 'stderr' && e.level === 'ERROR')).toBe(true);
  });

  it('ends a subscription with realtime false after the history it asked for', async () => {
    await using server = await startServer();
    await using agent = await connectClient(`${server.wsUrl}/history`);
    agent.send({ type: 'logs', batchId: 'a', entries: Array.from({ length: 300 }, (_, i) => line(i + 1)) });
    await agent.waitFor((m) => m.type === 'ack');
    await using client = await connectClient(`${server.wsUrl}/history`);
    client.send({ type: 'subscribe', options: { tail: 100, realtime: false } });
    await client.waitForEntries(100);
    agent.send({ type: 'logs', batchId: 'b', entries: Array.from({ length: 50 }, (_, i) => line(i + 301)) });
    await agent.waitFor((m) => m.type === 'ack' && m.batchId === 'b');
    await sleep(100);
    expectContiguous(client.entries.map((e) => e.seq), 201, 300);
  });
});
