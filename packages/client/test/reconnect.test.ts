// LogStreamingClient across connection loss: a killed and restarted server, a server that cuts a
// slow subscriber (SLOW_CONSUMER), a 4008 close, and a silent peer found by the heartbeat. Every
// time it resumes with `since`, and every line arrives exactly once, in order.
import WebSocket, { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { connectClient, spawnServer, startServer } from '@keruta/testing';
import { startWriter } from '@keruta/testing/base';
import type { ErrorMessage } from '@keruta/protocol';
import { LogStreamingClient, createRestClient, type ConnectionStateChange, type WebSocketConstructor } from '../src/index.js';
import { range, record, sleep, subscribedOnce, waitUntil } from './helpers.js';

describe('LogStreamingClient reconnects and resumes with since', () => {
  it('resumes after the server is killed and restarted: nothing lost or repeated', async () => {
    await using server = await spawnServer();
    const writer = startWriter({ apiUrl: server.apiUrl, taskId: 'restart', batchSize: 10, pauseMs: 5 });
    const client = new LogStreamingClient('restart', { url: server.wsUrl, since: 0, reconnectInterval: 50, maxReconnectInterval: 200, maxReconnectAttempts: Infinity });
    try {
      const seen = record(client);
      const changes: ConnectionStateChange[] = [];
      client.on('state', (change) => changes.push(change));
      await waitUntil(() => seen.log.length >= 300, '300 lines before the kill');
      await server.kill('SIGKILL');
      await sleep(300);
      await server.restart();
      await waitUntil(
        () => client.state === 'open' && seen.log.length >= writer.written,
        () => `the client back and caught up: ${client.state} at seq ${client.lastSeq} (${seen.log.length} lines), ${writer.written} written, states ${JSON.stringify(changes.slice(-6))}`,
      );
      // And a graceful restart (close code 1001, going away).
      await server.kill('SIGTERM');
      await server.restart();
      const before = writer.written;
      await waitUntil(() => writer.written >= before + 300, 'more lines after the second restart');
      const total = await writer.stop();
      await waitUntil(
        () => client.lastSeq === total,
        () => `seq ${total}: the client is ${client.state} at seq ${client.lastSeq}, states ${JSON.stringify(changes.slice(-6))}`,
      );
      expect(seen.log.map((e) => e.seq)).toEqual(range(1, total));
      expect(seen.logs.map((e) => e.seq)).toEqual(range(1, total));
      const lost = changes.filter((c) => c.state === 'reconnecting' && c.attempt === 1);
      expect(lost.length).toBeGreaterThanOrEqual(2);
      expect(lost.map((c) => c.code)).toContain(1001);
    } finally {
      await client.disconnect();
    }
  });

  it('resumes after SLOW_CONSUMER without losing or repeating a line', async () => {
    await using server = await startServer({ config: { subscriberHighWaterBytes: 64 * 1024, slowConsumerTimeoutMs: 300 } });
    const sockets: WebSocket[] = [];
    // `ws`'s own class, recorded so that the test can stop reading from the socket like a stuck page.
    class RecordedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const client = new LogStreamingClient('slow', { url: server.wsUrl, since: 0, WebSocket: RecordedWebSocket as unknown as WebSocketConstructor });
    try {
      const seen = record(client);
      const errors: ErrorMessage[] = [];
      const changes: ConnectionStateChange[] = [];
      client.on('error', (message) => errors.push(message));
      client.on('state', (change) => changes.push(change));
      await subscribedOnce(client);
      const socket = (sockets[0] as unknown as { _socket: import('node:net').Socket })._socket;
      socket.pause();
      await using agent = await connectClient(`${server.wsUrl}/slow`);
      const total = 60_000;
      for (let first = 1; first <= total; first += 1000) {
        const entries = range(first, first + 999).map((i) => ({ source: 'stdout', level: 'INFO', message: `line ${i} ${'y'.repeat(180)}`, runId: 'slow', runSeq: i }));
        agent.send({ type: 'logs', batchId: `b${first}`, entries });
      }
      await agent.waitFor((m) => m.type === 'ack' && m.lastSeq === total, 60_000);
      await sleep(600);
      socket.resume();
      await waitUntil(() => client.lastSeq === total, () => `all ${total} lines (at ${client.lastSeq}, ${client.state})`, 60_000);
      // The server really cut this subscriber off, and the client came back on a new socket.
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      // (On a loaded machine the resumed subscriber may be cut again, and resume again.)
      expect(Number(/^keruta_slow_consumers_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      expect(seen.log.map((e) => e.seq)).toEqual(range(1, total));
      // When the error frame and the 4008 close got through before the server gave up waiting
      // (2 s), the client said so and came back at once.
      if (errors.length > 0) expect(errors.map((e) => e.code)).toEqual(['SLOW_CONSUMER']);
      const cut = changes.find((c) => c.state === 'reconnecting');
      if (cut?.code === 4008) expect(cut.delayMs).toBe(0);
    } finally {
      await client.disconnect();
    }
  });

  it('resumes after a 4008 close at once, subscribing with since = the last seq delivered', async () => {
    await using server = await startServer();
    const rest = createRestClient({ baseUrl: server.apiUrl });
    await rest.postLogs('cut', range(1, 5).map((i) => ({ source: 'stdout' as const, level: 'INFO' as const, message: `line ${i}` })));
    const sent: unknown[] = [];
    class SendRecordingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        const send = this.send.bind(this);
        this.send = ((data: string) => {
          sent.push(JSON.parse(data));
          send(data);
        }) as WebSocket['send'];
      }
    }
    const client = new LogStreamingClient('cut', {
      url: server.wsUrl,
      since: 0,
      reconnectInterval: 60_000,
      WebSocket: SendRecordingWebSocket as unknown as WebSocketConstructor,
    });
    try {
      const seen = record(client);
      await waitUntil(() => seen.log.length === 5, 'the first 5 lines');
      // 4008 is the close code of a subscriber the server cut off: come back now, not in a minute.
      (client.ws as unknown as WebSocket).close(4008, 'SLOW_CONSUMER');
      await waitUntil(() => sent.length === 2 && client.state === 'open', 'the second subscription', 5000);
      await rest.postLogs('cut', { source: 'stdout', level: 'INFO', message: 'line 6' });
      await waitUntil(() => seen.log.length === 6, 'line 6');
      expect(sent).toEqual([
        { type: 'subscribe', taskId: 'cut', options: { realtime: true, batch: true, since: 0 } },
        { type: 'subscribe', taskId: 'cut', options: { realtime: true, batch: true, since: 5 } },
      ]);
      expect(seen.log.map((e) => e.seq)).toEqual(range(1, 6));
    } finally {
      await client.disconnect();
    }
  });

  it('drops a connection whose peer has gone silent (heartbeat) and reconnects', async () => {
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const connections: string[] = [];
    silent.on('connection', (_socket, request) => connections.push(request.url ?? ''));
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    const { port } = silent.address() as import('node:net').AddressInfo;
    const client = new LogStreamingClient('quiet', { url: `ws://127.0.0.1:${port}/ws/tasks`, heartbeatInterval: 100, reconnectInterval: 10 });
    try {
      const changes: ConnectionStateChange[] = [];
      client.on('state', (change) => changes.push(change));
      await waitUntil(() => connections.length >= 2, 'a second connection', 5000);
      expect(changes.find((c) => c.state === 'reconnecting')).toMatchObject({ code: 4000, reason: 'heartbeat timeout' });
    } finally {
      await client.disconnect();
      for (const socket of silent.clients) socket.terminate();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
