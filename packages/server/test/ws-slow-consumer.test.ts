// A subscriber that cannot keep up never grows the server's memory: it is fed from the store as
// its socket drains, and closed with SLOW_CONSUMER when it stops draining.
import { describe, expect, it } from 'vitest';
import { connectClient, spawnServer, startServer, type RecordingClient } from '@keruta/testing';
import { sleep, waitUntil } from '@keruta/testing/base';
import type { ErrorMessage } from '@keruta/protocol';

async function write(agent: RecordingClient, from: number, count: number, batch = 1000): Promise<void> {
  for (let first = from; first < from + count; first += batch) {
    const entries = Array.from({ length: Math.min(batch, from + count - first) }, (_, i) => ({
      source: 'stdout',
      level: 'INFO',
      message: `line ${first + i} ${'y'.repeat(180)}`,
      runId: 'slow',
      runSeq: first + i,
    }));
    agent.send({ type: 'logs', batchId: `b${first}`, entries });
  }
  await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === from + count - 1, 60_000);
}

/** Stops reading from the socket, as a client whose event loop is stuck would. */
function stopReading(client: RecordingClient): () => void {
  const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.pause();
  return () => socket.resume();
}

describe('slow consumers', () => {
  it('closes with SLOW_CONSUMER when the queue exceeds its limit and the socket does not drain in time', async () => {
    await using server = await startServer({ config: { subscriberHighWaterBytes: 64 * 1024, slowConsumerTimeoutMs: 300 } });
    await using agent = await connectClient(`${server.wsUrl}/slow`);
    await using slow = await connectClient(`${server.wsUrl}/slow`);
    slow.send({ type: 'subscribe', options: { since: 0 } });
    await slow.waitFor((m) => m.type === 'subscribed');
    const resume = stopReading(slow);
    await write(agent, 1, 60_000);
    // Read again as soon as the server has given up on the subscriber, well within its close grace.
    const slowCount = async () => Number(/^keruta_slow_consumers_total (\d+)/m.exec(await (await fetch(`${server.baseUrl}/metrics`)).text())?.[1]);
    await waitUntil(async () => (await slowCount()) >= 1, 'the server to give up on the subscriber');
    resume();
    const error = await slow.waitFor<ErrorMessage>((m) => m.type === 'error');
    expect(error.code).toBe('SLOW_CONSUMER');
    expect(error.message).toMatch(/since/);
    const closeCode = await new Promise<number>((resolve) => slow.ws.once('close', (code) => resolve(code)));
    expect(closeCode).toBe(4008);
    // What it did receive is a gap-free prefix, so `since` resumes it exactly.
    const seqs = slow.entries.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(text).toMatch(/keruta_slow_consumers_total 1/);

    // Resuming with since gets the rest: nothing lost, nothing repeated.
    await using resumed = await connectClient(`${server.wsUrl}/slow`);
    resumed.send({ type: 'subscribe', options: { since: seqs.length, batch: true } });
    await resumed.waitForEntries(60_000 - seqs.length);
    expect([...seqs, ...resumed.entries.map((e) => e.seq)]).toEqual(Array.from({ length: 60_000 }, (_, i) => i + 1));
  });

  it('holds at most its high-water mark for a subscriber that never reads while a writer appends 250,000 lines', async () => {
    const highWater = 256 * 1024;
    await using server = await spawnServer({
      env: { KERUTA_SUBSCRIBER_HIGH_WATER_BYTES: String(highWater), KERUTA_SLOW_CONSUMER_TIMEOUT_MS: '600000' },
    });
    await using agent = await connectClient(`${server.wsUrl}/flat`);
    await write(agent, 1, 20_000);
    const idle = await connectClient(`${server.wsUrl}/flat`);
    idle.send({ type: 'subscribe', options: { since: 0 } });
    await idle.waitFor((m) => m.type === 'subscribed');
    stopReading(idle);
    const buffered = async () => {
      const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
      return Number(/^keruta_ws_buffered_bytes (\d+)/m.exec(text)?.[1]);
    };
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await buffered());
        await sleep(10);
      }
    })();
    await write(agent, 20_001, 250_000);
    sampling = false;
    await sampler;
    // 270,000 frames of ~300 bytes would be ~80 MB; the queue stays at the mark plus one chunk.
    expect(peak).toBeGreaterThan(highWater / 2);
    expect(peak).toBeLessThan(highWater + 1024 * 1024);
    expect(idle.ws.readyState).toBe(idle.ws.OPEN);
    idle.ws.terminate();
  });
});
