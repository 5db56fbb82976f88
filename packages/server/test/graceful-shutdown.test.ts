// SIGTERM on a real keruta-api process: it stops taking frames, stores and acknowledges the
// batches it already took, closes every WebSocket with 1001 (going away: reconnect) and exits 0
// within 10 s. Whatever it did not acknowledge it did not store, so an agent can always resend.
import { describe, expect, it } from 'vitest';
import type { AckMessage } from '@keruta/protocol';
import { connectClient, makeTempDir, readJson, spawnServer, type RecordingClient, type SpawnedServer } from '@keruta/testing';

const BATCHES = 200;
const BATCH = 500;
const TASK = 'shutdown';

function batch(index: number) {
  const first = index * BATCH + 1;
  return {
    type: 'logs',
    batchId: `b${index}`,
    entries: Array.from({ length: BATCH }, (_, i) => ({
      source: 'stdout',
      level: 'INFO',
      message: `line ${first + i} ${'x'.repeat(60)}`,
      runId: 'shutdown-run',
      runSeq: first + i,
    })),
  };
}

function closeCode(client: RecordingClient): Promise<number> {
  return new Promise((resolve) => client.ws.once('close', (code) => resolve(code)));
}

/** Every stored entry's runSeq, in seq order, read page by page by keyset. */
async function storedRunSeqs(server: SpawnedServer): Promise<{ seqs: number[]; runSeqs: number[] }> {
  const seqs: number[] = [];
  const runSeqs: number[] = [];
  for (let after = 0; ; ) {
    const page = await readJson(fetch(`${server.apiUrl}/tasks/${TASK}/logs?size=1000&afterSeq=${after}`));
    const content = (page.content ?? []) as { seq: number; runSeq: number }[];
    if (content.length === 0) break;
    for (const entry of content) {
      seqs.push(entry.seq);
      runSeqs.push(entry.runSeq);
    }
    after = content[content.length - 1]!.seq;
  }
  return { seqs, runSeqs };
}

describe('graceful shutdown on SIGTERM', () => {
  it('acknowledges every batch it stored, stores none it did not acknowledge, closes sockets with 1001 and exits 0 in time', async () => {
    await using dir = await makeTempDir();
    await using server = await spawnServer({ dataDir: dir.path });
    const agent = await connectClient(`${server.wsUrl}/${TASK}`);
    const subscriber = await connectClient(`${server.wsUrl}/${TASK}`);
    subscriber.send({ type: 'subscribe', options: { batch: true } });
    await subscriber.waitFor((m) => m.type === 'subscribed');
    const agentClosed = closeCode(agent);
    const subscriberClosed = closeCode(subscriber);

    for (let i = 0; i < BATCHES; i++) agent.send(batch(i));
    await agent.waitFor((m) => m.type === 'ack');
    const signalled = Date.now();
    await server.kill('SIGTERM');
    const exitMs = Date.now() - signalled;
    expect(server.exitCode).toBe(0);
    expect(exitMs).toBeLessThan(10_000);
    expect(await agentClosed).toBe(1001);
    expect(await subscriberClosed).toBe(1001);

    const acked = agent.messages.filter((m): m is AckMessage => m.type === 'ack').map((m) => Number(m.batchId.slice(1)));
    const refused = agent.messages.filter((m) => m.type === 'error');
    expect(refused).toEqual([]);

    await server.restart();
    const before = await storedRunSeqs(server);
    const ackedRunSeqs = acked.flatMap((i) => batch(i).entries.map((e) => e.runSeq)).sort((x, y) => x - y);
    const storedSet = new Set(before.runSeqs);
    const ackedSet = new Set(ackedRunSeqs);
    const storedUnacked = before.runSeqs.filter((r) => !ackedSet.has(r)).length;
    const ackedUnstored = ackedRunSeqs.filter((r) => !storedSet.has(r)).length;

    // The agent's side: resend everything it holds unacknowledged.
    await using again = await connectClient(`${server.wsUrl}/${TASK}`);
    const unacked = Array.from({ length: BATCHES }, (_, i) => i).filter((i) => !acked.includes(i));
    for (const i of unacked) again.send(batch(i));
    await again.waitFor((m) => m.type === 'ack' && m.batchId === `b${unacked[unacked.length - 1]}`, 30_000);
    const after = await storedRunSeqs(server);
    const lost = BATCHES * BATCH - new Set(after.runSeqs).size;
    const duplicates = after.runSeqs.length - new Set(after.runSeqs).size;
    console.log(
      `SIGTERM with ${BATCHES} batches sent: exit 0 after ${exitMs} ms; ${acked.length} acknowledged, ${before.runSeqs.length} lines stored; ` +
        `stored but unacknowledged ${storedUnacked}, acknowledged but not stored ${ackedUnstored}; after the resend: lost ${lost}, duplicates ${duplicates}`,
    );
    expect(acked.length).toBeGreaterThan(0);
    expect(acked.length).toBeLessThan(BATCHES);
    expect({ storedUnacked, ackedUnstored }).toEqual({ storedUnacked: 0, ackedUnstored: 0 });
    expect(before.runSeqs).toEqual(ackedRunSeqs);
    expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 });
    expect(after.seqs).toEqual(Array.from({ length: BATCHES * BATCH }, (_, i) => i + 1));
  });
});
