// Subscribers that fall behind the live feed catch up — from the batches the task's feed still
// holds, else from the store — and still receive every entry they asked for once, in order,
// filters applied.
import { describe, expect, it } from 'vitest';
import { connectClient, startServer, type RecordingClient } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';

const TOTAL = 30_000;

function line(n: number) {
  return { source: n % 3 === 0 ? 'stderr' : 'stdout', level: n % 5 === 0 ? 'ERROR' : 'INFO', message: `line ${n} ${'z'.repeat(120)}`, runId: 'catch-up', runSeq: n };
}

/** Stops reading from the socket for `ms`, as a client whose event loop is busy would. */
function stall(client: RecordingClient, ms: number): void {
  const socket = (client.ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.pause();
  setTimeout(() => socket.resume(), ms);
}

describe('subscribers that fall behind', () => {
  it('catch up with no gap and no duplicate, filters applied, however far behind they fell', async () => {
    await using server = await startServer({ config: { subscriberHighWaterBytes: 64 * 1024 } });
    await using agent = await connectClient(`${server.wsUrl}/behind`);
    const subscribers = await Promise.all(
      [
        { batch: true },
        { batch: false },
        { batch: true, sources: ['stderr'] },
        { batch: false, levels: ['ERROR'], sources: ['stdout'] },
      ].map(async (options) => {
        const client = await connectClient(`${server.wsUrl}/behind`);
        client.send({ type: 'subscribe', options });
        await client.waitFor((m) => m.type === 'subscribed');
        return { client, options };
      }),
    );
    subscribers.forEach(({ client }, i) => stall(client, 100 + i * 250));
    for (let first = 1; first <= TOTAL; first += 500) {
      agent.send({ type: 'logs', batchId: `b${first}`, entries: Array.from({ length: 500 }, (_, i) => line(first + i)) });
    }
    await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === TOTAL, 60_000);
    for (const { client, options } of subscribers) {
      const wanted = Array.from({ length: TOTAL }, (_, i) => i + 1).filter((n) => {
        const { source, level } = line(n);
        return (options.sources?.includes(source) ?? true) && ((options as { levels?: string[] }).levels?.includes(level) ?? true);
      });
      await client.waitForEntries(wanted.length, 30_000);
      await sleep(50);
      expect(client.entries.map((e) => e.seq)).toEqual(wanted);
    }
  });
});
