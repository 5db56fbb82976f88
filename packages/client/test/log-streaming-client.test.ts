// LogStreamingClient against a real keruta-api: live lines, the history/live seam, filters, task
// events, and the guide's API surface (on, emit, handleMessage, disconnect, events).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, freePort, startServer, type TestServer } from '@keruta/testing';
import { startWriter } from '@keruta/testing/base';
import type { ErrorMessage, LogEntry, PartialMessage, TaskMessage } from '@keruta/protocol';
import {
  LogStreamingClient,
  KerutaClientError,
  createRestClient,
  type ConnectionStateChange,
  type RestClient,
} from '../src/index.js';
import { lines, range, record, sleep, subscribedOnce, waitUntil } from './helpers.js';

let server: TestServer;
let rest: RestClient;
const clients: LogStreamingClient[] = [];

function open(taskId: string, options: ConstructorParameters<typeof LogStreamingClient>[1] = {}): LogStreamingClient {
  const client = new LogStreamingClient(taskId, { url: server.wsUrl, ...options });
  clients.push(client);
  return client;
}

function entry(seq: number, overrides: Partial<LogEntry> = {}): LogEntry {
  return {
    id: `handled-${seq}`,
    seq,
    taskId: 'handled',
    timestamp: '2026-01-01T00:00:00.000Z',
    source: 'stdout',
    level: 'INFO',
    message: `line ${seq}`,
    lineNumber: seq,
    metadata: {},
    ...overrides,
  };
}

beforeAll(async () => {
  server = await startServer();
  rest = createRestClient({ baseUrl: server.apiUrl });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.disconnect()));
  await server.close();
});

