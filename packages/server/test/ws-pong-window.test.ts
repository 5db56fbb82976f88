// A subscriber's window of unconfirmed bytes: the server hands a connection at most about
// WINDOW_BYTES that the peer has not confirmed by answering a protocol ping, however much the
// kernel would still take (on loopback a socket's buffers absorb megabytes); the rest waits in the
// server, where the subscriber budget sees it.
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import { connectClient, spawnServer } from '@keruta/testing';
import { sleep } from '@keruta/testing/base';
import { WINDOW_BYTES } from '../src/ws/pong-window.js';

const LINES = 20_000;
const BATCH = 500;
const LINE = 'x'.repeat(1000);

/** A raw subscriber (one frame per line) that counts the bytes of the log frames it gets. */
async function subscriber(url: string) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const got = { logBytes: 0, lastSeq: 0, inOrder: true, errors: [] as string[] };
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  let subscribed: () => void = () => {};
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    const seq = /^\{"type":"log",.*?"seq":(\d+)/.exec(text)?.[1];
    if (seq !== undefined) {
      if (Number(seq) !== got.lastSeq + 1) got.inOrder = false;
      got.lastSeq = Number(seq);
      got.logBytes += data.length;
      return;
    }
    const message = JSON.parse(text) as { type: string; code?: string };
    if (message.type === 'subscribed') subscribed();
    if (message.type === 'error') got.errors.push(message.code ?? '');
  });
  ws.send(JSON.stringify({ type: 'subscribe', options: { since: 0 } }));
  await ready;
  return { ws, socket: (ws as unknown as { _socket: Socket })._socket, got, closed };
}

describe('the window of unconfirmed bytes per connection', () => {
  it('closes a subscriber that stopped reading after at most about WINDOW of unconfirmed bytes, though the kernel would take more, while a reading subscriber on the same task gets every line', async () => {
    await using server = await spawnServer({
      // A budget well under what is written, and a high-water mark above it: the frames held for
      // the one that stopped reading are what the budget cuts (the reader holds at most a burst).
      env: {
        KERUTA_SUBSCRIBER_BUFFER_BYTES: String(8 * 1024 * 1024),
        KERUTA_SUBSCRIBER_HIGH_WATER_BYTES: String(16 * 1024 * 1024),
        KERUTA_SLOW_CONSUMER_TIMEOUT_MS: '600000',
      },
    });
    const stalled = await subscriber(`${server.wsUrl}/window`);
    stalled.socket.pause();
    const reader = await subscriber(`${server.wsUrl}/window`);

    await using agent = await connectClient(`${server.wsUrl}/window`);
    for (let first = 1; first <= LINES; first += BATCH) {
      const entries = Array.from({ length: BATCH }, (_, i) => ({ source: 'stdout', level: 'INFO', message: `line ${first + i} ${LINE}`, runId: 'window', runSeq: first + i }));
      // One batch at a time, as the agent sends them: the server reads the reader's pongs between.
      agent.send({ type: 'logs', batchId: `b${first}`, entries });
      await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === first + BATCH - 1, 60_000);
    }
    const deadline = Date.now() + 60_000;
    while (reader.got.lastSeq < LINES && Date.now() < deadline) await sleep(50);
    // The budget cuts it (the slow-consumer timeout is ten minutes) once its ping is PONG_GRACE_MS late.
    const slowConsumersNow = async () => Number(/^keruta_slow_consumers_total (\d+)/m.exec(await (await fetch(`${server.baseUrl}/metrics`)).text())?.[1]);
    let slowConsumers = await slowConsumersNow();
    while (slowConsumers === 0 && Date.now() < deadline + 15_000) {
      await sleep(100);
      slowConsumers = await slowConsumersNow();
    }

    // Now let the stalled one read what the server had handed its socket, then its error and close.
    stalled.socket.resume();
    const code = await Promise.race([stalled.closed, new Promise<number>((resolve) => setTimeout(() => resolve(0), 20_000))]);
    const written = LINES * (LINE.length + 100);
    console.log(
      `${Math.round(written / 2 ** 20)} MB written; the subscriber that stopped reading was handed ${Math.round(stalled.got.logBytes / 1024)} KB ` +
        `(window ${WINDOW_BYTES / 1024} KB), then closed with ${code}; the reader got ${reader.got.lastSeq} of ${LINES}`,
    );

    expect(reader.got.lastSeq).toBe(LINES);
    expect(reader.got.inOrder).toBe(true);
    expect(reader.got.errors).toEqual([]);
    expect(slowConsumers).toBe(1);
    expect(code).toBe(4008);
    expect(stalled.got.errors).toEqual(['SLOW_CONSUMER']);
    expect(stalled.got.inOrder).toBe(true);
    // What reached its socket: the window and the write that crossed it, one batch's lines in
    // one write (on the code before, the kernel took 4 MB of frames the peer never read).
    expect(stalled.got.logBytes).toBeLessThanOrEqual(WINDOW_BYTES + BATCH * (LINE.length + 200));
    expect(stalled.got.lastSeq).toBeGreaterThan(0);
    reader.ws.terminate();
  }, 240_000);
});