describe('LogStreamingClient', () => {
  it('delivers live lines as `log` events shaped like the usage guide\'s messages, and as `logs` batches', async () => {
    const client = open('live-lines');
    const seen = record(client);
    const states: ConnectionStateChange[] = [];
    client.on('state', (change) => states.push(change));
    expect(client.state).toBe('connecting');
    expect(await subscribedOnce(client)).toBe(0);
    expect(client.state).toBe('open');
    await rest.postLogs('live-lines', lines(3, (i) => ({ level: (['INFO', 'WARN', 'ERROR'] as const)[i - 1] ?? 'INFO', source: i === 2 ? 'stderr' : 'stdout' })));
    await waitUntil(() => seen.log.length === 3, '3 log events');
    const messages: unknown[] = [];
    client.on('log', (message) => messages.push(message));
    await rest.postLogs('live-lines', { source: 'stdout', level: 'DEBUG', message: 'fourth' });
    await waitUntil(() => messages.length === 1, 'the fourth line');
    expect(messages[0]).toMatchObject({ type: 'log', seq: 4, taskId: 'live-lines', source: 'stdout', level: 'DEBUG', message: 'fourth' });
    expect(seen.log.map((e) => [e.seq, e.source, e.level, e.message])).toEqual([
      [1, 'stdout', 'INFO', 'line 1'],
      [2, 'stderr', 'WARN', 'line 2'],
      [3, 'stdout', 'ERROR', 'line 3'],
      [4, 'stdout', 'DEBUG', 'fourth'],
    ]);
    expect(seen.logs.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(Date.parse(seen.log[0]?.timestamp ?? '')).not.toBeNaN();
    expect(client.lastSeq).toBe(4);
    expect(client.deliveredCount).toBe(4);
    await client.disconnect();
    expect(client.state).toBe('closed');
    expect(states.map((s) => s.state)).toEqual(['open', 'closed']);
  });

  it('sends history then live lines with no gap or duplicate at the seam while a writer posts continuously (since: 0)', async () => {
    const writer = startWriter({ apiUrl: server.apiUrl, taskId: 'seam-since', batchSize: 25, pauseMs: 2 });
    await waitUntil(() => writer.written >= 1000, '1000 lines written');
    const client = open('seam-since', { since: 0 });
    const seen = record(client);
    await waitUntil(() => seen.log.length > 1500, 'history and some live lines');
    const total = await writer.stop();
    await waitUntil(() => client.lastSeq === total, `seq ${total}`);
    expect(seen.log.map((e) => e.seq)).toEqual(range(1, total));
    expect(seen.logs.map((e) => e.seq)).toEqual(range(1, total));
    expect(seen.log.map((e) => e.message)).toEqual(range(1, total).map((i) => `line ${i}`));
  });

  it('starts with the last N lines (tail) and continues live without a gap', async () => {
    await rest.postLogs('seam-tail', lines(500));
    const writer = startWriter({ apiUrl: server.apiUrl, taskId: 'seam-tail', batchSize: 10, pauseMs: 2 });
    await waitUntil(() => writer.written >= 200, 'the writer under way');
    const client = open('seam-tail', { tail: 50 });
    const seen = record(client);
    const lastSeq = await subscribedOnce(client);
    await waitUntil(() => seen.log.length > 300, 'tail and live lines');
    const total = 500 + (await writer.stop());
    await waitUntil(() => client.lastSeq === total, `seq ${total}`);
    expect(seen.log.map((e) => e.seq)).toEqual(range(lastSeq - 49, total));
  });

  it('resumes a live-only subscription from where it started, and `since` from the given seq', async () => {
    await rest.postLogs('since-only', lines(10));
    const client = open('since-only', { since: 7 });
    const seen = record(client);
    await waitUntil(() => seen.log.length === 3, 'lines 8-10');
    expect(seen.log.map((e) => e.seq)).toEqual([8, 9, 10]);
  });

  it('resumes a live-only subscription after a disconnect with the lines written meanwhile', async () => {
    await rest.postLogs('live-resume', lines(3));
    const client = open('live-resume');
    const seen = record(client);
    expect(await subscribedOnce(client)).toBe(3);
    await client.disconnect();
    await rest.postLogs('live-resume', lines(2, (i) => ({ message: `while away ${i}` })));
    client.connect();
    await waitUntil(() => seen.log.length === 2, 'the lines written while away');
    expect(seen.log.map((e) => [e.seq, e.message])).toEqual([
      [4, 'while away 1'],
      [5, 'while away 2'],
    ]);
  });

  it('asks the server for the given sources and levels only', async () => {
    const client = open('filtered', { sources: ['stderr'], levels: ['WARN', 'ERROR'] });
    const seen = record(client);
    await subscribedOnce(client);
    await rest.postLogs('filtered', [
      { source: 'stdout', level: 'ERROR', message: 'stdout error' },
      { source: 'stderr', level: 'INFO', message: 'stderr info' },
      { source: 'stderr', level: 'WARN', message: 'stderr warn' },
      { source: 'stderr', level: 'ERROR', message: 'stderr error' },
    ]);
    await waitUntil(() => seen.log.length === 2, 'two matching lines');
    await sleep(100);
    expect(seen.log.map((e) => e.message)).toEqual(['stderr warn', 'stderr error']);
    expect(client.lastSeq).toBe(4);
  });

  it('emits `partial` events (lines being written) only to a client listening to `partial` when it subscribed', async () => {
    const watcher = new LogStreamingClient('partial-events', { url: server.wsUrl, autoConnect: false });
    clients.push(watcher);
    const partials: PartialMessage[] = [];
    watcher.on('partial', (message) => partials.push(message));
    watcher.connect();
    const plain = open('partial-events');
    const plainTypes: string[] = [];
    plain.handleMessage = ((original) => (value: unknown) => {
      plainTypes.push(String((value as { type?: unknown }).type));
      original(value);
    })(plain.handleMessage.bind(plain));
    await Promise.all([subscribedOnce(watcher), subscribedOnce(plain)]);
    await using agent = await connectClient(`${server.wsUrl}/partial-events`);
    const runId = '3a2b1c0d-3333-4e5f-8a9b-0c1d2e3f4a5b';
    agent.send({ type: 'partial', source: 'stdout', runId, lineNumber: 1, text: 'progress 50%', timestamp: new Date().toISOString() });
    await waitUntil(() => partials.length === 1, 'a partial event');
    expect(partials[0]).toMatchObject({ type: 'partial', taskId: 'partial-events', source: 'stdout', runId, lineNumber: 1, text: 'progress 50%' });
    await rest.postLogs('partial-events', { source: 'stdout', level: 'INFO', message: 'progress 100%' });
    await waitUntil(() => plain.lastSeq === 1 && watcher.lastSeq === 1, 'the stored line');
    expect(plainTypes).not.toContain('partial');
  });

  it('emits `task` events when the task starts and finishes', async () => {
    const client = open('task-events');
    const tasks: TaskMessage[] = [];
    client.on('task', (message) => tasks.push(message));
    await subscribedOnce(client);
    await rest.postLogs('task-events', { source: 'agent', level: 'INFO', message: 'started', metadata: { event: 'started' } });
    await rest.postLogs('task-events', { source: 'agent', level: 'ERROR', message: 'exited with 2', metadata: { event: 'exited', exitCode: 2 } });
    await waitUntil(() => tasks.length === 2, 'two task events');
    expect(tasks).toEqual([
      { type: 'task', taskId: 'task-events', status: 'running', lastSeq: 1 },
      { type: 'task', taskId: 'task-events', status: 'failed', exitCode: 2, lastSeq: 2 },
    ]);
  });

  it('passes server error frames on as `error` events', async () => {
    const client = open('errors');
    const errors: ErrorMessage[] = [];
    client.on('error', (message) => errors.push(message));
    await subscribedOnce(client);
    client.ws?.send('not json');
    await waitUntil(() => errors.length === 1, 'an error event');
    expect(errors[0]).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE_FORMAT' });
    expect(client.state).toBe('open');
  });
});

describe("the usage guide's API: handleMessage, on, emit, disconnect", () => {
  it('handleMessage never delivers a seq twice or out of order, from `log` and `logs` frames alike', () => {
    const client = new LogStreamingClient('handled', { autoConnect: false });
    const seen = record(client);
    client.handleMessage({ type: 'log', ...entry(5) });
    client.handleMessage({ type: 'log', ...entry(5) });
    client.handleMessage({ type: 'log', ...entry(3) });
    client.handleMessage({ type: 'logs', taskId: 'handled', entries: [entry(4), entry(5), entry(6), entry(7)] });
    client.handleMessage({ type: 'logs', taskId: 'handled', entries: [entry(7)] });
    expect(seen.log.map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(seen.logs.map((e) => e.seq)).toEqual([5, 6, 7]);
    expect(client.lastSeq).toBe(7);
    expect(client.state).toBe('closed');
  });

  it('handleMessage emits ping, subscribed, task and error, reports a malformed message as INVALID_MESSAGE_FORMAT, and skips unknown types', () => {
    const client = new LogStreamingClient('handled', { autoConnect: false });
    const events: [string, unknown][] = [];
    for (const name of ['ping', 'subscribed', 'task', 'error', 'log'] as const) client.on(name, (data) => events.push([name, data]));
    const ping = { type: 'ping', timestamp: '2026-01-01T00:00:00.000Z' };
    const subscribed = { type: 'subscribed', taskId: 'handled', timestamp: '2026-01-01T00:00:00.000Z', lastSeq: 0 };
    const task = { type: 'task', taskId: 'handled', status: 'succeeded', exitCode: 0 };
    const error = { type: 'error', code: 'RATE_LIMIT_EXCEEDED', message: 'slow down', timestamp: '2026-01-01T00:00:00.000Z' };
    for (const message of [ping, subscribed, task, error, { type: 'brand-new-type' }]) client.handleMessage(message);
    client.handleMessage({ type: 'log', seq: 1, message: 'no level, no source' });
    expect(events.slice(0, 4)).toEqual([
      ['ping', ping],
      ['subscribed', subscribed],
      ['task', task],
      ['error', error],
    ]);
    expect(events).toHaveLength(5);
    expect(events[4]?.[0]).toBe('error');
    expect(events[4]?.[1]).toMatchObject({ type: 'error', code: 'INVALID_MESSAGE_FORMAT' });
    expect(String((events[4]?.[1] as ErrorMessage).message)).toMatch(/log message/);
  });

  it('on returns an undo, off removes, emit calls every listener with the data (custom events too)', () => {
    const client = new LogStreamingClient('emitter', { autoConnect: false });
    const calls: string[] = [];
    const first = (data: ErrorMessage) => calls.push(`first ${data.message}`);
    const undo = client.on('error', first);
    client.on('error', (data) => calls.push(`second ${data.message}`));
    const error: ErrorMessage = { type: 'error', code: 'DATABASE_ERROR', message: 'x', timestamp: 't' };
    client.emit('error', error);
    undo();
    client.emit('error', error);
    client.on('maxReconnectAttemptsReached', () => calls.push('max'));
    client.emit('maxReconnectAttemptsReached');
    expect(calls).toEqual(['first x', 'second x', 'second x', 'max']);
  });

  it('disconnect() closes for good: no reconnect, state `closed`', async () => {
    const client = open('disconnect', { reconnectInterval: 10 });
    await subscribedOnce(client);
    const states: string[] = [];
    client.on('state', (change) => states.push(change.state));
    await client.disconnect();
    await sleep(200);
    expect(states).toEqual(['closed']);
    expect(client.ws).toBeNull();
    // connect() after disconnect() starts again and resumes.
    client.connect();
    await subscribedOnce(client);
    expect(client.state).toBe('open');
    // connect() right after disconnect(), before the close completes: both settle.
    const closing = client.disconnect();
    client.connect();
    await closing;
    await subscribedOnce(client);
    expect(client.state).toBe('open');
    await client.disconnect();
  });

  it('gives up after maxReconnectAttempts with backoff and emits maxReconnectAttemptsReached', async () => {
    const port = await freePort();
    const client = new LogStreamingClient('nobody-home', { url: `ws://127.0.0.1:${port}/ws/tasks`, reconnectInterval: 20, maxReconnectAttempts: 3 });
    clients.push(client);
    const changes: ConnectionStateChange[] = [];
    client.on('state', (change) => changes.push(change));
    const gaveUp = new Promise<void>((resolve) => client.on('maxReconnectAttemptsReached', () => resolve()));
    await gaveUp;
    expect(client.state).toBe('closed');
    const attempts = changes.filter((c) => c.state === 'reconnecting');
    expect(attempts.map((c) => c.attempt)).toEqual([1, 2, 3]);
    for (const change of attempts) {
      const ceiling = 20 * 2 ** ((change.attempt ?? 1) - 1);
      expect(change.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(change.delayMs).toBeLessThanOrEqual(ceiling);
    }
    expect(client.reconnectAttempts).toBe(3);
  });

  it('sends the token as the `token` query parameter and the task id in the path', async () => {
    const seen: string[] = [];
    const recorder = createServer();
    recorder.on('upgrade', (request: IncomingMessage, socket) => {
      seen.push(request.url ?? '');
      socket.destroy();
    });
    await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = recorder.address() as AddressInfo;
      const client = new LogStreamingClient('task.with-chars_1', { url: `ws://127.0.0.1:${port}/ws/tasks/`, token: 'a b&c', maxReconnectAttempts: 0 });
      await new Promise<void>((resolve) => client.on('maxReconnectAttemptsReached', () => resolve()));
      expect(seen).toEqual(['/ws/tasks/task.with-chars_1?token=a+b%26c']);
    } finally {
      recorder.close();
    }
  });

  it('rejects a bad task id and bad options with errors that name them', () => {
    expect(() => new LogStreamingClient('no spaces', { autoConnect: false })).toThrow(KerutaClientError);
    expect(() => new LogStreamingClient('no spaces', { autoConnect: false })).toThrow(/taskId/);
    expect(() => new LogStreamingClient('t', { url: 'ftp://x', autoConnect: false })).toThrow(/options\.url/);
    expect(() => new LogStreamingClient('t', { levels: ['LOUD' as 'INFO'], autoConnect: false })).toThrow(/levels\[0\].*DEBUG, INFO, WARN, ERROR/);
    expect(() => new LogStreamingClient('t', { tail: -1, autoConnect: false })).toThrow(/tail/);
    expect(() => new LogStreamingClient('t', { reconnectInterval: Number.NaN, autoConnect: false })).toThrow(/reconnectInterval/);
    const client = new LogStreamingClient('t', { url: 'http://127.0.0.1:9/ws/tasks/', autoConnect: false, maxReconnectAttempts: Infinity });
    expect(client.options.url).toBe('ws://127.0.0.1:9/ws/tasks');
    expect(client.options.reconnectInterval).toBe(5000);
    expect(client.options.maxReconnectAttempts).toBe(Infinity);
  });
});
